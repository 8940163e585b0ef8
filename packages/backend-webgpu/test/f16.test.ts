// The shader-f16 compute path: enabled by default when the adapter has shader-f16, off with {f16: false};
// products over f16/quantized weights and f16-K/V attention use f16 arithmetic, f32 weights keep f32 math.
import { afterAll, describe, expect, it } from "vitest";
import * as T from "@ggts/tensor";
import { GgmlType as G, ReferenceBackend, run, type Tensor } from "@ggts/tensor";
import { f32, gpuOrReason, i32, nmse, typed } from "./helpers.js";
import { WebGpuBackend } from "../src/index.js";

const probe = await gpuOrReason();
const hasF16 = probe.gpu?.device.features.has("shader-f16") ?? false;
const reason = !probe.gpu ? probe.reason : "adapter lacks shader-f16";
afterAll(() => probe.gpu?.dispose());
const TOL = 5e-4; // the shared MUL_MAT / FLASH_ATTN_EXT case threshold

const fa = (kt: G) => T.flashAttnExt(f32([64, 3, 4, 1]), typed(kt, [64, 24, 2, 1]), typed(kt, [64, 24, 2, 1]), { scale: 0.125 });
const products: { name: string; build: () => Tensor; f16: boolean }[] = [
  { name: "mul_mat f16", build: () => T.mulMat(typed(G.F16, [256, 9]), f32([256, 6])), f16: true },
  { name: "mul_mat q8_0", build: () => T.mulMat(typed(G.Q8_0, [256, 9]), f32([256, 6])), f16: true },
  { name: "mul_mat q4_K", build: () => T.mulMat(typed(G.Q4_K, [256, 9]), f32([256, 6])), f16: true },
  { name: "mul_mat f16 vec", build: () => T.mulMat(typed(G.F16, [200, 17]), f32([200, 1])), f16: true },
  { name: "mul_mat q8_K", build: () => T.mulMat(typed(G.Q8_K, [256, 9]), f32([256, 5])), f16: true },
  { name: "mul_mat q8_K vec", build: () => T.mulMat(typed(G.Q8_K, [512, 9]), f32([512, 1])), f16: true },
  { name: "mul_mat q8_0 vec", build: () => T.mulMat(typed(G.Q8_0, [512, 17]), f32([512, 1])), f16: true },
  { name: "mul_mat_id q4_K", build: () => T.mulMatId(typed(G.Q4_K, [256, 6, 4]), f32([256, 2, 3]), i32([2, 3], [3, 0, 1, 1, 2, 3])), f16: true },
  { name: "flash_attn f16 K/V", build: () => fa(G.F16), f16: true },
  { name: "mul_mat f32", build: () => T.mulMat(f32([256, 9]), f32([256, 6])), f16: false },
  { name: "flash_attn f32 K/V", build: () => fa(G.F32), f16: false },
];

describe.skipIf(!hasF16)("webgpu: f16 compute path", () => {
  const on = probe.gpu!;
  let off: WebGpuBackend, vec: WebGpuBackend;
  afterAll(() => { off?.dispose(); vec?.dispose(); });

  it("is on by default with shader-f16 and off with {f16: false}", async () => {
    off = await WebGpuBackend.create({ hostFallback: false, f16: false });
    vec = await WebGpuBackend.create({ hostFallback: false, matvec: "workgroup" });
    expect(on.deviceInfo()).toMatchObject({ shaderF16: true, f16Compute: true });
    expect(off.deviceInfo()).toMatchObject({ shaderF16: true, f16Compute: false });
  });

  it("generates `enable f16` kernels exactly for f16/quantized weights and f16 K/V", () => {
    for (const p of products) {
      const n = p.build();
      expect(on.shaderFor(n)!.startsWith("enable f16;"), p.name).toBe(p.f16);
      expect(off.shaderFor(n)!.includes("f16;"), p.name).toBe(false);
    }
    const mv = vec.shaderFor(T.mulMat(typed(G.Q4_0, [64, 3]), f32([64, 1])))!;
    expect(mv.startsWith("enable f16;") && mv.includes("var p = 0.0h;")).toBe(true);
  });

  it("f16 results stay within the case threshold and differ from f32 math only where f16 is used", async () => {
    const ref = new ReferenceBackend();
    for (const p of products) {
      const outs = [p.build()];
      const [want] = await run(ref, outs);
      const [h] = await run(on, outs);
      const [s] = await run(off, outs);
      const [v] = await run(vec, outs);
      expect(on.lastHostOps).toEqual([]);
      expect(nmse(want, h), p.name).toBeLessThanOrEqual(TOL);
      expect(nmse(want, v), `${p.name} (matvec workgroup)`).toBeLessThanOrEqual(TOL);
      expect(nmse(want, s), `${p.name} f32`).toBeLessThanOrEqual(TOL);
      // f16 rounding changes results; f32 weights / K/V must give bit-identical f32 results in both modes.
      if (p.f16) expect(nmse(s, h), `${p.name}: f16 path ran`).toBeGreaterThan(0);
      else expect(Array.from(h), p.name).toEqual(Array.from(s));
    }
  }, 120_000);
});
if (!hasF16) it.skip(`webgpu f16 path not testable here: ${reason}`, () => { /* skipped with the reason */ });
