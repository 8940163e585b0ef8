#!/usr/bin/env node
// Builds build/Release/ggts_cpu.node with cmake-js (incremental: cmake skips up-to-date objects).
// Fails loudly, before cmake's long error output, when the toolchain is missing.
// Options (env): GGTS_NATIVE=1 (-march=native), GGTS_BLAS=1 (OpenBLAS when found), GGTS_DEBUG=1.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = fileURLToPath(new URL("..", import.meta.url));

function onPath(cmd) {
  if (cmd.includes("/")) return existsSync(cmd) ? cmd : null;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

function die(msg) {
  console.error(`\n@ggts/backend-cpu: ${msg}\n`);
  process.exit(1);
}

const cxx = process.env.CXX ? onPath(process.env.CXX.split(" ")[0]) : ["c++", "g++", "clang++"].map(onPath).find(Boolean);
if (!cxx) die(`no C++ compiler found${process.env.CXX ? ` (CXX=${process.env.CXX} does not exist)` : " (looked for c++, g++, clang++)"}. ` +
  "Install one (Debian/Ubuntu: apt-get install -y g++ cmake) or set CXX.");
if (!onPath("cmake")) die("cmake not found on PATH. Install it (Debian/Ubuntu: apt-get install -y cmake).");

const flag = (name) => (process.env[name] === "1" || process.env[name] === "ON" ? "ON" : "OFF");
const options = [`--CDGGTS_NATIVE=${flag("GGTS_NATIVE")}`, `--CDGGTS_BLAS=${flag("GGTS_BLAS")}`];
if (process.env.GGTS_DEBUG === "1") options.push("--debug");
// cmake-js compile keeps an existing configuration: changed options need a clean rebuild.
const stamp = join(pkg, "build", "ggts-cpu-options.txt");
const previous = existsSync(stamp) ? readFileSync(stamp, "utf8") : null;
const verb = previous === null || previous === options.join(" ") ? "compile" : "rebuild";
const args = [verb, "--out", "build", ...options];
const cmakeJs = fileURLToPath(new URL("../node_modules/cmake-js/bin/cmake-js", import.meta.url));
if (!existsSync(cmakeJs)) die("cmake-js is not installed; run pnpm install first.");
const r = spawnSync(process.execPath, [cmakeJs, ...args], { cwd: pkg, stdio: "inherit" });
if (r.status !== 0) die(`native build failed (cmake-js exit ${r.status ?? r.signal}); see the compiler output above.`);
writeFileSync(stamp, options.join(" "));
