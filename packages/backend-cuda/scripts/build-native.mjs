#!/usr/bin/env node
// Builds the CUDA addon when nvcc is available; otherwise explains why it is skipped and succeeds.
//   GGTS_SKIP_CUDA=1      skip even when nvcc exists
//   GGTS_CUDA_ARCHS=90    CMAKE_CUDA_ARCHITECTURES override (e.g. "80;90" or "90"; PTX of the last is added)
//                         default: 80;86;89;90 + PTX (the same everywhere, so CI and local builds share one cache)
//   GGTS_CUDA_OPTIONAL=1  a failed build (nvcc present) prints the error and exits 0
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const log = (m) => process.stderr.write(`[backend-cuda] ${m}\n`);

function findNvcc() {
  const env = process.env;
  if (env.CUDACXX && existsSync(env.CUDACXX)) return env.CUDACXX;
  for (const home of [env.CUDA_HOME, env.CUDA_PATH]) {
    if (home && existsSync(path.join(home, "bin", "nvcc"))) return path.join(home, "bin", "nvcc");
  }
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, "nvcc"))) return path.join(dir, "nvcc");
  }
  if (existsSync("/usr/local/cuda/bin/nvcc")) return "/usr/local/cuda/bin/nvcc";
  return null;
}

/** "80;90" → "80-real;90-real;90-virtual": SASS for each listed arch plus PTX of the newest for later GPUs. */
export function archList(spec) {
  const archs = spec.split(/[;,\s]+/).filter(Boolean);
  if (archs.some((a) => !/^\d+(-real|-virtual)?$/.test(a))) throw new Error(`GGTS_CUDA_ARCHS: bad arch list "${spec}"`);
  if (archs.some((a) => a.includes("-"))) return archs.join(";");
  const last = archs.map(Number).sort((a, b) => a - b).at(-1);
  return [...archs.map((a) => `${a}-real`), `${last}-virtual`].join(";");
}

function main() {
  if (process.env.GGTS_SKIP_CUDA === "1") { log("GGTS_SKIP_CUDA=1: not building the CUDA addon"); return 0; }
  const nvcc = findNvcc();
  if (!nvcc) {
    log("nvcc not found (CUDACXX, CUDA_HOME, CUDA_PATH, PATH): skipping the CUDA addon; the cuda backend will report it is not built");
    return 0;
  }
  const archs = process.env.GGTS_CUDA_ARCHS || "80;86;89;90";
  // cmake-js compile keeps an existing configuration: a changed arch list needs a clean rebuild.
  const stamp = path.join(pkg, "build", "ggts-cuda-archs.txt");
  const previous = existsSync(stamp) ? readFileSync(stamp, "utf8") : null;
  const verb = previous === null || previous === archList(archs) ? "compile" : "rebuild";
  const args = [verb, "--out", "build", `--CDCMAKE_CUDA_COMPILER=${nvcc}`, `--CDCMAKE_CUDA_ARCHITECTURES=${archList(archs)}`];
  const cmakeJs = path.join(pkg, "node_modules", "cmake-js", "bin", "cmake-js");
  const t0 = Date.now();
  log(`building with ${nvcc} for sm ${archs} (+PTX)`);
  const r = spawnSync(process.execPath, [cmakeJs, ...args], {
    cwd: pkg, stdio: "inherit",
    env: { ...process.env, CUDACXX: nvcc, CMAKE_BUILD_PARALLEL_LEVEL: process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? "2" },
  });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status === 0) { writeFileSync(stamp, archList(archs)); log(`built in ${secs} s`); return 0; }
  if (process.env.GGTS_CUDA_OPTIONAL === "1") { log(`build failed after ${secs} s; GGTS_CUDA_OPTIONAL=1 so continuing without it`); return 0; }
  log(`build failed after ${secs} s (set GGTS_CUDA_OPTIONAL=1 to continue without the CUDA addon)`);
  return r.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) process.exit(main());
