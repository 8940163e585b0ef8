// `ggts tokenize -m MODEL [--no-special] [--parse-special] [--stdin | TEXT]`: print the GGUF tokenizer's ids as JSON.

import { openGguf } from "@ggts/gguf";
import { Tokenizer, tokenizerDataFromGguf } from "@ggts/models";

const USAGE = "usage: ggts tokenize -m MODEL.gguf [--no-special] [--parse-special] [--stdin | TEXT]";

interface Args {
  model?: string;
  addSpecial: boolean;
  parseSpecial: boolean;
  stdin: boolean;
  text?: string;
}

function parseArgs(args: string[]): Args {
  const out: Args = { addSpecial: true, parseSpecial: false, stdin: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-m" || a === "--model") {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a file path`);
      out.model = v;
    } else if (a === "-p" || a === "--prompt") {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a text`);
      if (out.text !== undefined) throw new Error("more than one TEXT given (quote it as one argument)");
      out.text = v;
    } else if (a === "--no-special") {
      out.addSpecial = false;
    } else if (a === "--parse-special") {
      out.parseSpecial = true;
    } else if (a === "--stdin") {
      out.stdin = true;
    } else if (a === "--") {
      for (const rest of args.slice(i + 1)) {
        if (out.text !== undefined) throw new Error("more than one TEXT given (quote it as one argument)");
        out.text = rest;
      }
      break;
    } else if (a.startsWith("-") && a.length > 1) {
      throw new Error(`unknown option ${a}`);
    } else {
      if (out.text !== undefined) throw new Error("more than one TEXT given (quote it as one argument)");
      out.text = a;
    }
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function main(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  try {
    const a = parseArgs(args);
    if (a.model === undefined) throw new Error("missing -m MODEL");
    if (a.stdin && a.text !== undefined) throw new Error("give either --stdin or TEXT, not both");
    if (!a.stdin && a.text === undefined) throw new Error("missing TEXT (or --stdin)");
    const text = a.stdin ? await readStdin() : a.text!;
    const file = await openGguf(a.model);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerDataFromGguf(file));
    } finally {
      await file.close();
    }
    const ids = tokenizer.encode(text, { addSpecial: a.addSpecial, parseSpecial: a.parseSpecial });
    process.stdout.write(JSON.stringify(ids) + "\n");
    return 0;
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    console.error(`ggts tokenize: ${msg}`);
    return 1;
  }
}
