import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openGguf } from "@ggts/gguf";
import {
  BYTE_TO_CHAR,
  Tokenizer,
  TokenType,
  getPreTokenizer,
  splitKimiK2,
  tokenizerDataFromGguf,
  type GgufMetadataSource,
  type TokenizerData,
} from "../src/tokenizer/index.js";

const fixtures = new URL("../../../../shared/fixtures/", import.meta.url);

async function ggufData(rel: string): Promise<TokenizerData> {
  const f = await openGguf(fileURLToPath(new URL(rel, fixtures)));
  try {
    return tokenizerDataFromGguf(f);
  } finally {
    await f.close();
  }
}

/** 256 byte tokens, then `extra` tokens (byte chars) and specials. */
function synthetic(extra: string[], merges: string[], specials: [string, TokenType][] = [], over: Partial<TokenizerData> = {}): TokenizerData {
  const tokens = [...BYTE_TO_CHAR, ...extra, ...specials.map((s) => s[0])];
  const tokenTypes = [...tokens.map(() => TokenType.NORMAL)];
  specials.forEach((s, i) => (tokenTypes[256 + extra.length + i] = s[1]));
  return { model: "gpt2", pre: "qwen2", tokens, tokenTypes, merges, addBos: false, addEos: false, ...over };
}

describe("byte map", () => {
  it("is the GPT-2 table", () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR[32]).toBe("Ġ");
    expect(BYTE_TO_CHAR[10]).toBe("Ċ");
    expect(BYTE_TO_CHAR[65]).toBe("A");
    expect(BYTE_TO_CHAR[0]).toBe("Ā");
    expect(BYTE_TO_CHAR[173]).toBe(String.fromCharCode(0x143));
  });
});

describe("pre-tokenizers", () => {
  it("kimi-k2 splits the models.md example like the tiktoken regex", () => {
    expect(splitKimiK2("Hello 世界World DON'T 12345 !!\n\n  x")).toEqual([
      "Hello", " ", "世界", "World", " DON'T", " ", "123", "45", " !!\n\n", " ", " x",
    ]);
  });

  it("kimi-k2 follows llama.cpp: no split at case changes, contractions attach, Han apart from kana", () => {
    expect(splitKimiK2("getElementById iPhone")).toEqual(["getElementById", " iPhone"]);
    expect(splitKimiK2("they'd've")).toEqual(["they'd", "'ve"]);
    expect(splitKimiK2("日本語のテキスト")).toEqual(["日本語", "のテキスト"]);
    expect(splitKimiK2("1234567")).toEqual(["123", "456", "7"]);
    expect(splitKimiK2("a\r\n\r\nb  ")).toEqual(["a", "\r\n\r\n", "b", "  "]);
    // A combining mark is not a letter for llama.cpp: it ends the word and may lead the next one.
    expect(splitKimiK2("e\u0301x")).toEqual(["e", "\u0301x"]);
    expect(splitKimiK2("e\u0301 x")).toEqual(["e", "\u0301", " x"]);
    expect(splitKimiK2("")).toEqual([]);
  });

  it("qwen2 uses single digits, White_Space semantics and keeps everything", () => {
    const qwen2 = getPreTokenizer("qwen2");
    expect(qwen2("abc 123 x'LL")).toEqual(["abc", " ", "1", "2", "3", " x", "'LL"]);
    // U+0085 is White_Space and U+FEFF is not (JS \s says the opposite).
    expect(qwen2("a\u0085\u0085b")).toEqual(["a", "\u0085", "\u0085b"]);
    expect(qwen2("a\ufeff\ufeffb")).toEqual(["a", "\ufeff\ufeff", "b"]);
    const text = "Mixed 中文 текст\t\t  \n\n 9.5%!";
    expect(qwen2(text).join("")).toBe(text);
    expect(getPreTokenizer("llama3")("12345")).toEqual(["123", "45"]);
    expect(getPreTokenizer("gpt2")("Hello  world's")).toEqual(["Hello", " ", " world", "'s"]);
    expect(() => getPreTokenizer("nope")).toThrow(/unsupported pre-tokenizer "nope"/);
  });
});

