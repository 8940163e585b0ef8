// The shared op case list (packages/tensor/src/testing, test-backend-ops style) on WebGPU: zero failures.
// The default backend uses f16 arithmetic where the adapter has shader-f16; the f32-only mode ({f16: false})
// differs only in the kernels of products over f16/quantized weights and f16-K/V attention, so it reruns
// those cases (GGTS_CASES_F32 overrides the pattern).
import { afterAll, describe, expect, it } from "vitest";
import { runCases, type CaseResult } from "@ggts/tensor";
import { gpuOrReason } from "./helpers.js";
import { WebGpuBackend } from "../src/index.js";

const probe = await gpuOrReason();
const F32_SUBSET = String.raw`^(MUL_MAT|MUL_MAT_ID|FLASH_ATTN_EXT)\(.*type_(a|KV)=(?!f32,|bf16,)`;

async function expectAllOk(gpu: WebGpuBackend, pattern: string | undefined, label: string): Promise<void> {
  const t0 = Date.now();
  const results: CaseResult[] = await runCases(gpu, { mode: "test", pattern });
  const bad = results.filter((r) => r.status !== "OK");
  for (const r of bad) console.error(`${label}: ${r.status} ${r.name}: nmse ${r.nmse} > ${r.maxNmse} ${r.message ?? ""}`);
  console.log(`${label}: ${results.length} cases, ${bad.length} not OK, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  expect(results.length).toBeGreaterThan(0);
  expect(bad.map((r) => `${r.status} ${r.name}`)).toEqual([]);
}

describe.skipIf(!probe.gpu)("webgpu: shared op cases", () => {
  afterAll(() => probe.gpu?.dispose());
  it("every case passes (default: f16 arithmetic when shader-f16 is present)", async () => {
    await expectAllOk(probe.gpu!, process.env.GGTS_CASES, `f16Compute=${probe.gpu!.deviceInfo().f16Compute}`);
  }, 600_000);
  it("f16-sensitive cases pass with {f16: false}", async () => {
    const gpu = await WebGpuBackend.create({ hostFallback: false, f16: false });
    try {
      expect(gpu.deviceInfo().f16Compute).toBe(false);
      await expectAllOk(gpu, process.env.GGTS_CASES_F32 ?? F32_SUBSET, "f16Compute=false");
    } finally { gpu.dispose(); }
  }, 600_000);
});
if (!probe.gpu) it.skip(`webgpu unavailable: ${probe.reason}`, () => { /* skipped with the reason */ });
