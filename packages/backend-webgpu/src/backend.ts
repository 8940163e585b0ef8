// WebGpuBackend: places a graph in one pooled arena, encodes every node as WGSL compute dispatches in one
// compute pass and submits once. Nodes without a kernel (or too large to bind) run on the host via the
// reference kernels when hostFallback is on, splitting the submission there.
import {
  GgmlType, Graph, REF_KERNELS, VIEW_OPS, placeGraph, readDense, storageOf, writeDense, typeTraits,
  type ArenaState, type Backend, type BackendBuffer, type BackendOptions, type DeviceInfo, type Tensor,
} from "@ggts/tensor";
import { WebGpuBuffer } from "./buffer.js";
import { BindingTooLarge, planBindings, rowsAreFlat, type SlotRange } from "./bindings.js";
import { MAP_READ_MODE, STAGE_COMPUTE, USAGE, requestAdapter, requestDevice } from "./gpu.js";
import { KERNELS } from "./kernels/index.js";
import { ROW_HI, ROW_LO, type BuildContext, type KernelSpec } from "./kernels/spec.js";
import { INT_WORD, PARAM_WORD, UNIFORM_BYTES, buildShader, needsAtomicStore, type SlotDecl } from "./kernels/wgsl.js";

export interface WebGpuOptions extends BackendOptions {
  /** Run nodes without a WGSL kernel on the host (reference kernels). Default true. */
  hostFallback?: boolean;
  /** Caps the storage binding size below the device limit (tests use it to exercise split bindings). */
  maxBindingSize?: number;
  /** Matrix-vector kernel variant; default "rows" on software adapters (llvmpipe), "workgroup" otherwise. */
  matvec?: BuildContext["matvec"];
  /** f16 arithmetic in products over f16/quantized weights and in f16-K/V attention, when the device has
   *  shader-f16. Default true; false keeps f32 math everywhere (bit-closer to f64 references). */
  f16?: boolean;
}

interface Dispatch {
  kind: "gpu";
  node: Tensor;
  pipeline: GPUComputePipeline | null;
  pending: Promise<GPUComputePipeline> | null;
  layout: GPUBindGroupLayout;
  bindings: { buffer: GPUBuffer; offset: number; size: number }[];
  uniform: Uint32Array;
  groups: [number, number];
}
interface HostStep { kind: "host"; node: Tensor }
type Step = Dispatch | HostStep;

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;
const SLOT_NAMES = ["d", "s0", "s1", "s2", "s3", "s4", "s5", "s6"];

export class WebGpuBackend implements Backend {
  readonly name = "webgpu";
  readonly hostFallback: boolean;
  /** Ops that ran on the host in the last compute() (empty when everything ran in WGSL). */
  lastHostOps: string[] = [];
  private state: ArenaState = { arena: null };
  private readonly buffers = new Set<WebGpuBuffer>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly compiling = new Map<string, Promise<GPUComputePipeline>>();
  private readonly layouts = new Map<number, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  private uniformBuf: GPUBuffer | null = null;
  private disposed = false;
  readonly maxBinding: number;
  readonly ctx: BuildContext;
  readonly bindAlign: number;
  readonly maxGroupsPerDim: number;

  static async create(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
    const adapter = await requestAdapter();
    const device = await requestDevice(adapter);
    return new WebGpuBackend(device, adapter.info ?? ({} as GPUAdapterInfo), opts);
  }

  constructor(readonly device: GPUDevice, private readonly info: GPUAdapterInfo, opts: WebGpuOptions = {}) {
    this.hostFallback = opts.hostFallback ?? true;
    const software = info.architecture === "software" || /llvmpipe|swiftshader|lavapipe/i.test(info.description ?? "") ||
      (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
    this.ctx = {
      matvec: opts.matvec ?? (software ? "rows" : "workgroup"),
      f16: (opts.f16 ?? true) && device.features.has("shader-f16"),
    };
    this.maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, opts.maxBindingSize ?? Infinity);
    this.bindAlign = device.limits.minStorageBufferOffsetAlignment;
    this.maxGroupsPerDim = device.limits.maxComputeWorkgroupsPerDimension;
    device.lost.then((i) => { if (!this.disposed) console.error(`webgpu: device lost (${i.reason}): ${i.message}`); });
  }

  deviceInfo(): DeviceInfo {
    return {
      name: "webgpu",
      description: [this.info.vendor, this.info.architecture, this.info.description].filter(Boolean).join(" ") || "WebGPU device",
      memoryBytes: this.device.limits.maxBufferSize,
      shaderF16: this.device.features.has("shader-f16"),
      f16Compute: this.ctx.f16,
      maxStorageBufferBindingSize: this.maxBinding,
    };
  }