describe("BPE", () => {
  it("applies merges by rank, leftmost first", () => {
    // "b c" outranks "a b", so "abc" → a + bc.
    const tok = new Tokenizer(synthetic(["bc", "ab", "abc"], ["b c", "a b", "ab c"]));
    expect(tok.encode("abc")).toEqual([97, 256]);
    expect(tok.encode("ab")).toEqual([257]);
    // llama3 vocabularies skip BPE when the whole piece is a token (llama.cpp's ignore_merges).
    const llama3 = new Tokenizer(synthetic(["bc", "ab", "abc"], ["b c", "a b", "ab c"], [], { pre: "llama3" }));
    expect(llama3.encode("abc")).toEqual([258]);
    const aaa = new Tokenizer(synthetic(["aa"], ["a a"]));
    expect(aaa.encode("aaa")).toEqual([256, 97]);
  });

  it("without merges uses the tiktoken rule (lowest id of the concatenation)", () => {
    const tok = new Tokenizer(synthetic(["ab", "abc", "bc"], []));
    expect(tok.encode("abc")).toEqual([257]);
  });

  it("kimi-k2 without merges reproduces the llama.cpp goldens (ids follow merge order)", async () => {
    const data = await ggufData("tokenizer/tok-kimi-k2.gguf");
    expect(data.merges.length).toBeGreaterThan(0);
    const tok = new Tokenizer({ ...data, merges: [] });
    const golden = JSON.parse(readFileSync(new URL("tokenizer/tok-kimi-k2.tok.json", fixtures), "utf8")) as {
      cases: { text: string; ids: number[]; add_special: boolean; parse_special: boolean }[];
    };
    for (const c of golden.cases) {
      expect(tok.encode(c.text, { addSpecial: c.add_special, parseSpecial: c.parse_special })).toEqual(c.ids);
    }
  });
});

describe("special tokens", () => {
  const specials: [string, TokenType][] = [
    ["<|end|>", TokenType.CONTROL],
    ["<|endoftext|>", TokenType.CONTROL],
    ["<think>", TokenType.USER_DEFINED],
    ["[PAD]", TokenType.UNUSED],
  ];
  const data = synthetic([], [], specials, { eosId: 256 });
  const tok = new Tokenizer(data);

  it("splits CONTROL only with parseSpecial, USER_DEFINED always, never UNUSED; longest first", () => {
    expect(tok.encode("a<|endoftext|>b", { parseSpecial: true })).toEqual([97, 257, 98]);
    expect(tok.encode("a<|endoftext|>b")).toEqual(tok.encode("a").concat(tok.encode("<|endoftext|>b")));
    expect(tok.encode("x<think>y")).toEqual([120, 258, 121]);
    expect(tok.encode("[PAD]", { parseSpecial: true })).toEqual([91, 80, 65, 68, 93]);
    expect(tok.encode("<|end|><|end|>", { parseSpecial: true })).toEqual([256, 256]);
  });

  it("adds BOS/EOS only when the vocabulary asks and addSpecial is on", () => {
    const withBos = new Tokenizer({ ...data, bosId: 257, addBos: true, addEos: true });
    expect(withBos.encode("a")).toEqual([257, 97, 256]);
    expect(withBos.encode("a", { addSpecial: false })).toEqual([97]);
    expect(withBos.encode("")).toEqual([257, 256]);
    expect(tok.encode("a")).toEqual([97]);
  });

  it("decodes CONTROL text only with special, USER_DEFINED always, UNUSED never", () => {
    const ids = [104, 256, 258, 259, 105];
    expect(tok.decode(ids)).toBe("h<think>i");
    expect(tok.decode(ids, { special: true })).toBe("h<|end|><think>i");
  });

  it("knows end-of-generation ids from the files", async () => {
    const kimi = new Tokenizer(await ggufData("tokenizer/tok-kimi-k2.gguf"));
    expect([...kimi.eogIds].sort()).toEqual([557, 558, 563]);
    expect(kimi.isEog(558)).toBe(true);
    expect(kimi.isEog(556)).toBe(false);
    const qwen = new Tokenizer(await ggufData("tokenizer/tok-qwen2.gguf"));
    expect([...qwen.eogIds].sort()).toEqual([556, 558]);
    expect(qwen.addBos).toBe(false);
    expect(qwen.chatTemplate).toContain("<|im_start|>");
  });
});

