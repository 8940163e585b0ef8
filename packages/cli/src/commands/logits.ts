// `ggts logits -m MODEL (--tokens 1,2,3 | -p TEXT) [--ubatch N] --out FILE`: the logits of every prompt
// position as little-endian float32 [n_tokens][n_vocab] (the layout of the llama.cpp goldens).
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { openGguf } from "@ggts/gguf";
import { tokenizerFromGguf } from "@ggts/models";
import { MODEL_FLAGS, MODEL_USAGE, UsageError, parseFlags, runCommand } from "../args.js";
import { loadModelFromFlags } from "../progress.js";

const USAGE = `usage: ggts logits -m MODEL (--tokens 1,2,3 | -p TEXT) --out FILE [options]
${MODEL_USAGE}
  --tokens IDS         prompt as comma-separated token ids
  -p, --prompt TEXT    prompt text (tokenized with special tokens parsed, like llama.cpp)
  --ubatch N           tokens per graph; 1 evaluates token by token (default 512)
  -o, --out FILE       output: float32 little-endian [n_tokens][n_vocab]`;

const FLAGS = {
  ...MODEL_FLAGS,
  prompt: { kind: "string", alias: ["-p"] },
  tokens: { kind: "ids" },
  out: { kind: "string", alias: ["-o"] },
} as const;

export async function main(args: string[]): Promise<number> {
  return runCommand("logits", USAGE, args, async () => {
    const f = parseFlags(args, FLAGS);
    if (f.prompt === undefined && f.tokens === undefined) throw new UsageError("give the prompt with --tokens IDS or -p TEXT");
    if (f.prompt !== undefined && f.tokens !== undefined) throw new UsageError("give either -p or --tokens, not both");
    if (f.out === undefined) throw new UsageError("missing --out FILE");
    const tokens = f.tokens ?? (await tokenizeWithFile(f.model, f.prompt!));
    if (tokens.length === 0) throw new Error("the prompt has no tokens");
    // The whole prompt must fit: the context is at least the prompt length.
    const model = await loadModelFromFlags({ ...f, "ctx-size": Math.max(f["ctx-size"] ?? 0, tokens.length, 512) });
    try {
      const session = await model.createSession();
      const logits = await session.evaluate(tokens, { allLogits: true, ubatch: f.ubatch });
      await writeFile(f.out, littleEndianBytes(logits));
      process.stdout.write(`${f.out}: ${tokens.length} x ${model.nVocab} float32 logits (tokens ${JSON.stringify(tokens)})\n`);
      return 0;
    } finally {
      model.dispose();
    }
  });
}

/** Tokenizes with the GGUF's own vocabulary (before loading, so that the context can fit the prompt). */
async function tokenizeWithFile(path: string | undefined, text: string): Promise<number[]> {
  if (path === undefined) throw new UsageError("missing -m MODEL");
  if (!existsSync(path)) throw new Error(`model file not found: ${path}`);
  const file = await openGguf(path);
  try {
    if (!file.has("tokenizer.ggml.tokens")) throw new Error("the model has no tokenizer; use --tokens");
    return tokenizerFromGguf(file).encode(text, { addSpecial: true, parseSpecial: true });
  } finally {
    await file.close();
  }
}

function littleEndianBytes(a: Float32Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) return bytes;
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i]!, true);
  return out;
}
