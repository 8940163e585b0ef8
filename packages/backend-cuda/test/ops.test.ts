// The shared op case list on the device against the float64 reference. Needs a CUDA device: elsewhere the
// tests skip with the driver's reason in their name.
import { describe, expect, it } from "vitest";
import { GgmlType, Graph, runCases, tensor, mulMat, readF32, type CaseResult } from "@ggts/tensor";
import { CudaBackend, unavailableReason } from "@ggts/backend-cuda";

const reason = unavailableReason();
const skipNote = reason ? ` — skipped: ${reason}` : "";
const failures = (rs: CaseResult[]) =>
  rs.filter((r) => r.status !== "OK").map((r) => `${r.status} ${r.name}: ${r.message ?? ""} nmse=${r.nmse}`).join("\n");

describe("cuda backend on a device", () => {
  // scripts/device-check.sh runs the same cases through `ggts test-ops` and sets GGTS_CUDA_SKIP_CASES=1 here.
  const casesSkip = reason ?? (process.env.GGTS_CUDA_SKIP_CASES === "1" ? "GGTS_CUDA_SKIP_CASES=1" : null);
  it.skipIf(casesSkip !== null)(`passes every shared op case${casesSkip ? ` — skipped: ${casesSkip}` : ""}`, async () => {
    const be = new CudaBackend();
    try {
      const results = await runCases(be, { mode: "test" });
      expect(results.length).toBeGreaterThan(100);
      expect(failures(results)).toBe("");
    } finally {
      be.dispose();
    }
  }, 900_000);

  it.skipIf(reason !== null)(`repeats a graph (CUDA graph replay) with the same results${skipNote}`, async () => {
    const be = new CudaBackend();
    try {
      const a = tensor(GgmlType.F32, [64, 32], Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i)));
      const b = tensor(GgmlType.F32, [64, 2], Float32Array.from({ length: 128 }, (_, i) => Math.cos(i)));
      const y = mulMat(a, b);
      const outs: Float32Array[] = [];
      for (let i = 0; i < 4; i++) { await be.compute(new Graph([y])); outs.push(await readF32(be, y)); }
      for (const o of outs.slice(1)) expect(Array.from(o)).toEqual(Array.from(outs[0]));
    } finally {
      be.dispose();
    }
  });

  it.skipIf(reason !== null)(`reports an out-of-range row index as an error${skipNote}`, async () => {
    const { getRows } = await import("@ggts/tensor");
    const be = new CudaBackend();
    try {
      const t = tensor(GgmlType.F32, [4, 3], Float32Array.from({ length: 12 }, (_, i) => i));
      const idx = tensor(GgmlType.I32, [2], Int32Array.of(1, 7));
      await expect(be.compute(new Graph([getRows(t, idx)]))).rejects.toThrow(/GET_ROWS.*row index 7 out of range/);
    } finally {
      be.dispose();
    }
  });
});
