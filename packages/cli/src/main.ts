#!/usr/bin/env node
// The `ggts` command: dispatches to packages/cli/src/commands/<name>.ts, loaded on demand so that one
// command's heavy dependencies (native addons, GPU) never slow down or break another.

const COMMANDS: Record<string, string> = {
  run: "generate text from a model",
  logits: "write the logits of every prompt position to a file",
  tokenize: "print the token ids of a text",
  bench: "measure prompt and generation speed",
  "test-ops": "check or time every op of a backend against the reference",
  gguf: "inspect a GGUF file (ggts gguf info FILE)",
  quantize: "quantize a GGUF model",
  synth: "write a random-weight model",
  demo: "generate text with the embedded tiny Kimi-Linear model",
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return ["usage: ggts <command> [args]", "", ...Object.entries(COMMANDS).map(([c, d]) => `  ${c.padEnd(w)}  ${d}`)].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  if (!cmd || cmd === "-h" || cmd === "--help" || cmd === "help") { console.log(usage()); return cmd ? 0 : 1; }
  if (!(cmd in COMMANDS)) { console.error(`ggts: unknown command "${cmd}"\n${usage()}`); return 1; }
  const mod = (await import(`./commands/${cmd}.js`)) as { main(args: string[]): Promise<number> };
  return mod.main(args);
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry || process.argv[1]?.endsWith("/cli/dist/main.js")) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    console.error(`ggts: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.GGTS_DEBUG) console.error(e);
    process.exitCode = 1;
  });
}