  // ---- buffers -------------------------------------------------------------------------------------------

  private newBuffer(size: number, isArena: boolean): WebGpuBuffer {
    this.checkAlive();
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`webgpu: allocBuffer: bad size ${size}`);
    const bytes = alignUp(Math.max(size, 4), 256);
    if (bytes > this.device.limits.maxBufferSize) {
      throw new Error(`webgpu: allocBuffer: ${size} bytes exceed the device's maxBufferSize ${this.device.limits.maxBufferSize}`);
    }
    const gpu = this.device.createBuffer({ size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
    const b = new WebGpuBuffer(this, gpu, size, (x) => this.buffers.delete(x), isArena);
    this.buffers.add(b);
    return b;
  }

  allocBuffer(size: number): BackendBuffer { return this.newBuffer(size, false); }

  async bufferFromFile(path: string, offset: number, size: number): Promise<BackendBuffer> {
    const buf = this.newBuffer(size, false);
    const CHUNK = 16 << 20;
    let sinceSync = 0;
    const sink = async (bytes: Uint8Array, at: number) => {
      this.writeAligned(buf.gpu, at, bytes);
      sinceSync += bytes.byteLength;
      // writeBuffer stages a copy; waiting now and then bounds the staged memory.
      if (sinceSync >= 256 << 20) { sinceSync = 0; await this.device.queue.onSubmittedWorkDone(); }
    };
    try {
      if (isNode()) {
        const mod = "./node-gpu.js";
        const { readFileChunks } = (await import(/* @vite-ignore */ mod)) as typeof import("./node-gpu.js");
        await readFileChunks(path, offset, size, CHUNK, sink);
      } else {
        const res = await fetch(path, { headers: { Range: `bytes=${offset}-${offset + size - 1}` } });
        if (!res.ok || !res.body) throw new Error(`webgpu: fetch ${path}: HTTP ${res.status}`);
        const reader = res.body.getReader();
        let at = 0;
        let skip = res.status === 206 ? 0 : offset; // server ignored the range
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          let v = value;
          if (skip) { const k = Math.min(skip, v.byteLength); skip -= k; v = v.subarray(k); }
          v = v.subarray(0, Math.max(0, size - at));
          if (v.byteLength) { await this.writeBytes(buf.gpu, at, v); at += v.byteLength; }
        }
        if (at !== size) throw new Error(`webgpu: ${path} gave ${at} bytes, expected ${size}`);
      }
      await this.device.queue.onSubmittedWorkDone();
    } catch (e) { buf.free(); throw e; }
    return buf;
  }

  bind(t: Tensor, buffer: BackendBuffer, offset: number): void {
    if (t.viewSrc) throw new Error(`bind: ${t} is a view; bind its root`);
    if (!(buffer instanceof WebGpuBuffer) || buffer.backend !== this) throw new Error(`bind: buffer belongs to backend ${buffer.backend.name}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + t.nBytes > buffer.size) {
      throw new Error(`bind: ${t} (${t.nBytes} bytes) at offset ${offset} exceeds the buffer's ${buffer.size} bytes`);
    }
    const tr = typeTraits(t.type);
    const align = tr.blockSize > 1 ? 1 : Math.min(tr.typeSize, 4);
    if (offset % align !== 0) throw new Error(`bind: ${t} at offset ${offset} must be ${align}-byte aligned`);
    t.buffer = buffer; t.offset = offset;
  }

  private gpuOf(t: Tensor): { buf: WebGpuBuffer; offset: number } {
    const { buffer, offset } = storageOf(t);
    if (!(buffer instanceof WebGpuBuffer) || buffer.backend !== this) throw new Error(`webgpu: ${t} is not in a webgpu buffer`);
    if (buffer.isFreed) throw new Error(`webgpu: ${t}'s buffer was freed`);
    return { buf: buffer, offset };
  }

