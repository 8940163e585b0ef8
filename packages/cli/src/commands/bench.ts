// `ggts bench -m MODEL [-p 512] [-n 128] [-r 5] [--json]`: prompt processing and generation speed measured
// like llama-bench: pp = one evaluate of p random tokens on a fresh session, tg = n single-token evaluates
// on a fresh session; a warm-up run first, then the median (and mean ± sd) over the repetitions.
import { basename } from "node:path";
import { openGguf, summarizeGguf, formatBytes } from "@ggts/gguf";
import { Xoshiro128, type Model } from "@ggts/models";
import type { Backend, OpTiming } from "@ggts/tensor";
import { MODEL_FLAGS, MODEL_USAGE, parseFlags, runCommand } from "../args.js";
import { loadModelFromFlags } from "../progress.js";

const USAGE = `usage: ggts bench -m MODEL [-p 512] [-n 128] [-r 5] [--json] [options]
${MODEL_USAGE}
  -p, --n-prompt N     prompt tokens of the pp test (0 skips it; default 512)
  -n, --n-gen N        generated tokens of the tg test (0 skips it; default 128)
  -r, --repetitions N  runs per test (default 5)
  --json               print JSON instead of the table
  --profile            also print the time per op and weight type (backends that support profiling)`;

const FLAGS = {
  ...MODEL_FLAGS,
  "n-prompt": { kind: "int", alias: ["-p"], min: 0 },
  "n-gen": { kind: "int", alias: ["-n"], min: 0 },
  repetitions: { kind: "int", alias: ["-r"], min: 1 },
  json: { kind: "bool" },
  profile: { kind: "bool" },
} as const;

export interface BenchResult {
  model_filename: string;
  model_type: string;
  model_size: number;
  model_n_params: number;
  backend: string;
  n_threads: number | null;
  test: string;
  n_prompt: number;
  n_gen: number;
  /** Tokens per second of each repetition. */
  samples_ts: number[];
  median_ts: number;
  avg_ts: number;
  stddev_ts: number;
  /** With --profile: time per op and weight type over the timed repetitions. */
  profile?: OpTiming[];
}

export async function main(args: string[]): Promise<number> {
  return runCommand("bench", USAGE, args, async () => {
    const f = parseFlags(args, FLAGS);
    const p = f["n-prompt"] ?? 512, n = f["n-gen"] ?? 128, reps = f.repetitions ?? 5;
    if (p === 0 && n === 0) throw new Error("nothing to measure: -p and -n are both 0");
    const info = await describeModel(f.model);
    const model = await loadModelFromFlags({ ...f, "ctx-size": Math.max(f["ctx-size"] ?? 0, p, n + 1) });
    try {
      const rng = new Xoshiro128(1234);
      const randomTokens = (k: number) => Array.from({ length: k }, () => rng.nextU32() % model.nVocab);
      const results: BenchResult[] = [];
      const base = {
        ...info, backend: model.backend.name, n_threads: (model.backend.deviceInfo().threads as number | undefined) ?? null,
      };
      const profiler = f.profile ? model.backend.profile?.bind(model.backend) : undefined;
      if (f.profile && !profiler) throw new Error(`backend ${model.backend.name} does not support --profile`);
      if (p > 0) {
        const { samples, profile } = await measure(model, reps, profiler, async (s) => { await s.evaluate(randomTokens(p)); return p; });
        results.push({ ...base, test: `pp${p}`, n_prompt: p, n_gen: 0, ...summary(samples), ...(profile ? { profile } : {}) });
      }
      if (n > 0) {
        const { samples, profile } = await measure(model, reps, profiler, async (s) => {
          for (let i = 0; i < n; i++) await s.evaluate(randomTokens(1));
          return n;
        });
        results.push({ ...base, test: `tg${n}`, n_prompt: 0, n_gen: n, ...summary(samples), ...(profile ? { profile } : {}) });
      }
      if (f.json) process.stdout.write(JSON.stringify(results, null, 2) + "\n");
      else {
        process.stdout.write(table(results));
        for (const r of results) if (r.profile) process.stdout.write(profileTable(r, reps));
      }
      return 0;
    } finally {
      model.dispose();
    }
  });
}

type Session = Awaited<ReturnType<Model["createSession"]>>;

/**
 * One warm-up, then `reps` timed runs of `body` on fresh sessions; tokens/s of each run, and with a profiler the
 * backend's op times over the timed runs.
 */
