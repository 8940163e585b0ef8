// A small worker pool for synth chunks; results come back through promises, in any order.

import { Worker } from "node:worker_threads";
import { ChunkJob } from "./generate.js";

export class ChunkPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; job: ChunkJob }[] = [];
  private readonly pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(n: number, url: URL) {
    for (let i = 0; i < n; i++) {
      const w = new Worker(url);
      w.on("message", (m: { id: number; out?: Uint8Array; error?: string }) => {
        const p = this.pending.get(m.id)!;
        this.pending.delete(m.id);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.out!);
        this.idle.push(w);
        this.pump();
      });
      w.on("error", (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(job: ChunkJob): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, job });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      this.idle.pop()!.postMessage(this.queue.shift()!);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
