// Builds and runs the standalone kernel test (native/test/matmul_test.cpp): every dot-product kernel (AVX-512 VNNI,
// AVX2, scalar) against exact sums, the quantizers against ggml's formulas and goldens,
// single- and multi-thread MUL_MAT/MUL_MAT_ID against a float64 reference (incl. dynamic chunk scheduling).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));
const script = join(here, "../native/test/run.sh");
const fixtures = join(here, "../../../../shared/fixtures");

function hasCompiler(): boolean {
  try { execFileSync(process.env.CXX ?? "g++", ["--version"], { stdio: "ignore" }); return true; } catch { return false; }
}

/** Exit status of run.sh when an optional library it was asked to build with is not installed. */
const MISSING_LIBRARY = 77;

function runKernelTest(extra: string[] = [], env: Record<string, string> = {}, onMissingLibrary?: () => void): void {
  expect(hasCompiler(), "C++ compiler (g++ or $CXX) needed to build the kernel test").toBe(true);
  const dir = mkdtempSync(join(tmpdir(), "ggts-kernels-"));
  try {
    const args = ["--quick", ...(existsSync(join(fixtures, "README.md")) ? ["--fixtures", fixtures] : []), ...extra];
    const r = spawnSync("sh", [script, ...args], { env: { ...process.env, ...env, OUT: join(dir, "matmul_test") }, encoding: "utf8" });
    const out = `${r.stdout}\n${r.stderr}`;
    if (r.status === MISSING_LIBRARY && onMissingLibrary) return onMissingLibrary();
    expect(r.status, out.split("\n").filter((l) => /FAIL|error/.test(l)).slice(0, 20).join("\n")).toBe(0);
    expect(out).toMatch(/OK: 0 failure\(s\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("native kernel test", () => {
  // The addon build already requires a C++ compiler, so a missing one is a failure, not a skip.
  it("passes every kernel check", () => runKernelTest(), 300_000);
  // The kernels a CPU without AVX-512 VNNI runs (on one that has it, the run-time choice is switched off) and the
  // plain C++ fallbacks of a build without AVX2: each checked like the default path.
  it("passes every kernel check on the AVX2 paths", () => runKernelTest([], { GGTS_NO_AVX512: "1" }), 300_000);
  it("passes every kernel check built without AVX2 (scalar fallbacks)", () => runKernelTest([], { MARCH: "x86-64" }), 300_000);
  // The optional OpenBLAS MUL_MAT path (GGTS_BLAS=1 builds): set-up installs libopenblas-dev as root, so CI has it
  // (there a missing library fails); elsewhere it is skipped. Only the product checks: BLAS changes nothing else.
  it("passes the MUL_MAT checks with the OpenBLAS path built in", (ctx) =>
    runKernelTest(["--mul-mat-only"], { BLAS: "1" }, process.env.CI === "true" ? undefined : () => ctx.skip()), 300_000);
});
