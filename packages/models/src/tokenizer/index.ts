import { Tokenizer } from "./tokenizer.js";
import type { GgufMetadataSource } from "./gguf-data.js";

export { Tokenizer } from "./tokenizer.js";
export { StreamingDecoder, type TokenByteSource } from "./stream-decoder.js";
export { TokenType, type TokenizerData, type EncodeOptions, type DecodeOptions } from "./types.js";
export { tokenizerDataFromGguf, type GgufMetadataSource } from "./gguf-data.js";
export {
  getPreTokenizer,
  splitKimiK2,
  splitByRegex,
  QWEN2_REGEX,
  LLAMA3_REGEX,
  GPT2_REGEX,
  SUPPORTED_PRE_TOKENIZERS,
  type PreTokenizer,
} from "./pretokenize.js";
export { BytePairEncoder } from "./bpe.js";
export { BYTE_TO_CHAR, byteEncode } from "./unicode.js";

/** Build the tokenizer described by an open GGUF file's `tokenizer.*` metadata. */
export function tokenizerFromGguf(file: GgufMetadataSource): Tokenizer {
  return Tokenizer.fromGguf(file);
}
