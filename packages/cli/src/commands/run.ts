// `ggts run -m MODEL (-p TEXT | --tokens 1,2,3) [-n N] [sampling flags] [--chat] [--print-ids]`: streams the
// generated text to stdout; speeds go to stderr. Ctrl-C stops the generation cleanly.
import type { ChatMessage, GeneratePrompt } from "@ggts/models";
import { MODEL_FLAGS, MODEL_USAGE, UsageError, parseFlags, runCommand } from "../args.js";
import { loadModelFromFlags } from "../progress.js";

const USAGE = `usage: ggts run -m MODEL (-p TEXT | --tokens 1,2,3) [options]
${MODEL_USAGE}
  -p, --prompt TEXT    prompt (special-token text such as <|im_end|> is recognised)
  --tokens IDS         prompt as comma-separated token ids
  --chat               wrap the prompt as a user message in the model's chat template
  --system TEXT        system message (with --chat)
  -n, --n-predict N    tokens to generate (default 128)
  --temp T             temperature (default 0.8; 0 = greedy)
  --top-k K            (default 40; 0 = off)      --top-p P   (default 0.95; 1 = off)
  --min-p P            (default 0.05; 0 = off)    --seed S    (default: random)
  --repeat-penalty X   (default 1)  --presence-penalty X (0)  --frequency-penalty X (0)  --repeat-last-n N (64)
  --ignore-eos         keep generating through end-of-generation tokens
  --print-ids          print the generated token ids as a JSON array on the last line
  --no-stats           do not print speeds to stderr`;

const FLAGS = {
  ...MODEL_FLAGS,
  prompt: { kind: "string", alias: ["-p"] },
  tokens: { kind: "ids" },
  chat: { kind: "bool" },
  system: { kind: "string" },
  "n-predict": { kind: "int", alias: ["-n"], min: 0 },
  temp: { kind: "number", min: 0 },
  "top-k": { kind: "int", min: 0 },
  "top-p": { kind: "number", min: 0, max: 1 },
  "min-p": { kind: "number", min: 0, max: 1 },
  seed: { kind: "int", alias: ["-s"], min: 0, max: 0xffffffff },
  "repeat-penalty": { kind: "number", min: 0 },
  "presence-penalty": { kind: "number" },
  "frequency-penalty": { kind: "number" },
  "repeat-last-n": { kind: "int", min: -1 },
  "ignore-eos": { kind: "bool" },
  "print-ids": { kind: "bool" },
  "no-stats": { kind: "bool" },
} as const;

// A closed pipe (e.g. `| head`) ends the generation quietly instead of crashing on the write error.
let pipeClosed = false;
let closeStdout: () => void = () => undefined;
const stdoutClosed = new Promise<void>((resolve) => { closeStdout = resolve; });
let watching = false;
function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    pipeClosed = true;
    closeStdout();
  });
}

export async function main(args: string[]): Promise<number> {
  return runCommand("run", USAGE, args, async () => {
    const f = parseFlags(args, FLAGS);
    if (f.prompt === undefined && f.tokens === undefined) throw new UsageError("give a prompt with -p TEXT or --tokens IDS");
    if (f.prompt !== undefined && f.tokens !== undefined) throw new UsageError("give either -p or --tokens, not both");
    if (f.chat && f.tokens !== undefined) throw new UsageError("--chat needs a text prompt (-p)");
    if (f.system !== undefined && !f.chat) throw new UsageError("--system needs --chat");
    if (f["repeat-penalty"] === 0) throw new UsageError("--repeat-penalty must be > 0");

    const model = await loadModelFromFlags(f);
    try {
      let prompt: GeneratePrompt;
      if (f.tokens !== undefined) prompt = f.tokens;
      else if (f.chat) {
        const msgs: ChatMessage[] = f.system !== undefined ? [{ role: "system", content: f.system }] : [];
        prompt = [...msgs, { role: "user", content: f.prompt! }];
      } else prompt = f.prompt!;
      if (typeof prompt === "string" && !model.tokenizer) throw new Error(`the model has no tokenizer; use --tokens`);

      const session = await model.createSession();
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once("SIGINT", onSigint);
      watchStdout();
      stdoutClosed.then(() => ac.abort(), () => undefined);
      let text = "";
      let gen;
      try {
        gen = session.generate(prompt, {
          maxTokens: f["n-predict"] ?? 128,
          temperature: f.temp ?? 0.8,
          topK: f["top-k"] ?? 40,
          topP: f["top-p"] ?? 0.95,
          minP: f["min-p"] ?? 0.05,
          repeatPenalty: f["repeat-penalty"] ?? 1,
          presencePenalty: f["presence-penalty"] ?? 0,
          frequencyPenalty: f["frequency-penalty"] ?? 0,
          penaltyLastN: f["repeat-last-n"] ?? 64,
          seed: f.seed,
          ignoreEog: f["ignore-eos"] ?? false,
          signal: ac.signal,
        });
        for await (const piece of gen) {
          if (piece.text) {
            process.stdout.write(piece.text);
            text += piece.text;
          }
        }
      } finally {
        process.off("SIGINT", onSigint);
      }
      if (!pipeClosed && text.length > 0 && !text.endsWith("\n")) process.stdout.write("\n");
      if (!f["no-stats"]) {
        const s = gen.stats;
        process.stderr.write(`prompt: ${s.promptTokens} tokens, ${s.promptTokensPerSecond.toFixed(2)} tokens/s | ` +
          `generation: ${s.generatedTokens} tokens, ${s.generationTokensPerSecond.toFixed(2)} tokens/s | ` +
          `stop: ${gen.finishReason} | backend: ${model.backend.name}\n`);
      }
      if (f["print-ids"] && !pipeClosed) process.stdout.write(JSON.stringify(gen.tokens) + "\n");
      return 0;
    } finally {
      model.dispose();
    }
  });
}
