#!/usr/bin/env node
// Runs every test suite and ends with one summary line: "N passed, N failed, N skipped".
import { spawnSync } from "node:child_process";
import { readFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const report = path.join(mkdtempSync(path.join(tmpdir(), "ggts-test-")), "vitest.json");
const r = spawnSync("pnpm", ["exec", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`,
  ...process.argv.slice(2)], { stdio: "inherit", cwd: root, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() } });
let passed = 0, failed = 0, skipped = 0;
try {
  const j = JSON.parse(readFileSync(report, "utf8"));
  passed = j.numPassedTests; failed = j.numFailedTests; skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  if (j.numFailedTestSuites && !failed) failed = j.numFailedTestSuites;
} catch {
  failed = Math.max(failed, 1);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