  async setTensor(t: Tensor, data: ArrayBufferView, offset = 0): Promise<void> {
    if (offset < 0 || offset + data.byteLength > t.nBytes) throw new Error(`setTensor: ${data.byteLength} bytes at ${offset} exceed ${t}'s ${t.nBytes}`);
    const { buf, offset: o } = this.gpuOf(t);
    await this.writeBytes(buf.gpu, o + offset, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  async getTensor(t: Tensor, offset = 0, size = t.nBytes - offset): Promise<Uint8Array> {
    if (offset < 0 || size < 0 || offset + size > t.nBytes) throw new Error(`getTensor: range [${offset}, ${offset + size}) outside ${t}`);
    const { buf, offset: o } = this.gpuOf(t);
    return this.readBytes(buf.gpu, o + offset, size);
  }

  /** queue.writeBuffer for a 4-aligned start; pads the tail to whole words (buffers are padded to 256). */
  private writeAligned(gpu: GPUBuffer, at: number, bytes: Uint8Array): void {
    if (bytes.byteLength % 4 === 0) { this.device.queue.writeBuffer(gpu, at, bytes); return; }
    const padded = new Uint8Array(alignUp(bytes.byteLength, 4));
    padded.set(bytes);
    this.device.queue.writeBuffer(gpu, at, padded);
  }

  /** Writes bytes at any byte position: unaligned head/tail words are read back and merged. */
  private async writeBytes(gpu: GPUBuffer, at: number, bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength === 0) return;
    const a0 = at & ~3, a1 = alignUp(at + bytes.byteLength, 4);
    if (a0 === at && (a1 === at + bytes.byteLength)) { this.device.queue.writeBuffer(gpu, at, bytes); return; }
    const merged = new Uint8Array(a1 - a0);
    merged.set(await this.readBytes(gpu, a0, 4), 0);
    if (a1 - 4 > a0) merged.set(await this.readBytes(gpu, a1 - 4, 4), a1 - 4 - a0);
    merged.set(bytes, at - a0);
    this.device.queue.writeBuffer(gpu, a0, merged);
  }

  private async readBytes(gpu: GPUBuffer, at: number, size: number): Promise<Uint8Array> {
    if (size === 0) return new Uint8Array(0);
    const a0 = at & ~3, a1 = alignUp(at + size, 4);
    const staging = this.device.createBuffer({ size: a1 - a0, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(gpu, a0, staging, 0, a1 - a0);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(MAP_READ_MODE);
      return new Uint8Array(staging.getMappedRange()).slice(at - a0, at - a0 + size);
    } finally {
      if (staging.mapState === "mapped") staging.unmap();
      staging.destroy();
    }
  }

  // ---- graph execution -----------------------------------------------------------------------------------

  supportsOp(node: Tensor): boolean {
    if (VIEW_OPS.has(node.op)) return true;
    const b = KERNELS[node.op];
    if (!b) return false;
    try { return b(node, this.ctx) !== null; } catch { return false; }
  }

  /** Serialises compute() calls: they share the arena and the uniform buffer. */
  private queue: Promise<void> = Promise.resolve();

  compute(graph: Graph): Promise<void> {
    const run = this.queue.then(() => this.computeNow(graph));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async computeNow(graph: Graph): Promise<void> {
    this.checkAlive();
    const { uploads } = placeGraph(this, graph, this.state, (size) => this.newBuffer(size, true), 256);
    for (const l of uploads) await this.setTensor(l, l.data!);
    this.device.pushErrorScope("validation");
    const steps: Step[] = [];
    try {
    for (const n of graph.nodes) {
      if (VIEW_OPS.has(n.op) || n.nElements === 0) continue;
      let planned: Dispatch[] | null = null;
      let why = "no WGSL kernel";
      try { planned = this.planNode(n); } catch (e) {
        if (!(e instanceof BindingTooLarge)) throw e;
        why = e.message;
      }
      if (planned) steps.push(...planned);
      else if (this.hostFallback && REF_KERNELS[n.op]) steps.push({ kind: "host", node: n });
      else throw new Error(`webgpu: cannot run ${n} (${why})`);
    }
    this.lastHostOps = steps.filter((s) => s.kind === "host").map((s) => s.node.op);
    // New pipelines compile concurrently (Dawn compiles async pipelines on worker threads).
    for (const s of steps) if (s.kind === "gpu" && !s.pipeline) s.pipeline = await s.pending!;
    await this.run(steps);
    } finally {
      const err = await this.device.popErrorScope();
      await this.device.queue.onSubmittedWorkDone();
      if (err) throw new Error(`webgpu: ${err.message}`);
    }
  }

  private async run(steps: Step[]): Promise<void> {
    const gpuSteps = steps.filter((s): s is Dispatch => s.kind === "gpu");
    const ubytes = gpuSteps.length * UNIFORM_BYTES;
    if (gpuSteps.length) {
      if (!this.uniformBuf || this.uniformBuf.size < ubytes) {
        this.uniformBuf?.destroy();
        this.uniformBuf = this.device.createBuffer({ size: alignUp(ubytes * 1.25, UNIFORM_BYTES), usage: USAGE.UNIFORM | USAGE.COPY_DST });
      }
      const all = new Uint32Array(ubytes / 4);
      gpuSteps.forEach((s, i) => all.set(s.uniform, (i * UNIFORM_BYTES) / 4));
      this.device.queue.writeBuffer(this.uniformBuf, 0, all);
    }
    let u = 0;
    for (let i = 0; i < steps.length; ) {
      const s = steps[i];
      if (s.kind === "host") {
        await this.device.queue.onSubmittedWorkDone();
        await this.runOnHost(s.node);
        i++;
        continue;
      }
      const enc = this.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      for (; i < steps.length && steps[i].kind === "gpu"; i++, u++) {
        const d = steps[i] as Dispatch;
        const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuf!, offset: u * UNIFORM_BYTES, size: UNIFORM_BYTES } }];
        d.bindings.forEach((b, k) => entries.push({ binding: k + 1, resource: { buffer: b.buffer, offset: b.offset, size: b.size } }));
        pass.setPipeline(d.pipeline!);
        pass.setBindGroup(0, this.device.createBindGroup({ layout: d.layout, entries }));
        pass.dispatchWorkgroups(d.groups[0], d.groups[1]);
      }
      pass.end();
      this.device.queue.submit([enc.finish()]);
    }
  }

