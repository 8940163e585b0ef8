// CudaBackend: device buffers (cudaMalloc), weights streamed from files, whole graphs run in one native call.
import {
  placeGraph, serializeGraph, storageOf,
  type ArenaState, type Backend, type BackendBuffer, type BackendOptions, type DeviceInfo, type Graph, type Tensor,
} from "@ggts/tensor";
import { loadAddon, type CudaAddon } from "./native.js";
import { cudaSupportsOp } from "./support.js";

export class CudaBuffer implements BackendBuffer {
  private freed = false;
  constructor(readonly backend: CudaBackend, readonly handle: number, readonly size: number,
              readonly isArena = false, readonly readonly = false) {}
  get isFreed(): boolean { return this.freed; }
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.backend.addon.free(this.handle);
  }
}

export class CudaBackend implements Backend {
  readonly name = "cuda";
  readonly addon: CudaAddon;
  private readonly ctx: number;
  private state: ArenaState = { arena: null };
  private disposed = false;

  constructor(_opts: BackendOptions = {}) {
    this.addon = loadAddon();
    this.ctx = this.addon.createContext();
  }

  deviceInfo(): DeviceInfo {
    const d = this.addon.deviceInfo();
    return {
      ...d,
      name: "cuda",
      description: d.name ? `${d.name} (compute ${d.computeCapability}, ${d.multiprocessors} SMs)` : `CUDA: ${d.error ?? "unknown device"}`,
      memoryBytes: d.memoryBytes,
    };
  }

  private alive(): void { if (this.disposed) throw new Error("cuda: backend was disposed"); }

  allocBuffer(size: number, isArena = false): CudaBuffer {
    this.alive();
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`cuda: allocBuffer: bad size ${size}`);
    return new CudaBuffer(this, this.addon.alloc(size), size, isArena);
  }

  async bufferFromFile(path: string, offset: number, size: number): Promise<CudaBuffer> {
    this.alive();
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(size) || size < 0) {
      throw new Error(`cuda: bufferFromFile(${path}): bad range offset=${offset} size=${size}`);
    }
    const b = new CudaBuffer(this, this.addon.alloc(size, true), size, false, true);
    try {
      await this.addon.loadFile(b.handle, 0, path, offset, size);
    } catch (e) {
      b.free();
      throw e;
    }
    return b;
  }

  bind(t: Tensor, buffer: BackendBuffer, offset: number): void {
    if (t.viewSrc) throw new Error(`bind: ${t} is a view; bind its root`);
    if (!(buffer instanceof CudaBuffer) || buffer.backend !== this) throw new Error(`bind: buffer belongs to backend ${buffer.backend.name}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + t.nBytes > buffer.size) {
      throw new Error(`bind: ${t} (${t.nBytes} bytes) at offset ${offset} exceeds the buffer's ${buffer.size} bytes`);
    }
    t.buffer = buffer;
    t.offset = offset;
  }

  private where(t: Tensor): { buf: CudaBuffer; offset: number } {
    const { buffer, offset } = storageOf(t);
    if (!(buffer instanceof CudaBuffer) || buffer.backend !== this) throw new Error(`cuda: ${t} is not in a cuda buffer of this backend`);
    if (buffer.isFreed) throw new Error(`cuda: ${t}'s buffer was freed`);
    return { buf: buffer, offset };
  }

  async setTensor(t: Tensor, data: ArrayBufferView, offset = 0): Promise<void> {
    this.alive();
    const { buf, offset: o } = this.where(t);
    if (offset < 0 || offset + data.byteLength > t.nBytes) throw new Error(`setTensor: ${data.byteLength} bytes at ${offset} exceed ${t}'s ${t.nBytes}`);
    if (buf.readonly) throw new Error(`setTensor: ${t} lives in a read-only weight buffer`);
    this.addon.upload(this.ctx, buf.handle, o + offset, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  async getTensor(t: Tensor, offset = 0, size = t.nBytes - offset): Promise<Uint8Array> {
    this.alive();
    const { buf, offset: o } = this.where(t);
    if (offset < 0 || size < 0 || offset + size > t.nBytes) throw new Error(`getTensor: range [${offset}, ${offset + size}) outside ${t}`);
    return this.addon.download(this.ctx, buf.handle, o + offset, size);
  }

  supportsOp(node: Tensor): boolean { return cudaSupportsOp(node); }

  async compute(graph: Graph): Promise<void> {
    this.alive();
    const { plan, uploads } = placeGraph(this, graph, this.state, (size) => this.allocBuffer(size, true));
    for (const l of uploads) await this.setTensor(l, l.data!);
    const slots = new Map<CudaBuffer, number>();
    const handles: number[] = [];
    const place = (root: Tensor): [number, number] => {
      const b = root.buffer;
      if (!(b instanceof CudaBuffer) || b.backend !== this) throw new Error(`cuda: ${root} is not in a cuda buffer of this backend`);
      if (b.isFreed) throw new Error(`cuda: ${root}'s buffer was freed`);
      let s = slots.get(b);
      if (s === undefined) { s = handles.length; slots.set(b, s); handles.push(b.handle); }
      return [s, root.offset];
    };
    const ser = serializeGraph(graph, place, plan.inplace);
    this.addon.compute(this.ctx, ser.records, Int32Array.from(handles));
  }

  dispose(): void {
    if (this.disposed) return;
    this.state.arena?.free();
    this.state.arena = null;
    this.addon.destroyContext(this.ctx);
    this.disposed = true;
  }
}
