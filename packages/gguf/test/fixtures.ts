// Locations of the shared golden fixtures, relative to this file (no absolute paths).
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../../../../shared/fixtures/", import.meta.url));
export const fixture = (name: string) => FIXTURES + name;

export const MODEL_FIXTURES = [
  "tiny-kimi-linear-f32.gguf",
  "tiny-qwen3next-f32.gguf",
  "kimi-q-f32.gguf",
  "kimi-q-q8_0.gguf",
  "kimi-q-q4_k_m.gguf",
];
export const VOCAB_FIXTURES = ["tokenizer/tok-kimi-k2.gguf", "tokenizer/tok-qwen2.gguf"];
export const ALL_FIXTURES = [...MODEL_FIXTURES, ...VOCAB_FIXTURES];