  private async runOnHost(n: Tensor): Promise<void> {
    const src = await Promise.all(n.src.map(async (s) => readDense(s, await this.getTensor(s), 0)));
    const out = REF_KERNELS[n.op](n, src);
    const bytes = await this.getTensor(n);
    writeDense(n, bytes, 0, out);
    await this.setTensor(n, bytes);
  }

  /** The dispatches of one node, or null when no kernel handles it. */
  private planNode(n: Tensor): Dispatch[] | null {
    const build = KERNELS[n.op];
    const specs = build ? build(n, this.ctx) : null;
    if (!specs) return null;
    const out: Dispatch[] = [];
    for (const spec of Array.isArray(specs) ? specs : [specs]) out.push(...this.planSpec(n, spec));
    return out;
  }

  private planSpec(n: Tensor, spec: KernelSpec): Dispatch[] {
    const slotTensors: [number, Tensor][] = [[0, n], ...spec.bind.map((i) => [i + 1, n.src[i]] as [number, Tensor])];
    const ranges: SlotRange[] = slotTensors.map(([slot, t]) => {
      const { buf, offset } = this.gpuOf(t);
      return { slot, buffer: buf, start: offset, end: offset + Math.max(t.nBytes, 1), origin: offset };
    });
    // src0 larger than one binding: split it into runs of whole rows, one dispatch each.
    const chunks: [number, number][] = [[0, 0xffffffff]];
    const a = n.src[0];
    const r1 = ranges.find((r) => r.slot === 1);
    if (r1 && spec.rowChunked && r1.end - r1.start > this.maxBinding - this.bindAlign && rowsAreFlat(a)) {
      const per = Math.floor((this.maxBinding - this.bindAlign) / a.nb[1]);
      if (per < 1) throw new BindingTooLarge(`webgpu: a row of ${a} exceeds one binding`);
      chunks.length = 0;
      for (let r = 0; r < a.nRows; r += per) chunks.push([r, Math.min(a.nRows, r + per)]);
    }
    const dispatches: Dispatch[] = [];
    for (const [lo, hi] of chunks) {
      const rs = ranges.map((r) => {
        if (r.slot !== 1 || chunks.length === 1) return r;
        const rowBytes = a.nb[1];
        return { ...r, start: r.origin + lo * rowBytes, end: r.origin + (hi - 1) * rowBytes + Math.min(rowBytes, r.end - r.origin) };
      });
      const plan = planBindings(rs, this.bindAlign, this.maxBinding, () => `${n.op} ${n}`);
      const slots: SlotDecl[] = slotTensors.map(([slot, t]) => ({ name: SLOT_NAMES[slot], index: slot, type: t.type, binding: plan.slotBinding.get(slot)! }));
      const dstBinding = plan.slotBinding.get(0)!;
      const atomicDst = needsAtomicStore(n.type);
      const bindingDecls = plan.bindings.map((_, k) => ({ binding: k + 1, atomic: atomicDst && k + 1 === dstBinding }));
      const key = `${spec.key}|wg${spec.wg}|${slots.map((s) => `${s.name}:${s.type}@${s.binding}`).join(",")}|${bindingDecls.map((b) => (b.atomic ? "A" : "u")).join("")}|${spec.groups !== undefined ? "G" : "T"}${spec.f16 ? "|f16" : ""}`;
      const { pipeline, pending, layout } = this.pipeline(key, plan.bindings.length, () => buildShader({
        wg: spec.wg, slots, bindings: bindingDecls, helpers: spec.helpers, f16: spec.f16,
        body: (spec.groups !== undefined ? "  if (wid >= pu(21u)) { return; }\n" : "") + spec.body,
      }));
      const groups = spec.groups ?? Math.ceil((spec.threads ?? 0) / spec.wg);
      if (groups === 0) continue;
      const uni = new Uint32Array(UNIFORM_BYTES / 4);
      const f = new Float32Array(uni.buffer);
      for (const [slot, t] of slotTensors) {
        for (let d = 0; d < 4; d++) { uni[8 * slot + d] = t.ne[d]; uni[8 * slot + 4 + d] = t.nb[d]; }
        uni[64 + slot] = plan.slotOffset.get(slot)! >>> 0;
      }
      (spec.params ?? []).forEach((v, i) => { f[PARAM_WORD + i] = v; });
      (spec.ints ?? []).forEach((v, i) => { uni[INT_WORD + i] = v >>> 0; });
      uni[INT_WORD + 21] = groups;
      uni[INT_WORD + ROW_LO] = lo;
      uni[INT_WORD + ROW_HI] = hi;
      const gx = Math.min(groups, this.maxGroupsPerDim);
      dispatches.push({
        kind: "gpu", node: n, pipeline, pending, layout, uniform: uni, groups: [gx, Math.ceil(groups / gx)],
        bindings: plan.bindings.map((b) => ({ buffer: b.buffer.gpu, offset: b.offset, size: b.size })),
      });
    }
    return dispatches;
  }