async function measure(model: Model, reps: number, profiler: Backend["profile"], body: (s: Session) => Promise<number>): Promise<{ samples: number[]; profile?: OpTiming[] }> {
  const samples: number[] = [];
  for (let r = -1; r < reps; r++) {
    if (r === 0) profiler?.(true);
    const s = await model.createSession();
    try {
      const t0 = performance.now();
      const tokens = await body(s);
      const ms = performance.now() - t0;
      if (r >= 0) samples.push((tokens * 1000) / Math.max(ms, 1e-6));
    } finally {
      s.dispose();
    }
  }
  return { samples, profile: profiler?.(false) };
}

/** Per-op time of one test, most expensive first. */
function profileTable(r: BenchResult, reps: number): string {
  const rows = [...r.profile!].sort((a, b) => b.ns - a.ns);
  const total = rows.reduce((a, e) => a + e.ns, 0);
  const runs = reps * (r.n_prompt > 0 ? 1 : r.n_gen);  // graphs per token for tg, one per pp run
  const unit = r.n_prompt > 0 ? "ms/run" : "ms/token";
  const cells = rows.map((e) => [e.op, e.type, (e.count / runs).toFixed(0), (e.ns / runs / 1e6).toFixed(3),
    `${((100 * e.ns) / Math.max(total, 1)).toFixed(1)} %`, e.threads.toFixed(1)]);
  cells.push(["total", "", "", (total / runs / 1e6).toFixed(3), "100 %", ""]);
  return `\n${r.test}: time per op (backend ${r.backend}, nodes per ${r.n_prompt > 0 ? "run" : "token"})\n` +
    markdownTable(["op", "type", "nodes", unit, "share", "threads"], [false, false, true, true, true, true], cells);
}

/** A markdown table with padded columns; right-aligned where `right` says so. */
function markdownTable(head: string[], right: boolean[], cells: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (right[i] ? x.padStart(w[i]!) : x.padEnd(w[i]!))).join(" | ")} |\n`;
  const sep = `| ${w.map((n, i) => (right[i] ? "-".repeat(n - 1) + ":" : "-".repeat(n))).join(" | ")} |\n`;
  return line(head) + sep + cells.map(line).join("");
}

function summary(samples: number[]): Pick<BenchResult, "samples_ts" | "median_ts" | "avg_ts" | "stddev_ts"> {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const avg = samples.reduce((a, b) => a + b, 0) / samples.length;
  const sd = samples.length > 1 ? Math.sqrt(samples.reduce((a, b) => a + (b - avg) ** 2, 0) / (samples.length - 1)) : 0;
  return { samples_ts: samples, median_ts: median, avg_ts: avg, stddev_ts: sd };
}

async function describeModel(path: string | undefined): Promise<Pick<BenchResult, "model_filename" | "model_type" | "model_size" | "model_n_params">> {
  if (path === undefined) return { model_filename: "", model_type: "", model_size: 0, model_n_params: 0 };
  let file;
  try { file = await openGguf(path); } catch { return { model_filename: path, model_type: "?", model_size: 0, model_n_params: 0 }; }
  try {
    const s = summarizeGguf(file);
    // Named after the type holding most of the bytes, as llama-bench names a model by its file type.
    const main = Object.entries(s.types).sort((a, b) => b[1].bytes - a[1].bytes)[0]?.[0] ?? "?";
    return { model_filename: path, model_type: `${s.architecture ?? "?"} ${main.toUpperCase()}`, model_size: s.tensorBytes, model_n_params: s.parameters };
  } finally {
    await file.close();
  }
}

function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  return `${(n / 1e3).toFixed(2)} K`;
}

/** A markdown table in llama-bench's layout. */
function table(rows: BenchResult[]): string {
  const head = ["model", "size", "params", "backend", "threads", "test", "t/s"];
  const right = [false, true, true, false, true, true, true];
  const cells = rows.map((r) => [
    `${r.model_type} (${basename(r.model_filename)})`, formatBytes(r.model_size), formatParams(r.model_n_params), r.backend,
    r.n_threads === null ? "-" : String(r.n_threads), r.test, `${r.median_ts.toFixed(2)} ± ${r.stddev_ts.toFixed(2)}`,
  ]);
  return markdownTable(head, right, cells) + "\nt/s: median ± standard deviation over the repetitions\n";
}
