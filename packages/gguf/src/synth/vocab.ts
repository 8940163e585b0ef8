// Synthetic byte-level BPE vocabulary laid out like the fixtures (and like convert_hf_to_gguf's gpt2 vocabs):
// 256 byte tokens in byte order (GPT-2 byte→unicode map), then one token per merge, then specials (CONTROL),
// then [PAD{i}] (UNUSED) up to the requested size.

import { Rng, mixSeed } from "./rng.js";

export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the other 68 to U+0100 onwards in order. */
export function byteToUnicode(): string[] {
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return out;
}

export interface SynthVocab {
  tokens: string[];
  tokenTypes: Int32Array;
  merges: string[];
  /** Special token name → id. */
  specials: Record<string, number>;
}

export interface VocabOptions {
  size: number;
  /** Merges (and merged tokens); defaults to filling everything between the bytes and the specials. */
  merges?: number;
  specials: readonly string[];
  seed: number;
}

/**
 * Random but valid BPE merges over lower-case words: "a b" joins two existing tokens into a new one,
 * either letters+letters or (Ġ-prefixed)+letters, so every merged token is reachable from text.
 */
function makeMerges(count: number, seed: number, byteChar: string[]): { merges: string[]; tokens: string[] } {
  const rng = new Rng(mixSeed(seed, 0x7e7b));
  const G = byteChar[32];
  const letters = Array.from("etaoinshrdlcumwfgypbvkjxqz");
  const words: string[] = [...letters];         // letter-only tokens
  const spaced: string[] = [G];                  // tokens starting with Ġ
  const seen = new Set<string>(byteChar);
  const merges: string[] = [];
  const tokens: string[] = [];
  // Earlier (shorter, more frequent) tokens are picked more often, as real merge tables are built.
  const pick = (xs: string[]) => xs[Math.floor(xs.length * rng.next() ** 3)];
  let guard = 0;
  while (merges.length < count) {
    if (++guard > count * 50 + 10_000) throw new Error(`synth vocab: could not generate ${count} distinct merges`);
    const spacedMerge = rng.next() < 0.45;
    const left = spacedMerge ? pick(spaced) : pick(words);
    const right = pick(words);
    const tok = left + right;
    if (tok.length > 24 || seen.has(tok)) continue;
    seen.add(tok);
    merges.push(`${left} ${right}`);
    tokens.push(tok);
    (spacedMerge ? spaced : words).push(tok);
  }
  return { merges, tokens };
}

export function synthVocab(opts: VocabOptions): SynthVocab {
  const byteChar = byteToUnicode();
  const nSpecial = opts.specials.length;
  const maxMerges = opts.size - 256 - nSpecial;
  const nMerges = opts.merges ?? maxMerges;
  if (maxMerges < 0 || nMerges < 0 || nMerges > maxMerges) {
    throw new Error(`synth vocab: size ${opts.size} cannot hold 256 byte tokens, ${nMerges} merges and ${nSpecial} specials`);
  }
  const { merges, tokens: merged } = makeMerges(nMerges, opts.seed, byteChar);
  const tokens = [...byteChar, ...merged];
  const specials: Record<string, number> = {};
  for (const s of opts.specials) {
    specials[s] = tokens.length;
    tokens.push(s);
  }
  const firstPad = tokens.length;
  while (tokens.length < opts.size) tokens.push(`[PAD${tokens.length}]`);
  const tokenTypes = new Int32Array(opts.size).fill(TOKEN_TYPE.NORMAL);
  tokenTypes.fill(TOKEN_TYPE.CONTROL, firstPad - nSpecial, firstPad);
  tokenTypes.fill(TOKEN_TYPE.UNUSED, firstPad);
  return { tokens, tokenTypes, merges, specials };
}
