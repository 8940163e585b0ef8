// The pure-TypeScript reference backend: every op, every input type (dequantized on read), f32 results.
// It is the oracle the other backends are checked against, so it favours obviousness over speed.
import type { Backend, BackendBuffer, BackendFactory, DeviceInfo } from "../backend.js";
import { registerBackend } from "../backend.js";
import { Tensor } from "../tensor.js";
import type { Graph } from "../graph.js";
import { placeGraph, storageOf, type ArenaState } from "../alloc.js";
import { VIEW_OPS } from "../ops/spec.js";
import { readDense, writeDense, at, type Dense } from "./dense.js";
import { basicKernels, forEach4, type RefKernel } from "./kernels-basic.js";
import { mathKernels } from "./kernels-math.js";

export const REF_KERNELS: Readonly<Record<string, RefKernel>> = { ...basicKernels, ...mathKernels };

export class HostBuffer implements BackendBuffer {
  constructor(readonly backend: Backend, readonly bytes: Uint8Array, readonly isArena = false) {}
  get size() { return this.bytes.byteLength; }
  free(): void { /* garbage collected */ }
}

export class ReferenceBackend implements Backend {
  readonly name = "reference";
  private state: ArenaState = { arena: null };

  deviceInfo(): DeviceInfo { return { name: "reference", description: "pure TypeScript reference (float64 math)" }; }
  allocBuffer(size: number): HostBuffer { return new HostBuffer(this, new Uint8Array(size)); }

  async bufferFromFile(path: string, offset: number, size: number): Promise<HostBuffer> {
    const fh = await (await import("node:fs/promises")).open(path, "r");
    try {
      const bytes = new Uint8Array(size);
      const { bytesRead } = await fh.read(bytes, 0, size, offset);
      if (bytesRead !== size) throw new Error(`reference: ${path} ended before byte ${offset + size}`);
      return new HostBuffer(this, bytes);
    } finally { await fh.close(); }
  }

  bind(t: Tensor, buffer: BackendBuffer, offset: number): void {
    if (t.viewSrc) throw new Error(`bind: ${t} is a view; bind its root`);
    if (buffer.backend !== this) throw new Error(`bind: buffer belongs to backend ${buffer.backend.name}`);
    if (offset < 0 || offset + t.nBytes > buffer.size) {
      throw new Error(`bind: ${t} (${t.nBytes} bytes) at offset ${offset} exceeds the buffer's ${buffer.size} bytes`);
    }
    t.buffer = buffer; t.offset = offset;
  }

  private bytesOf(t: Tensor): { bytes: Uint8Array; offset: number } {
    const { buffer, offset } = storageOf(t);
    if (!(buffer instanceof HostBuffer) || buffer.backend !== this) throw new Error(`reference: ${t} is not in a reference buffer`);
    return { bytes: buffer.bytes, offset };
  }

  async setTensor(t: Tensor, data: ArrayBufferView, offset = 0): Promise<void> {
    const { bytes, offset: o } = this.bytesOf(t);
    if (offset + data.byteLength > t.nBytes) throw new Error(`setTensor: ${data.byteLength} bytes at ${offset} exceed ${t}'s ${t.nBytes}`);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), o + offset);
  }

  async getTensor(t: Tensor, offset = 0, size = t.nBytes - offset): Promise<Uint8Array> {
    const { bytes, offset: o } = this.bytesOf(t);
    if (offset < 0 || size < 0 || offset + size > t.nBytes) throw new Error(`getTensor: range [${offset}, ${offset + size}) outside ${t}`);
    return bytes.slice(o + offset, o + offset + size);
  }

  supportsOp(node: Tensor): boolean { return VIEW_OPS.has(node.op) || node.op in REF_KERNELS; }

  async compute(graph: Graph): Promise<void> {
    const { uploads } = placeGraph(this, graph, this.state, (size) => new HostBuffer(this, new Uint8Array(size), true));
    for (const l of uploads) await this.setTensor(l, l.data!);
    for (const n of graph.nodes) {
      if (VIEW_OPS.has(n.op)) continue;
      const k = REF_KERNELS[n.op];
      if (!k) throw new Error(`reference: op ${n.op} has no kernel`);
      const src = n.src.map((s) => { const { bytes, offset } = this.bytesOf(s); return readDense(s, bytes, offset); });
      const out = k(n, src);
      const { bytes, offset } = this.bytesOf(n);
      if (n.op === "SET_ROWS") writeSetRows(n, src, out, bytes, offset);
      else writeDense(n, bytes, offset, out);
    }
  }

  dispose(): void { this.state.arena = null; }
}

/**
 * SET_ROWS stores only the rows it targets: rewriting the whole destination would re-quantize untouched
 * quantized rows, which is not always the identity.
 */
function writeSetRows(n: Tensor, src: Dense[], out: Float64Array, bytes: Uint8Array, offset: number): void {
  const [, s, idx] = src;
  const n0 = n.ne[0];
  const row = new Tensor(n.type, [n0, 1, 1, 1], n.nb);
  forEach4([1, s.ne[1], s.ne[2], s.ne[3]], (_i0, j, b2, b3) => {
    const r = idx.v[at(idx.ne, j, b2 % idx.ne[1], b3 % idx.ne[2])];
    const o = at(n.ne, 0, r, b2, b3);
    writeDense(row, bytes, offset + r * n.nb[1] + b2 * n.nb[2] + b3 * n.nb[3], out.subarray(o, o + n0));
  });
}

export const referenceBackendFactory: BackendFactory = {
  name: "reference",
  priority: 0,
  available: async () => ({ ok: true }),
  create: async () => new ReferenceBackend(),
};
registerBackend(referenceBackendFactory);
