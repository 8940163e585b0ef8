// CpuBackend: the Backend interface over the native addon. Buffers live in native memory; a graph is validated
// and executed by native code in one asynchronous call per compute().
import os from "node:os";
import {
  Graph, Tensor, VIEW_OPS, placeGraph, serializeGraph, storageOf,
  type ArenaState, type Backend, type BackendBuffer, type BackendOptions, type DeviceInfo, type OpTiming,
} from "@ggts/tensor";
import { loadAddon, type CpuAddon, type NativeHandle } from "./native.js";
import { cpuSupportsOp } from "./support.js";

interface PreparedGraph {
  graph: Graph;
  arena: BackendBuffer | null;
  records: Float64Array;
  count: number;
  tensors: readonly Tensor[];
  uploads: readonly Tensor[];
  buffers: CpuBuffer[];
  /** Every root the records point into, with the buffer and offset it had when serialised. */
  roots: Tensor[];
  rootBuffers: (BackendBuffer | null)[];
  rootOffsets: number[];
}

export class CpuBuffer implements BackendBuffer {
  private handle_: NativeHandle | null;
  constructor(readonly backend: CpuBackend, handle: NativeHandle, readonly size: number,
              readonly isArena = false, readonly readOnly = false) {
    this.handle_ = handle;
  }
  get freed(): boolean { return this.handle_ === null; }
  /** The native handle; throws once the buffer is freed. */
  get handle(): NativeHandle {
    if (!this.handle_) throw new Error(`cpu: buffer of ${this.size} bytes was freed`);
    return this.handle_;
  }
  /** Releases the native memory now (a graph still running on it keeps it until it finishes). */
  free(): void {
    if (this.handle_) { this.backend.addon.freeBuffer(this.handle_); this.handle_ = null; }
  }
}

/** Physical cores when the addon can count them, else os.availableParallelism(). */
export function defaultThreads(addon: CpuAddon): number {
  const phys = addon.physicalCores();
  return phys > 0 ? phys : os.availableParallelism();
}

export class CpuBackend implements Backend {
  readonly name = "cpu";
  readonly threads: number;
  readonly addon: CpuAddon;
  private ctx: NativeHandle | null;
  private state: ArenaState = { arena: null };
  private tail: Promise<unknown> = Promise.resolve();

  constructor(opts: BackendOptions = {}) {
    this.addon = loadAddon();
    const t = opts.threads ?? defaultThreads(this.addon);
    if (!Number.isInteger(t) || t < 1 || t > 512) throw new Error(`cpu: threads must be an integer in 1..512, got ${t}`);
    this.threads = t;
    // splitMinNs: nodes whose estimated single-thread cost is below it run on one thread without barriers
    // (0 splits every node, which tests use to exercise the multi-thread kernels on small shapes).
    const split = opts.splitMinNs;
    if (split !== undefined && (typeof split !== "number" || !(split >= 0))) {
      throw new Error(`cpu: splitMinNs must be a non-negative number, got ${String(split)}`);
    }
    this.ctx = this.addon.createContext(t, split);
  }

  deviceInfo(): DeviceInfo {
    const b = this.addon.buildInfo();
    const simd = [b.avx512f && "avx512f", b.avx2 && "avx2", b.fma && "fma"].filter(Boolean).join(",");
    return {
      name: "cpu",
      description: `${os.cpus()[0]?.model?.trim() ?? "CPU"} (${this.threads} threads; ${simd}${b.blas ? "; OpenBLAS" : ""})`,
      memoryBytes: os.totalmem(),
      threads: this.threads,
      blas: b.blas,
    };
  }

  private context(): NativeHandle {
    if (!this.ctx) throw new Error("cpu: backend was disposed");
    return this.ctx;
  }

