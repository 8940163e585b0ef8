// Map GGUF `tokenizer.*` metadata onto TokenizerData.
import type { TokenizerData } from "./types.js";

/** The subset of @ggts/gguf's GgufFile that the tokenizer reads (kept structural to avoid a hard type dependency). */
export interface GgufMetadataSource {
  has(key: string): boolean;
  getString(key: string, dflt?: string): string;
  getNumber(key: string, dflt?: number): number;
  getBool(key: string, dflt?: boolean): boolean;
  getStringArray(key: string, dflt?: string[]): string[];
  getNumberArray(key: string, dflt?: number[]): ArrayLike<number>;
}

const K = {
  model: "tokenizer.ggml.model",
  pre: "tokenizer.ggml.pre",
  tokens: "tokenizer.ggml.tokens",
  types: "tokenizer.ggml.token_type",
  merges: "tokenizer.ggml.merges",
  bos: "tokenizer.ggml.bos_token_id",
  eos: "tokenizer.ggml.eos_token_id",
  eot: "tokenizer.ggml.eot_token_id",
  pad: "tokenizer.ggml.padding_token_id",
  addBos: "tokenizer.ggml.add_bos_token",
  addEos: "tokenizer.ggml.add_eos_token",
  template: "tokenizer.chat_template",
} as const;

export function tokenizerDataFromGguf(file: GgufMetadataSource): TokenizerData {
  if (!file.has(K.model)) throw new Error(`tokenizer: GGUF has no ${K.model} key`);
  if (!file.has(K.tokens)) throw new Error(`tokenizer: GGUF has no ${K.tokens} key`);
  const optId = (key: string) => (file.has(key) ? file.getNumber(key) : undefined);
  const data: TokenizerData = {
    model: file.getString(K.model),
    pre: file.has(K.pre) ? file.getString(K.pre) : "default",
    tokens: file.getStringArray(K.tokens),
    tokenTypes: file.has(K.types) ? Array.from(file.getNumberArray(K.types)) : [],
    merges: file.has(K.merges) ? file.getStringArray(K.merges) : [],
    bosId: optId(K.bos),
    eosId: optId(K.eos),
    eotId: optId(K.eot),
    padId: optId(K.pad),
    // llama.cpp's BPE default for a missing add_bos_token is false; a file that wants BOS says so.
    addBos: file.has(K.addBos) ? file.getBool(K.addBos) : false,
    addEos: file.has(K.addEos) ? file.getBool(K.addEos) : false,
  };
  if (file.has(K.template)) data.chatTemplate = file.getString(K.template);
  return data;
}
