// `ggts synth`: write a random-weight Kimi-Linear / Qwen3-Next GGUF (see synthModel in @ggts/gguf).

import { readFileSync } from "node:fs";
import { PRESETS, ProgressBar, type SynthArch, formatBytes, resolveConfig, synthModel } from "@ggts/gguf";

const USAGE = `usage: ggts synth --arch kimi-linear|qwen3next (--preset NAME | --config FILE.json) --out F.gguf
                  [--type T] [--layers N] [--experts N] [--seed S] [--threads N] [--name NAME] [--dry-run] [--fast | --exact]
  presets: kimi-linear: ${Object.keys(PRESETS["kimi-linear"]).join(", ")}; qwen3next: ${Object.keys(PRESETS.qwen3next).join(", ")}
  --config: JSON with config fields (e.g. {"hidden":256,"layers":2,"vocab":1024}) over --preset (default tiny)
  --dry-run: print the tensor types and exact file size without generating anything
  --fast: write quantized tensors as random blocks (mean 0, rms as the f32 path; default above 50 M params)
  --exact: generate f32 values and run the exact quantizer (default for smaller models; ~1-4 µs per weight)
  --type: f32 (default), f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, q4_k_m, ...`;

const VALUE_FLAGS = ["--arch", "--preset", "--config", "--out", "--type", "--layers", "--experts", "--seed", "--threads", "--name"];

function parseArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!VALUE_FLAGS.includes(a)) throw new Error(`unknown argument "${a}"`);
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value`);
    out[a.slice(2)] = v;
    i++;
  }
  return out;
}

function intArg(o: Record<string, string>, k: string): number | undefined {
  if (o[k] === undefined) return undefined;
  const n = Number(o[k]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${k} must be a non-negative integer, got "${o[k]}"`);
  return n;
}

export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const dryRun = args.includes("--dry-run");
  const fast = args.includes("--fast"), exact = args.includes("--exact");
  if (fast && exact) {
    console.error(`ggts synth: --fast and --exact exclude each other\n${USAGE}`);
    return 2;
  }
  args = args.filter((a) => a !== "--dry-run" && a !== "--fast" && a !== "--exact");
  let o: Record<string, string>;
  try {
    o = parseArgs(args);
    if (!o.arch || (!o.out && !dryRun)) throw new Error("--arch and --out are required");
    if (o.arch !== "kimi-linear" && o.arch !== "qwen3next") throw new Error(`--arch must be kimi-linear or qwen3next, got "${o.arch}"`);
    if (!o.preset && !o.config) throw new Error("give --preset or --config");
  } catch (e) {
    console.error(`ggts synth: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const arch = o.arch as SynthArch;
    const config = o.config ? JSON.parse(readFileSync(o.config, "utf8")) : undefined;
    const layers = intArg(o, "layers"), experts = intArg(o, "experts");
    // Resolve once up front so a bad preset/config fails before the bar starts.
    const cfg = resolveConfig(arch, o.preset ?? (config ? undefined : "tiny"), config, { layers, experts });
    const bar = new ProgressBar("synth", 1);
    const r = await synthModel({
      arch, preset: o.preset, config, layers, experts, type: o.type ?? "f32", seed: intArg(o, "seed") ?? 0,
      out: dryRun ? undefined : o.out, name: o.name, threads: intArg(o, "threads"), dryRun,
      fastQuant: fast ? true : exact ? false : undefined,
      onProgress: (p) => bar.update(p.bytesWritten / p.totalBytes, `${p.tensorIndex + 1}/${p.tensorCount} ${p.name}`),
    });
    bar.finish();
    console.log(`${dryRun ? "(dry run) " + (o.out ?? "") : r.path}: ${cfg.arch} ${cfg.layers} layers, ${cfg.experts} experts, vocab ${cfg.vocab}, ` +
      `${(r.parameters / 1e9).toFixed(3)} B params, ${r.tensorCount} tensors, ${formatBytes(r.fileSize)} in ${r.seconds.toFixed(1)} s`);
    console.log(`types: ${Object.entries(r.types).map(([k, v]) => `${k} ${v}`).join(", ")}` +
      (r.fastQuant ? " (quantized tensors as random blocks: --fast)" : ""));
    return 0;
  } catch (e) {
    console.error(`ggts synth: ${(e as Error).message}`);
    return 1;
  }
}
