// Flag parsing shared by the model commands (run, logits, bench, demo): a declarative spec per command,
// typed values, `--flag value` and `--flag=value`, and one-line errors that name the flag.

export type FlagKind = "string" | "int" | "number" | "bool" | "ids";

export interface FlagDef {
  kind: FlagKind;
  /** Other spellings, e.g. ["-m"] for --model. */
  alias?: readonly string[];
  /** Inclusive bounds for int/number. */
  min?: number;
  max?: number;
  /** Allowed values for string flags. */
  choices?: readonly string[];
}

type ValueOf<K extends FlagKind> = K extends "string" ? string : K extends "bool" ? boolean : K extends "ids" ? number[] : number;
export type Parsed<S extends Record<string, FlagDef>> = { [K in keyof S]?: ValueOf<S[K]["kind"]> } & { _: string[] };

/** A mistake in the command line (reported as one line, exit code 1). */
export class UsageError extends Error {}

/** "1,2, 3" → [1, 2, 3]; every id a non-negative integer. */
export function parseIds(text: string, flag = "--tokens"): number[] {
  const parts = text.split(/[\s,]+/).filter((p) => p.length > 0);
  if (parts.length === 0) throw new UsageError(`${flag} needs a comma-separated list of token ids, got "${text}"`);
  return parts.map((p) => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(n)) throw new UsageError(`${flag}: "${p}" is not a token id (non-negative integer)`);
    return n;
  });
}

function convert(flag: string, def: FlagDef, raw: string): string | number | number[] {
  if (def.kind === "string") {
    if (def.choices && !def.choices.includes(raw)) throw new UsageError(`${flag} must be one of ${def.choices.join(", ")}, got "${raw}"`);
    return raw;
  }
  if (def.kind === "ids") return parseIds(raw, flag);
  const n = raw.trim() === "" ? NaN : Number(raw);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${raw}"`);
  if (def.kind === "int" && !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be an integer, got "${raw}"`);
  if (def.min !== undefined && n < def.min) throw new UsageError(`${flag} must be >= ${def.min}, got ${raw}`);
  if (def.max !== undefined && n > def.max) throw new UsageError(`${flag} must be <= ${def.max}, got ${raw}`);
  return n;
}

/**
 * Parses args against spec (keys are long names without "--"). Positionals are collected in `_` when
 * `positionals` allows them (default none); "--" ends the flags.
 */
export function parseFlags<S extends Record<string, FlagDef>>(args: readonly string[], spec: S, positionals = 0): Parsed<S> {
  const byName = new Map<string, [string, FlagDef]>();
  for (const [key, def] of Object.entries(spec)) {
    byName.set(`--${key}`, [key, def]);
    for (const a of def.alias ?? []) byName.set(a, [key, def]);
  }
  const out: Record<string, unknown> = { _: [] as string[] };
  const pos = out._ as string[];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") { pos.push(...args.slice(i + 1)); break; }
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) { pos.push(a); continue; }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const hit = byName.get(name);
    if (!hit) throw new UsageError(`unknown option ${name}`);
    const [key, def] = hit;
    if (def.kind === "bool") {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      out[key] = true;
      continue;
    }
    let raw: string | undefined;
    if (eq > 0) raw = a.slice(eq + 1);
    else {
      raw = args[++i];
      // A following flag means the value is missing (negative numbers are still accepted).
      if (raw === undefined || (raw.startsWith("-") && raw.length > 1 && !/^-[\d.]/.test(raw))) throw new UsageError(`${name} needs a value`);
    }
    out[key] = convert(name, def, raw);
  }
  if (pos.length > positionals) throw new UsageError(`unexpected argument "${pos[positionals]}"`);
  return out as Parsed<S>;
}

/** The wrapper every command's main uses: --help prints usage, any error becomes "ggts CMD: message". */
export async function runCommand(cmd: string, usage: string, args: readonly string[], body: () => Promise<number>): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    process.stdout.write(usage + "\n");
    return 0;
  }
  try {
    return await body();
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    process.stderr.write(`ggts ${cmd}: ${msg}${e instanceof UsageError ? ` (see ggts ${cmd} --help)` : ""}\n`);
    if (process.env.GGTS_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

/** Flags of every command that loads a model. */
export const MODEL_FLAGS = {
  model: { kind: "string", alias: ["-m"] },
  backend: { kind: "string" },
  threads: { kind: "int", alias: ["-t"], min: 1, max: 512 },
  "ctx-size": { kind: "int", alias: ["-c"], min: 1 },
  "kv-type": { kind: "string", choices: ["f32", "f16", "q8_0"] },
  "delta-net": { kind: "string", choices: ["fused", "decomposed"] },
  "flash-attn": { kind: "bool", alias: ["-fa"] },
  ubatch: { kind: "int", alias: ["-ub"], min: 1 },
} as const satisfies Record<string, FlagDef>;

export const MODEL_USAGE =
  "  -m, --model FILE     GGUF model (kimi-linear or qwen3next)\n" +
  "  --backend NAME       reference, cpu, webgpu, cuda (default: cuda, else cpu, else reference)\n" +
  "  -t, --threads N      CPU threads (default: physical cores)\n" +
  "  -c, --ctx-size N     context size in tokens\n" +
  "  --kv-type T          attention cache type: f32, f16 (default), q8_0\n" +
  "  --delta-net MODE     fused (default) or decomposed delta rule\n" +
  "  -fa, --flash-attn    attention through FLASH_ATTN_EXT\n" +
  "  -ub, --ubatch N      tokens per graph (default 512)";
