// The backend interface (ggml-backend's shape): backends own buffers, run whole graphs asynchronously,
// and register by name so that models and tools pick one without importing it.
import type { Tensor } from "./tensor.js";
import type { Graph } from "./graph.js";

export interface BackendBuffer {
  readonly backend: Backend;
  readonly size: number;
  /** True for the scratch arena a backend places graph intermediates in. */
  readonly isArena?: boolean;
  free(): void;
}

export interface DeviceInfo {
  name: string;
  description: string;
  memoryBytes?: number;
  threads?: number;
  [k: string]: unknown;
}

export type Availability = { ok: true } | { ok: false; reason: string };

/** Time one backend spent on one kind of node (op and type of its first source) over the profiled graphs. */
export interface OpTiming {
  op: string;
  /** Type name of the node's first source ("" without sources). */
  type: string;
  count: number;
  ns: number;
  /** Mean threads per node. */
  threads: number;
}

export interface Backend {
  readonly name: string;
  deviceInfo(): DeviceInfo;
  allocBuffer(size: number): BackendBuffer;
  /**
   * A buffer holding bytes [offset, offset+size) of a file (GGUF weights): mmapped where the backend can,
   * streamed in chunks otherwise. Tensors bound to it are read-only.
   */
  bufferFromFile(path: string, offset: number, size: number): Promise<BackendBuffer>;
  /** Binds a root tensor to bytes of a buffer of this backend. */
  bind(t: Tensor, buffer: BackendBuffer, offset: number): void;
  setTensor(t: Tensor, data: ArrayBufferView, offset?: number): Promise<void>;
  /** Raw bytes of t's span (t.nBytes from its first element), or of [offset, offset+size) within it, as a new array
   *  the caller owns (never a view of backend memory). */
  getTensor(t: Tensor, offset?: number, size?: number): Promise<Uint8Array>;
  supportsOp(node: Tensor): boolean;
  /** Runs every node; leaves with host data and no buffer are uploaded first. */
  compute(graph: Graph): Promise<void>;
  /**
   * Optional per-op timing: returns what was accumulated since the previous call (then cleared) and switches
   * timing on or off for the graphs that follow.
   */
  profile?(enable: boolean): OpTiming[];
  dispose(): void;
}

export interface BackendOptions {
  threads?: number;
  [k: string]: unknown;
}

export interface BackendFactory {
  readonly name: string;
  /** Higher wins when picking the best available backend. */
  readonly priority: number;
  available(): Promise<Availability>;
  create(opts?: BackendOptions): Promise<Backend>;
}

const registry = new Map<string, BackendFactory>();

export function registerBackend(f: BackendFactory): void { registry.set(f.name, f); }
export function backendFactories(): BackendFactory[] { return [...registry.values()].sort((a, b) => b.priority - a.priority); }

/** Creates a backend by name, or the best available one for "best"/undefined. */
export async function createBackend(name?: string, opts?: BackendOptions): Promise<Backend> {
  if (name && name !== "best") {
    const f = registry.get(name);
    if (!f) throw new Error(`unknown backend "${name}" (registered: ${[...registry.keys()].join(", ") || "none"})`);
    const a = await f.available();
    if (!a.ok) throw new Error(`backend "${name}" is not available: ${a.reason}`);
    return f.create(opts);
  }
  const reasons: string[] = [];
  for (const f of backendFactories()) {
    const a = await f.available();
    if (a.ok) return f.create(opts);
    reasons.push(`${f.name}: ${a.reason}`);
  }
  throw new Error(`no backend available (${reasons.join("; ") || "none registered"})`);
}
