// Shared test helpers: a WebGPU backend (or the reason there is none), random data, NMSE comparison
// against the reference backend.
import { GgmlType, ReferenceBackend, Tensor, quantize, run, tensor, type Backend } from "@ggts/tensor";
import { webgpuAvailable, WebGpuBackend } from "../src/index.js";

export async function gpuOrReason(): Promise<{ gpu: WebGpuBackend | null; reason: string }> {
  const a = await webgpuAvailable();
  if (!a.ok) {
    if (process.env.CI === "true") throw new Error(`WebGPU must be available on CI: ${a.reason}`);
    return { gpu: null, reason: a.reason };
  }
  return { gpu: await WebGpuBackend.create({ hostFallback: false }), reason: "" };
}

let seed = 12345;
export function rand(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
export const uniform = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());

export function f32(shape: number[], lo = -1, hi = 1, name = ""): Tensor {
  return tensor(GgmlType.F32, shape, uniform(shape.reduce((a, b) => a * b, 1), lo, hi), name);
}
export function typed(type: GgmlType, shape: number[], lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(type, shape, quantize(type, uniform(n, lo, hi)));
}
export function i32(shape: number[], values: number[]): Tensor { return tensor(GgmlType.I32, shape, Int32Array.from(values)); }

export function nmse(ref: Float32Array, got: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Number.isNaN(got[i]) !== Number.isNaN(ref[i])) return Infinity;
    if (!Number.isFinite(ref[i]) || !Number.isFinite(got[i])) { if (ref[i] !== got[i]) return Infinity; continue; }
    num += (ref[i] - got[i]) ** 2; den += ref[i] ** 2;
  }
  return den === 0 ? num : num / den;
}

const ref = new ReferenceBackend();

/** Runs outputs on the reference and on gpu; returns the worst NMSE and the ops that fell back to the host. */
export async function compare(gpu: Backend, outputs: Tensor[]): Promise<{ err: number; errs: number[]; want: Float32Array[]; got: Float32Array[] }> {
  const want = await run(ref, outputs);
  const got = await run(gpu, outputs);
  const errs = want.map((w, i) => nmse(w, got[i]));
  return { err: Math.max(...errs), errs, want, got };
}

export interface Case { name: string; build: () => Tensor[]; tol?: number }

/** Registers one vitest case per entry: every compute node must have a WGSL kernel, and NMSE <= tol. */
export function defineCases(it: (name: string, fn: () => Promise<void>) => void, getGpu: () => WebGpuBackend | null,
                            list: Case[], expect: (v: unknown) => { toBeLessThanOrEqual(n: number): void; toEqual(v: unknown): void }): void {
  for (const c of list) {
    it(c.name, async () => {
      const gpu = getGpu()!;
      const outs = c.build();
      const { err, errs } = await compare(gpu, outs);
      expect(gpu.lastHostOps).toEqual([]);
      if (!(err <= (c.tol ?? 1e-7))) console.error(`${c.name}: NMSE per output ${errs.join(", ")}`);
      expect(err).toBeLessThanOrEqual(c.tol ?? 1e-7);
    });
  }
}
