// Byte-level BPE tokenizer with llama.cpp's encoding rules (special-token partition, pre-tokenizer, BPE).
import { BytePairEncoder } from "./bpe.js";
import { tokenizerDataFromGguf, type GgufMetadataSource } from "./gguf-data.js";
import { getPreTokenizer, type PreTokenizer } from "./pretokenize.js";
import { StreamingDecoder } from "./stream-decoder.js";
import { TokenType, type DecodeOptions, type EncodeOptions, type TokenizerData } from "./types.js";
import { CHAR_TO_BYTE, utf8Encode } from "./unicode.js";

// Texts llama.cpp also treats as end-of-generation when they are present as CONTROL tokens.
const EOG_TEXTS = new Set([
  "<|im_end|>",
  "<|endoftext|>",
  "[EOT]",
  "[EOS]",
  "<|eot_id|>",
  "<|eom_id|>",
  "<|end|>",
  "<end_of_turn>",
  "<EOT>",
]);

const EMPTY = new Uint8Array(0);

// Pre-tokenizer types for which llama.cpp emits a piece that is a whole token without running BPE.
const IGNORE_MERGES_PRE = new Set(["llama3", "llama-bpe"]);

export class Tokenizer {
  readonly model: string;
  readonly pre: string;
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly eotId: number | undefined;
  readonly padId: number | undefined;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly chatTemplate: string | undefined;
  /** Token ids that end generation: eos, eot and CONTROL tokens such as <|im_end|>, [EOT], <|endoftext|>. */
  readonly eogIds: ReadonlySet<number>;

  private readonly tokens: readonly string[];
  private readonly types: Uint8Array;
  private readonly bpe: BytePairEncoder;
  private readonly preTokenize: PreTokenizer;
  /** CONTROL / USER_DEFINED / UNKNOWN ids, longest text first (the order llama.cpp partitions in). */
  private readonly specialIds: readonly number[];
  private readonly bytesCache: (Uint8Array | undefined)[];

