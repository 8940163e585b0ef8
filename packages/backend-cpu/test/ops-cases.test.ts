// The shared op case list (packages/tensor/src/testing) on the native backend against the float64 reference.
import { describe, expect, it } from "vitest";
import { runCases, type CaseResult } from "@ggts/tensor";
import { CpuBackend, addonLoadError } from "@ggts/backend-cpu";

const reason = addonLoadError();
const failures = (rs: CaseResult[]) =>
  rs.filter((r) => r.status !== "OK").map((r) => `${r.status} ${r.name}: ${r.message ?? ""} nmse=${r.nmse}`).join("\n");

describe.skipIf(reason !== null)("cpu backend: shared op cases", () => {
  it("passes every case (2 threads)", async () => {
    const be = new CpuBackend({ threads: 2 });
    try {
      const results = await runCases(be, { mode: "test" });
      expect(results.length).toBeGreaterThan(100);
      expect(failures(results)).toBe("");
    } finally {
      be.dispose();
    }
  }, 600_000);

  // Uneven row splits and idle threads (more threads than rows) must not change results. splitMinNs: 0 splits
  // even the small case shapes (by default they run on one thread).
  it("passes the row-split-sensitive ops with 1 and 3 threads, every node split", async () => {
    for (const threads of [1, 3]) {
      const be = new CpuBackend({ threads, splitMinNs: 0 });
      try {
        const results = await runCases(be, {
          mode: "test",
          ops: ["MUL_MAT", "MUL_MAT_ID", "SUM", "COUNT_EQUAL", "SET", "SOFT_MAX", "FLASH_ATTN_EXT", "GATED_DELTA_NET", "CPY", "SET_ROWS", "SOLVE_TRI"],
        });
        expect(results.length).toBeGreaterThan(20);
        expect(failures(results)).toBe("");
      } finally {
        be.dispose();
      }
    }
  }, 600_000);
});
