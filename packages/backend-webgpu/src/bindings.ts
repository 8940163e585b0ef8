// Turns the tensors a dispatch touches into storage bindings: tensors in the same GPUBuffer whose byte ranges
// overlap share one binding (WebGPU forbids overlapping writable bindings, and in-place ops alias dst and src0),
// binding starts are aligned down to the offset alignment, and each tensor gets its byte offset in the binding.
import type { Tensor } from "@ggts/tensor";
import type { WebGpuBuffer } from "./buffer.js";

export interface SlotRange {
  slot: number;
  buffer: WebGpuBuffer;
  /** Byte range [start, end) the shader may touch. */
  start: number;
  end: number;
  /** Byte position that the shader's offset for this slot refers to (start of the tensor's first element). */
  origin: number;
}

export interface BindingPlan {
  bindings: { buffer: WebGpuBuffer; offset: number; size: number }[];
  /** Per slot: binding index (1-based, as in WGSL) and byte offset of the tensor's origin in that binding (mod 2^32). */
  slotBinding: Map<number, number>;
  slotOffset: Map<number, number>;
}

export class BindingTooLarge extends Error {}

const alignDown = (x: number, a: number) => Math.floor(x / a) * a;
const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

export function planBindings(ranges: SlotRange[], align: number, maxBinding: number, what: () => string): BindingPlan {
  const byBuf = new Map<WebGpuBuffer, SlotRange[]>();
  for (const r of ranges) {
    const l = byBuf.get(r.buffer) ?? [];
    l.push(r);
    byBuf.set(r.buffer, l);
  }
  const plan: BindingPlan = { bindings: [], slotBinding: new Map(), slotOffset: new Map() };
  for (const [buffer, list] of byBuf) {
    list.sort((a, b) => a.start - b.start);
    let group: SlotRange[] = [];
    let gEnd = -1;
    const flush = () => {
      if (!group.length) return;
      const start = alignDown(Math.min(...group.map((g) => g.start)), align);
      const end = Math.min(alignUp(Math.max(...group.map((g) => g.end), start + 4), 4), buffer.gpu.size);
      if (end - start > maxBinding) {
        throw new BindingTooLarge(`webgpu: ${what()} needs a ${end - start}-byte binding, over the device's ${maxBinding}`);
      }
      const idx = plan.bindings.length + 1;
      plan.bindings.push({ buffer, offset: start, size: end - start });
      for (const g of group) {
        plan.slotBinding.set(g.slot, idx);
        plan.slotOffset.set(g.slot, (g.origin - start) >>> 0);
      }
      group = [];
    };
    for (const r of list) {
      if (group.length && r.start >= gEnd) flush();
      group.push(r);
      gEnd = Math.max(gEnd, r.end);
    }
    flush();
  }
  return plan;
}

/** True when t's rows (dims 1..3) are equally spaced by nb1, so any run of flat rows is one byte range. */
export function rowsAreFlat(t: Tensor): boolean {
  return (t.ne[2] <= 1 || t.nb[2] === t.nb[1] * t.ne[1]) && (t.ne[3] <= 1 || t.nb[3] === t.nb[1] * t.ne[1] * t.ne[2]);
}