describe("streaming decoder", () => {
  it("never emits U+FFFD for split UTF-8 and reassembles the text", async () => {
    const tok = new Tokenizer(await ggufData("tokenizer/tok-kimi-k2.gguf"));
    const text = "emoji 😀🎉 family 👨\u200d👩\u200d👧 日本語 café Привет";
    const ids = tok.encode(text);
    expect(ids.length).toBeGreaterThan(Array.from(text).length / 2); // mostly byte tokens here
    const dec = tok.createStreamingDecoder();
    const chunks = ids.map((id) => dec.push(id));
    chunks.push(dec.flush());
    expect(chunks.join("")).toBe(text);
    expect(chunks.some((c) => c.includes("\ufffd"))).toBe(false);
    expect(chunks.filter((c) => c === "").length).toBeGreaterThan(5); // partial sequences were held back
  });

  it("emits U+FFFD for invalid bytes, and for a dangling partial sequence only at flush", async () => {
    const tok = new Tokenizer(await ggufData("tokenizer/tok-kimi-k2.gguf"));
    const dec = tok.createStreamingDecoder();
    expect(dec.push(0x80)).toBe("\ufffd"); // lone continuation byte
    expect(dec.push(0xe6)).toBe(""); // lead byte of a 3-byte sequence
    expect(dec.push(0x97)).toBe("");
    expect(dec.flush()).toBe("\ufffd");
    dec.reset();
    expect(dec.push(65)).toBe("A");
    expect(tok.decode([0xe6, 0x97])).toBe("\ufffd");
  });

  it("renders control tokens when asked", async () => {
    const tok = new Tokenizer(await ggufData("tokenizer/tok-kimi-k2.gguf"));
    expect(tok.createStreamingDecoder({ special: true }).push(558)).toBe("<|im_end|>");
    expect(tok.createStreamingDecoder().push(558)).toBe("");
  });
});

describe("input checks", () => {
  const base = synthetic([], []);
  it("rejects bad vocabularies and ids with clear errors", () => {
    expect(() => new Tokenizer({ ...base, model: "llama" })).toThrow(/unsupported tokenizer.ggml.model "llama"/);
    expect(() => new Tokenizer({ ...base, pre: "bogus" })).toThrow(/pre-tokenizer "bogus"/);
    expect(() => new Tokenizer({ ...base, eosId: 9999 })).toThrow(/eos token id 9999/);
    expect(() => new Tokenizer({ ...base, tokenTypes: [1, 2] })).toThrow(/token_type has 2 entries/);
    expect(() => new Tokenizer({ ...base, addBos: true })).toThrow(/bos_token_id/);
    expect(() => new Tokenizer({ ...base, merges: ["ab"] })).toThrow(/merge 0 "ab"/);
    const tok = new Tokenizer(base);
    expect(() => tok.decode([256])).toThrow(/token id 256/);
    expect(() => tok.tokenText(-1)).toThrow(/token id -1/);
  });

  it("names the missing GGUF key", () => {
    const empty: GgufMetadataSource = {
      has: () => false,
      getString: () => "",
      getNumber: () => 0,
      getBool: () => false,
      getStringArray: () => [],
      getNumberArray: () => [],
    };
    expect(() => tokenizerDataFromGguf(empty)).toThrow(/tokenizer.ggml.model/);
  });
});
