// Golden fixtures (llama.cpp b8115 logits) and comparison helpers for the model tests.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../../../../shared/fixtures/", import.meta.url));
export const fixture = (name: string) => FIXTURES + name;
export const hasFixtures = existsSync(fixture("tiny-kimi-linear-f32.gguf"));

export interface Golden { tokens: number[]; nVocab: number; logits: Float32Array }

export function golden(name: string, dir = "goldens"): Golden {
  const meta = JSON.parse(readFileSync(fixture(`${dir}/${name}.json`), "utf8"));
  const buf = readFileSync(fixture(`${dir}/${name}.logits.f32`));
  const logits = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (logits.length !== meta.tokens.length * meta.n_vocab) throw new Error(`${name}: logits size mismatch`);
  return { tokens: meta.tokens, nVocab: meta.n_vocab, logits };
}

export function genGolden(model: string): { prompt: number[]; generated: number[] } {
  const g = JSON.parse(readFileSync(fixture(`goldens/${model}.short.gen.json`), "utf8"));
  return { prompt: g.prompt_tokens, generated: g.generated_tokens };
}

export const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d; }
  return m;
};

export function nmse(a: Float32Array, ref: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - ref[i]) ** 2; den += ref[i] ** 2; }
  return num / den;
}

/** argmax with the lowest id winning ties (std::max_element). */
export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

export function argmaxAgreement(a: Float32Array, b: Float32Array, nVocab: number): number {
  const n = a.length / nVocab;
  let same = 0;
  for (let t = 0; t < n; t++) {
    if (argmax(a.subarray(t * nVocab, (t + 1) * nVocab)) === argmax(b.subarray(t * nVocab, (t + 1) * nVocab))) same++;
  }
  return same / n;
}
