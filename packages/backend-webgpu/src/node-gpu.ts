// The only Node-specific module: Dawn's GPU object from the `webgpu` package, and chunked file reads.
// Loaded dynamically, and only when navigator.gpu is absent, so browser bundles never pull it in.
import { mkdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** dawn.node crashes if its instance is collected while a device lives, so it is held for the process lifetime. */
let instance: GPU | null = null;

export async function nodeGpu(): Promise<GPU> {
  if (instance) return instance;
  if (!process.env.XDG_RUNTIME_DIR) {
    // Dawn warns on stderr without a runtime dir; any writable directory silences it.
    const dir = join(tmpdir(), `ggts-xdg-${process.getuid?.() ?? 0}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const mod = await import("webgpu");
  instance = mod.create([]) as GPU;
  (globalThis as Record<string, unknown>).__ggtsDawnInstance = instance;
  return instance;
}

/** Reads [offset, offset+size) of a file in chunks, handing each to sink (which may await). */
export async function readFileChunks(path: string, offset: number, size: number, chunk: number,
                                     sink: (bytes: Uint8Array, at: number) => Promise<void> | void): Promise<void> {
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(Math.min(chunk, Math.max(size, 1)));
    for (let done = 0; done < size; ) {
      const want = Math.min(buf.byteLength, size - done);
      const { bytesRead } = await fh.read(buf, 0, want, offset + done);
      if (bytesRead !== want) throw new Error(`webgpu: ${path} ended at byte ${offset + done + bytesRead}, expected ${offset + size}`);
      await sink(buf.subarray(0, want), done);
      done += want;
    }
  } finally { await fh.close(); }
}
