/** GGUF `tokenizer.ggml.token_type` values. */
export enum TokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

/** Everything the tokenizer needs, as read from `tokenizer.*` GGUF metadata (or a tokenizer.json). */
export interface TokenizerData {
  /** `tokenizer.ggml.model`; only "gpt2" (byte-level BPE) is supported. */
  model: string;
  /** `tokenizer.ggml.pre`, e.g. "kimi-k2", "qwen2", "llama3", "gpt2", "default". */
  pre: string;
  tokens: string[];
  /** One TokenType per token; missing entries count as NORMAL. */
  tokenTypes: number[];
  /** "left right" strings in rank order; may be empty for kimi-k2 (ranks then follow token ids). */
  merges: string[];
  bosId?: number;
  eosId?: number;
  eotId?: number;
  padId?: number;
  addBos: boolean;
  addEos: boolean;
  chatTemplate?: string;
}

export interface EncodeOptions {
  /** Add BOS/EOS as the vocabulary asks (`addBos`/`addEos`). Default true. */
  addSpecial?: boolean;
  /** Recognise CONTROL token text (e.g. "<|im_end|>") in the input. Default false. USER_DEFINED tokens are always recognised. */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render CONTROL tokens as their text; otherwise they decode to nothing. Default false. */
  special?: boolean;
}