  /** Runs fn after every earlier queued operation (buffer copies must not race a running graph). */
  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }

  allocBuffer(size: number): CpuBuffer { return this.newBuffer(size, false); }

  private newBuffer(size: number, isArena: boolean): CpuBuffer {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`cpu: allocBuffer size must be a non-negative integer, got ${size}`);
    this.context();
    return new CpuBuffer(this, this.addon.allocBuffer(size), size, isArena);
  }

  async bufferFromFile(path: string, offset: number, size: number): Promise<CpuBuffer> {
    for (const [k, v] of [["offset", offset], ["size", size]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`cpu: bufferFromFile ${k} must be a non-negative integer, got ${v}`);
    }
    this.context();
    return new CpuBuffer(this, this.addon.mapFile(path, offset, size), size, false, true);
  }

  bind(t: Tensor, buffer: BackendBuffer, offset: number): void {
    if (t.viewSrc) throw new Error(`bind: ${t} is a view; bind its root`);
    if (!(buffer instanceof CpuBuffer) || buffer.backend !== this) throw new Error(`bind: buffer belongs to backend ${buffer.backend.name}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + t.nBytes > buffer.size) {
      throw new Error(`bind: ${t} (${t.nBytes} bytes) at offset ${offset} exceeds the buffer's ${buffer.size} bytes`);
    }
    t.buffer = buffer; t.offset = offset;
  }

  private storage(t: Tensor): { buf: CpuBuffer; offset: number } {
    const { buffer, offset } = storageOf(t);
    if (!(buffer instanceof CpuBuffer) || buffer.backend !== this) throw new Error(`cpu: ${t} is not in a buffer of this backend`);
    return { buf: buffer, offset };
  }

  private writeTensor(t: Tensor, data: ArrayBufferView, offset = 0): void {
    const { buf, offset: o } = this.storage(t);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.byteLength > t.nBytes) {
      throw new Error(`setTensor: ${data.byteLength} bytes at ${offset} exceed ${t}'s ${t.nBytes}`);
    }
    if (buf.readOnly) throw new Error(`setTensor: ${t} lives in a read-only file mapping`);
    this.addon.setBytes(buf.handle, o + offset, data);
  }

  setTensor(t: Tensor, data: ArrayBufferView, offset = 0): Promise<void> {
    return this.serial(() => this.writeTensor(t, data, offset));
  }

  getTensor(t: Tensor, offset = 0, size = t.nBytes - offset): Promise<Uint8Array> {
    return this.serial(() => {
      const { buf, offset: o } = this.storage(t);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size < 0 || offset + size > t.nBytes) {
        throw new Error(`getTensor: range [${offset}, ${offset + size}) outside ${t}`);
      }
      return this.addon.getBytes(buf.handle, o + offset, size);
    });
  }

  supportsOp(node: Tensor): boolean { return cpuSupportsOp(node, this.mulMatSupports); }

  // Asked for every MUL_MAT of every compute: remember the native answer per type.
  private readonly mmSupport = new Map<number, boolean>();
  private readonly mulMatSupports = (type: number): boolean => {
    let ok = this.mmSupport.get(type);
    if (ok === undefined) { ok = this.addon.mulMatSupports(type); this.mmSupport.set(type, ok); }
    return ok;
  };

  compute(graph: Graph): Promise<void> {
    return this.serial(async () => {
      const ctx = this.context();
      const prepared = this.reusable(graph) ?? this.prepare(graph);
      for (const l of prepared.uploads) this.writeTensor(l, l.data!);
      const handles = prepared.buffers.map((b) => b.handle);
      try {
        await this.addon.compute(ctx, prepared.records, prepared.count, handles);
      } catch (e) {
        throw nameNode(e, prepared.tensors);
      }
    });
  }

  // The last graph computed, serialised: computing the same Graph again (benchmarks, fixed-shape loops) skips
  // planning and serialisation when every root still sits where it was placed.
  private last: PreparedGraph | null = null;

  private reusable(graph: Graph): PreparedGraph | null {
    const p = this.last;
    if (!p || p.graph !== graph || p.arena !== this.state.arena) return null;
    for (let i = 0; i < p.roots.length; i++) {
      const r = p.roots[i];
      if (r.buffer !== p.rootBuffers[i] || r.offset !== p.rootOffsets[i]) return null;
    }
    return p;
  }

  private prepare(graph: Graph): PreparedGraph {
    this.last = null;
    for (const n of graph.nodes) {
      if (!VIEW_OPS.has(n.op) && !this.supportsOp(n)) throw new Error(`cpu: unsupported node ${n} (${n.src.map((s) => s.typeName).join(", ")})`);
    }
    const { plan, uploads } = placeGraph(this, graph, this.state, (size) => this.newBuffer(size, true), 64);
    const slots = new Map<CpuBuffer, number>();
    const buffers: CpuBuffer[] = [];
    const roots: Tensor[] = [];
    const pair: [number, number] = [0, 0];  // serializeGraph reads it at once: one array for all roots
    const place = (root: Tensor): [number, number] => {
      const b = root.buffer;
      if (!(b instanceof CpuBuffer) || b.backend !== this) throw new Error(`cpu: ${root} is not in a buffer of this backend`);
      let s = slots.get(b);
      if (s === undefined) { s = buffers.length; slots.set(b, s); buffers.push(b); }
      roots.push(root);
      pair[0] = s; pair[1] = root.offset;
      return pair;
    };
    const ser = serializeGraph(graph, place, plan.inplace);
    const prepared: PreparedGraph = {
      graph, arena: this.state.arena, records: ser.records, count: ser.count, tensors: ser.tensors, uploads, buffers,
      roots, rootBuffers: roots.map((r) => r.buffer), rootOffsets: roots.map((r) => r.offset),
    };
    this.last = prepared;
    return prepared;
  }

  profile(enable: boolean): OpTiming[] { return this.addon.profile(this.context(), enable); }

  /** Native allocation counters (live buffers/bytes/mappings), for leak checks. */
  stats() { return this.addon.stats(); }

  dispose(): void {
    this.last = null;
    if (!this.ctx) return;
    this.addon.destroyContext(this.ctx);
    this.ctx = null;
    this.state.arena?.free();
    this.state.arena = null;
  }
}

/** Rewrites a native "record N" error to name the tensor. */
function nameNode(e: unknown, tensors: readonly Tensor[]): Error {
  if (!(e instanceof Error)) return new Error(String(e));
  const rec = (e as Error & { record?: number }).record;
  if (typeof rec !== "number" || !tensors[rec]) return e;
  const t = tensors[rec];
  const msg = e.message.replace(/^cpu: record \d+( \([A-Z_]+\))?: /, "");
  const err = new Error(`cpu: node ${t} (record ${rec}): ${msg}`);
  (err as Error & { record?: number }).record = rec;
  return err;
}

