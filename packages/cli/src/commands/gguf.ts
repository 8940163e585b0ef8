// `ggts gguf info FILE [--tensors] [--json]`: header facts, key metadata, type histogram, tensor table.

import { GgufError, formatGgufInfo, ggufInfoJson, openGguf } from "@ggts/gguf";

const USAGE = "usage: ggts gguf info FILE [--tensors] [--json]";

export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h" || sub === undefined) {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "info") {
    console.error(`ggts gguf: unknown subcommand "${sub}"\n${USAGE}`);
    return 2;
  }
  const flags = new Set(rest.filter((a) => a.startsWith("--")));
  const files = rest.filter((a) => !a.startsWith("--"));
  for (const f of flags) {
    if (f !== "--tensors" && f !== "--json") {
      console.error(`ggts gguf info: unknown option ${f}\n${USAGE}`);
      return 2;
    }
  }
  if (files.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  try {
    const f = await openGguf(files[0]);
    try {
      const opts = { tensors: flags.has("--tensors") };
      if (flags.has("--json")) console.log(JSON.stringify(ggufInfoJson(f, opts), null, 2));
      else console.log(formatGgufInfo(f, opts));
    } finally {
      await f.close();
    }
    return 0;
  } catch (e) {
    console.error(e instanceof GgufError ? e.message : `ggts gguf info: ${(e as Error).message}`);
    return 1;
  }
}
