#!/usr/bin/env node
// Long deterministic fuzz run of the GGUF parser over the shared fixture GGUFs.
// Build first (`npx tsc -b packages/gguf`), then: node packages/gguf/scripts/fuzz-long.mjs [--cases N] [--seed S] [--fixtures DIR]
// Exits 1 on the first case that neither parses nor throws GgufError (the message names the seed and mutation).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fuzzInput } from "../dist/testing/fuzz.js";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const total = Number(opt("--cases", "20000"));
const seed = Number(opt("--seed", "20260101"));
const dir = opt("--fixtures", fileURLToPath(new URL("../../../../shared/fixtures/", import.meta.url)));
const files = [
  "tiny-kimi-linear-f32.gguf", "tiny-qwen3next-f32.gguf", "kimi-q-f32.gguf", "kimi-q-q8_0.gguf", "kimi-q-q4_k_m.gguf",
  "tokenizer/tok-kimi-k2.gguf", "tokenizer/tok-qwen2.gguf",
];

const t0 = performance.now();
let sum = { cases: 0, ok: 0, errors: 0, slowestMs: 0, slowest: "" };
for (const [i, f] of files.entries()) {
  const bytes = new Uint8Array(readFileSync(dir + "/" + f));
  const n = Math.floor(total / files.length) + (i < total % files.length ? 1 : 0);
  const t = performance.now();
  const st = fuzzInput(bytes, n, seed + i);
  console.log(`${f}: ${st.cases} cases, ${st.ok} parsed, ${st.errors} GgufError, ${((performance.now() - t) / 1000).toFixed(1)} s, slowest ${st.slowestMs.toFixed(1)} ms (${st.slowest})`);
  sum.cases += st.cases; sum.ok += st.ok; sum.errors += st.errors;
  if (st.slowestMs > sum.slowestMs) { sum.slowestMs = st.slowestMs; sum.slowest = `${f} ${st.slowest}`; }
}
console.log(`TOTAL: ${sum.cases} cases (seed ${seed}), ${sum.ok} parsed, ${sum.errors} GgufError, 0 other failures, ` +
  `${((performance.now() - t0) / 1000).toFixed(1)} s; slowest case ${sum.slowestMs.toFixed(1)} ms`);