  private pipeline(key: string, nStorage: number, source: () => string):
      { pipeline: GPUComputePipeline | null; pending: Promise<GPUComputePipeline> | null; layout: GPUBindGroupLayout } {
    let l = this.layouts.get(nStorage);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: STAGE_COMPUTE, buffer: { type: "uniform" } }];
      for (let k = 1; k <= nStorage; k++) entries.push({ binding: k, visibility: STAGE_COMPUTE, buffer: { type: "storage" } });
      const bgl = this.device.createBindGroupLayout({ entries });
      l = { bgl, pl: this.device.createPipelineLayout({ bindGroupLayouts: [bgl] }) };
      this.layouts.set(nStorage, l);
    }
    const ready = this.pipelines.get(key);
    if (ready) return { pipeline: ready, pending: null, layout: l.bgl };
    let pending = this.compiling.get(key);
    if (!pending) {
      const code = source();
      const module = this.device.createShaderModule({ code });
      pending = this.device.createComputePipelineAsync({ layout: l.pl, compute: { module, entryPoint: "main" } }).then(
        (p) => { this.pipelines.set(key, p); this.compiling.delete(key); return p; },
        (e: Error) => { this.compiling.delete(key); throw new Error(`webgpu: compiling ${key.split("|")[0]}: ${e.message}`); });
      this.compiling.set(key, pending);
    }
    return { pipeline: null, pending, layout: l.bgl };
  }

  /** WGSL source of the first dispatch of a node (debugging aid). */
  shaderFor(n: Tensor): string | null {
    const b = KERNELS[n.op];
    const s = b?.(n, this.ctx);
    if (!s) return null;
    const spec = Array.isArray(s) ? s[0] : s;
    const slots: SlotDecl[] = [[0, n] as [number, Tensor], ...spec.bind.map((i) => [i + 1, n.src[i]] as [number, Tensor])]
      .map(([slot, t], k) => ({ name: SLOT_NAMES[slot], index: slot, type: t.type, binding: k + 1 }));
    return buildShader({ wg: spec.wg, slots, bindings: slots.map((s) => ({ binding: s.binding, atomic: s.index === 0 && needsAtomicStore(n.type) })), helpers: spec.helpers, f16: spec.f16, body: spec.body });
  }

  private checkAlive(): void { if (this.disposed) throw new Error("webgpu: backend was disposed"); }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of [...this.buffers]) b.free();
    this.state.arena = null;
    this.uniformBuf?.destroy();
    this.uniformBuf = null;
    this.pipelines.clear();
    this.device.destroy();
  }
}

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";
}

export { GgmlType };
