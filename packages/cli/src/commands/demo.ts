// `ggts demo` (what `npm start` runs): writes a tiny random-weight Kimi-Linear model with the synth
// generator on first use (cached), then streams a seeded chat generation on the best available backend
// and prints the speeds. Random weights: the text is noise, the machinery is the real one.
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthModel } from "@ggts/gguf";
import { loadModel } from "@ggts/models";
import { parseFlags, runCommand } from "../args.js";
import { resolveBackend } from "../backends.js";

const USAGE = `usage: ggts demo [--backend NAME] [-n 48] [--seed S] [-p TEXT] [--cache-dir DIR]
  Generates text with an embedded tiny Kimi-Linear model (random weights, written on first run into
  <repo>/.cache/ggts/, or the system temp dir outside a checkout; GGTS_CACHE_DIR overrides).`;

const FLAGS = {
  backend: { kind: "string" },
  "n-predict": { kind: "int", alias: ["-n"], min: 1, max: 4000 },
  seed: { kind: "int", alias: ["-s"], min: 0, max: 0xffffffff },
  prompt: { kind: "string", alias: ["-p"] },
  threads: { kind: "int", alias: ["-t"], min: 1, max: 512 },
  "cache-dir": { kind: "string" },
} as const;

/** Bump when the demo model's recipe changes so old cached files are not reused. */
const MODEL_FILE = "demo-tiny-kimi-linear-v1-seed2025.gguf";
const SYNTH_SEED = 2025;

/** <repo>/.cache/ggts when running from a checkout (found from this file's location), else the temp dir. */
export function demoCacheDir(): string {
  if (process.env.GGTS_CACHE_DIR) return process.env.GGTS_CACHE_DIR;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return join(dir, ".cache", "ggts");
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(tmpdir(), "ggts-cache");
}

/** The demo model's path, synthesized (atomically: temp file then rename) when missing. */
export async function ensureDemoModel(cacheDir = demoCacheDir()): Promise<{ path: string; created: boolean; seconds: number }> {
  const path = join(cacheDir, MODEL_FILE);
  if (existsSync(path)) return { path, created: false, seconds: 0 };
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const t0 = performance.now();
  try {
    await synthModel({ arch: "kimi-linear", preset: "tiny", type: "f32", seed: SYNTH_SEED, out: tmp, name: "ggts-demo-tiny-kimi-linear", threads: 1 });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { path, created: true, seconds: (performance.now() - t0) / 1000 };
}

// Random weights emit arbitrary bytes; keep terminal control characters out of the output.
const printable = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "\uFFFD");

export async function main(args: string[]): Promise<number> {
  return runCommand("demo", USAGE, args, async () => {
    const f = parseFlags(args, FLAGS);
    const backend = await resolveBackend(f.backend);
    const m = await ensureDemoModel(f["cache-dir"] ?? demoCacheDir());
    if (m.created) process.stderr.write(`wrote the demo model ${m.path} in ${m.seconds.toFixed(1)} s\n`);
    const model = await loadModel(m.path, { backend, contextSize: 512, ...(f.threads ? { threads: f.threads } : {}) });
    try {
      const question = f.prompt ?? "Tell me the story of the clock-maker who lived at the edge of town.";
      process.stdout.write(`ggts demo: tiny Kimi-Linear (KDA + MLA + MoE, random weights, so the text is noise) on the ${model.backend.name} backend\n`);
      process.stdout.write(`user: ${question}\nassistant: `);
      const session = await model.createSession();
      const gen = session.generate([{ role: "user", content: question }], {
        maxTokens: f["n-predict"] ?? 48, seed: f.seed ?? 42, temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, ignoreEog: true,
      });
      for await (const piece of gen) if (piece.text) process.stdout.write(printable(piece.text));
      const s = gen.stats;
      process.stdout.write(`\n\nprompt: ${s.promptTokens} tokens at ${s.promptTokensPerSecond.toFixed(1)} tokens/s, ` +
        `generation: ${s.generatedTokens} tokens at ${s.generationTokensPerSecond.toFixed(1)} tokens/s\n`);
      return 0;
    } finally {
      model.dispose();
    }
  });
}