  constructor(data: TokenizerData) {
    if (data.model !== "gpt2") {
      throw new Error(`tokenizer: unsupported tokenizer.ggml.model "${data.model}" (only "gpt2" byte-level BPE)`);
    }
    const n = data.tokens.length;
    if (n === 0) throw new Error("tokenizer: empty token list");
    if (data.tokenTypes.length !== 0 && data.tokenTypes.length !== n) {
      throw new Error(`tokenizer: token_type has ${data.tokenTypes.length} entries, tokens has ${n}`);
    }
    for (const [name, id] of [
      ["bos", data.bosId],
      ["eos", data.eosId],
      ["eot", data.eotId],
      ["pad", data.padId],
    ] as const) {
      if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= n)) {
        throw new Error(`tokenizer: ${name} token id ${id} is outside the vocabulary [0, ${n})`);
      }
    }
    if (data.addBos && data.bosId === undefined) throw new Error("tokenizer: add_bos_token is set but there is no bos_token_id");
    if (data.addEos && data.eosId === undefined) throw new Error("tokenizer: add_eos_token is set but there is no eos_token_id");

    this.model = data.model;
    this.pre = data.pre;
    this.vocabSize = n;
    this.tokens = data.tokens;
    this.types = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.types[i] = data.tokenTypes[i] ?? TokenType.NORMAL;
    this.bosId = data.bosId;
    this.eosId = data.eosId;
    this.eotId = data.eotId;
    this.padId = data.padId;
    this.addBos = data.addBos;
    this.addEos = data.addEos;
    this.chatTemplate = data.chatTemplate;
    this.preTokenize = getPreTokenizer(data.pre);
    this.bpe = new BytePairEncoder(
      data.tokens,
      data.merges,
      (id) => {
        const t = this.types[id];
        return t === TokenType.NORMAL || t === TokenType.BYTE;
      },
      IGNORE_MERGES_PRE.has(data.pre),
    );

    const specials: number[] = [];
    const eog = new Set<number>();
    for (let i = 0; i < n; i++) {
      const t = this.types[i];
      if ((t === TokenType.CONTROL || t === TokenType.USER_DEFINED || t === TokenType.UNKNOWN) && this.tokens[i]!.length > 0) {
        specials.push(i);
      }
      if (t === TokenType.CONTROL && EOG_TEXTS.has(this.tokens[i]!)) eog.add(i);
    }
    // llama.cpp orders by byte length; ties keep id order.
    const byteLen = new Map(specials.map((id) => [id, utf8Encode(this.tokens[id]!).length]));
    specials.sort((a, b) => byteLen.get(b)! - byteLen.get(a)! || a - b);
    this.specialIds = specials;
    if (this.eosId !== undefined) eog.add(this.eosId);
    if (this.eotId !== undefined) eog.add(this.eotId);
    this.eogIds = eog;
    this.bytesCache = new Array(n);
  }

  /** Build the tokenizer described by an open GGUF file's `tokenizer.*` metadata. */
  static fromGguf(file: GgufMetadataSource): Tokenizer {
    return new Tokenizer(tokenizerDataFromGguf(file));
  }

  /** Text of a token exactly as stored in the vocabulary (byte chars for normal tokens). */
  tokenText(id: number): string {
    this.checkId(id);
    return this.tokens[id]!;
  }

  tokenType(id: number): TokenType {
    this.checkId(id);
    return this.types[id] as TokenType;
  }

  /** Id of a token given its vocabulary text (e.g. "<|im_end|>"), or undefined. */
  tokenId(text: string): number | undefined {
    return this.bpe.lookup(text);
  }

  isEog(id: number): boolean {
    return this.eogIds.has(id);
  }

  /** Tokenize like llama.cpp's `llama_tokenize(text, add_special, parse_special)`. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addSpecial = opts.addSpecial ?? true;
    const parseSpecial = opts.parseSpecial ?? false;
    const out: number[] = [];
    if (addSpecial && this.addBos) out.push(this.bosId!);
    for (const frag of this.partition(text, parseSpecial)) {
      if (typeof frag === "number") {
        out.push(frag);
        continue;
      }
      for (const piece of this.preTokenize(frag)) this.bpe.encodePiece(piece, out);
    }
    if (addSpecial && this.addEos) out.push(this.eosId!);
    return out;
  }

  /** Drop the memo of already encoded pieces (it is bounded; this is for benchmarks and memory). */
  clearCache(): void {
    this.bpe.clearCache();
  }

  /**
   * Split out special tokens. Like llama.cpp, each special token (longest first) is searched in every
   * remaining text fragment in turn; CONTROL/UNKNOWN ones only when parseSpecial is set.
   */
  private partition(text: string, parseSpecial: boolean): (string | number)[] {
    if (text.length === 0) return [];
    let frags: (string | number)[] = [text];
    for (const id of this.specialIds) {
      const type = this.types[id];
      if (!parseSpecial && (type === TokenType.CONTROL || type === TokenType.UNKNOWN)) continue;
      const s = this.tokens[id]!;
      let next: (string | number)[] | undefined;
      for (let f = 0; f < frags.length; f++) {
        const frag = frags[f]!;
        let at = typeof frag === "string" ? frag.indexOf(s) : -1;
        if (at < 0) {
          next?.push(frag);
          continue;
        }
        next ??= frags.slice(0, f);
        const str = frag as string;
        let pos = 0;
        while (at >= 0) {
          if (at > pos) next.push(str.slice(pos, at));
          next.push(id);
          pos = at + s.length;
          at = str.indexOf(s, pos);
        }
        if (pos < str.length) next.push(str.slice(pos));
      }
      if (next) frags = next;
    }
    return frags;
  }

  /**
   * Raw bytes of one token (llama.cpp `token_to_piece`): normal tokens through the byte map, USER_DEFINED
   * as their text, CONTROL/UNKNOWN as their text only when `special`, UNUSED as nothing.
   */
  tokenBytes(id: number, special = false): Uint8Array {
    this.checkId(id);
    const type = this.types[id];
    if (type === TokenType.CONTROL || type === TokenType.UNKNOWN) {
      return special ? utf8Encode(this.tokens[id]!) : EMPTY;
    }
    if (type === TokenType.USER_DEFINED) return utf8Encode(this.tokens[id]!);
    if (type === TokenType.UNUSED) return EMPTY;
    let bytes = this.bytesCache[id];
    if (!bytes) {
      bytes = decodeByteChars(this.tokens[id]!);
      this.bytesCache[id] = bytes;
    }
    return bytes;
  }

  /** Concatenated bytes of `ids`. */
  decodeBytes(ids: ArrayLike<number>, opts: DecodeOptions = {}): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.tokenBytes(ids[i]!, opts.special ?? false);
      parts.push(b);
      total += b.length;
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Detokenize a whole sequence (invalid UTF-8 becomes U+FFFD). */
  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(this.decodeBytes(ids, opts));
  }

  /** A decoder for streaming generation output one token at a time. */
  createStreamingDecoder(opts: DecodeOptions = {}): StreamingDecoder {
    return new StreamingDecoder(this, opts.special ?? false);
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`tokenizer: token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    }
  }
}

/** Invert the GPT-2 byte map; chars outside it (not produced by byte-level BPE) pass through as UTF-8. */
function decodeByteChars(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
    if (b >= 0) {
      out.push(b);
    } else {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      for (const x of utf8Encode(String.fromCodePoint(cp))) out.push(x);
    }
  }
  return Uint8Array.from(out);
}

