// The shared op case list (packages/tensor/src/testing, test-backend-ops style) on WebGPU: zero failures.
import { afterAll, describe, expect, it } from "vitest";
import { runCases, type CaseResult } from "@ggts/tensor";
import { gpuOrReason } from "./helpers.js";

const probe = await gpuOrReason();

describe.skipIf(!probe.gpu)("webgpu: shared op cases", () => {
  afterAll(() => probe.gpu?.dispose());
  it("every case passes", async () => {
    const t0 = Date.now();
    const results: CaseResult[] = await runCases(probe.gpu!, { mode: "test", pattern: process.env.GGTS_CASES });
    const bad = results.filter((r) => r.status !== "OK");
    for (const r of bad) console.error(`${r.status} ${r.name}: nmse ${r.nmse} > ${r.maxNmse} ${r.message ?? ""}`);
    console.log(`${results.length} cases, ${bad.length} not OK, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(bad.map((r) => `${r.status} ${r.name}`)).toEqual([]);
  }, 600_000);
});
it.skipIf(!!probe.gpu)(`webgpu unavailable: ${probe.reason}`, () => { /* skipped with the reason */ });
