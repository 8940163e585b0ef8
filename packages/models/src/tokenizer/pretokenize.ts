// Pre-tokenizers: split a text span (no special tokens inside) into the pieces BPE runs on.
import { CP_HAN, CP_LETTER, CP_NUMBER, CP_WHITESPACE, cpFlags } from "./unicode.js";

export type PreTokenizer = (text: string) => string[];

// JS `\s` is not Unicode White_Space (it takes U+FEFF, misses U+0085); llama.cpp and HF use White_Space.
const S = "\\p{White_Space}";
const NS = "\\P{White_Space}";
const CONTRACTIONS_CI = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

function llama3Family(digits: string): RegExp {
  return new RegExp(
    `${CONTRACTIONS_CI}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${digits}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n]*` +
      `|${S}*[\\r\\n]+|${S}+(?!${NS})|${S}+`,
    "gu",
  );
}

const GPT2_BODY = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${S}\\p{L}\\p{N}]+|${S}+(?!${NS})`;

export const QWEN2_REGEX = llama3Family("");
export const LLAMA3_REGEX = llama3Family("{1,3}");
export const GPT2_REGEX = new RegExp(`${GPT2_BODY}|${S}+`, "gu");
// llama.cpp's fallback for unnamed BPE vocabs: several regexes applied one after another.
const DEFAULT_REGEXES = [
  new RegExp("[\\p{P}\\$\\+<=>\\^~\\|]+", "gu"),
  new RegExp(GPT2_BODY, "gu"),
  new RegExp("\\p{N}+", "gu"),
  new RegExp("[0-9][0-9][0-9]", "gu"),
];

/** Split by a global regex; text between matches becomes its own piece (as llama.cpp does). */
export function splitByRegex(text: string, re: RegExp, out: string[] = []): string[] {
  let last = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const at = m.index;
    const len = m[0].length;
    if (len === 0) {
      re.lastIndex++;
      continue;
    }
    if (at > last) out.push(text.slice(last, at));
    out.push(m[0]);
    last = at + len;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function splitSequence(text: string, regexes: readonly RegExp[]): string[] {
  let pieces = [text];
  for (const re of regexes) {
    const next: string[] = [];
    for (const p of pieces) splitByRegex(p, re, next);
    pieces = next;
  }
  return pieces;
}

const isAsciiNewline = (cp: number) => cp === 10 || cp === 13;

function lowerAscii(cp: number): number {
  return cp >= 65 && cp <= 90 ? cp + 32 : cp;
}

/**
 * Kimi-K2 splitting as llama.cpp b8115 does it (not the tiktoken regex): a word is any run of non-Han
 * letters (no split at lower→upper changes; marks are not letters), Han runs are separate, digits go
 * in groups of three, and contractions attach to the word before them.
 */
export function splitKimiK2(text: string): string[] {
  const cps: number[] = [];
  const offs: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    cps.push(cp);
    offs.push(i);
    i += cp > 0xffff ? 2 : 1;
  }
  const n = cps.length;
  offs.push(text.length);
  const flags = (p: number) => (p < n ? cpFlags(cps[p]!) : 0);
  const wordLetter = (p: number) => (flags(p) & (CP_LETTER | CP_HAN)) === CP_LETTER;
  // Anything in range that is neither whitespace, letter nor number (punctuation, symbols, marks...).
  const isOther = (f: number) => f !== 0 && (f & (CP_WHITESPACE | CP_LETTER | CP_NUMBER)) === 0;

  const out: string[] = [];
  let prev = 0;
  const emit = (end: number) => {
    if (end > prev) out.push(text.slice(offs[prev], offs[end]));
    prev = end;
  };

  let pos = 0;
  while (pos < n) {
    const cp = cps[pos]!;
    const f = flags(pos);

    if (f & CP_HAN) {
      while (flags(pos) & CP_HAN) pos++;
      emit(pos);
      continue;
    }

    const canLead = !isAsciiNewline(cp) && (f & (CP_LETTER | CP_NUMBER)) === 0;
    if (wordLetter(pos) || (canLead && wordLetter(pos + 1))) {
      if (canLead) pos++;
      while (wordLetter(pos)) pos++;
      if (pos + 1 < n && cps[pos] === 0x27) {
        const c1 = lowerAscii(cps[pos + 1]!);
        if (c1 === 0x73 || c1 === 0x74 || c1 === 0x6d || c1 === 0x64) {
          pos += 2; // 's 't 'm 'd
        } else if (pos + 2 < n) {
          const c2 = lowerAscii(cps[pos + 2]!);
          if ((c1 === 0x72 && c2 === 0x65) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x6c && c2 === 0x6c)) {
            pos += 3; // 're 've 'll
          }
        }
      }
      emit(pos);
      continue;
    }

    if (f & CP_NUMBER) {
      let ini = pos;
      while (flags(pos) & CP_NUMBER) {
        pos++;
        if (pos - ini >= 3) {
          emit(pos);
          ini = pos;
        }
      }
      emit(pos);
      continue;
    }

    if (isOther(cp === 32 ? flags(pos + 1) : f)) {
      if (cp === 32) pos++;
      while (isOther(flags(pos))) pos++;
      while (pos < n && isAsciiNewline(cps[pos]!)) pos++;
      emit(pos);
      continue;
    }

    let nws = 0;
    let afterLastNewline = -1;
    while (flags(pos + nws) & CP_WHITESPACE) {
      if (isAsciiNewline(cps[pos + nws]!)) afterLastNewline = pos + nws + 1;
      nws++;
    }
    if (afterLastNewline >= 0) {
      pos = afterLastNewline; // \s*[\r\n]+
    } else if (nws > 1 && pos + nws < n) {
      pos += nws - 1; // \s+(?!\S): leave one space for the next word
    } else if (nws > 0) {
      pos += nws;
    } else {
      pos++;
    }
    emit(pos);
  }
  return out;
}

const PRE_TOKENIZERS: Record<string, PreTokenizer> = {
  "kimi-k2": splitKimiK2,
  qwen2: (t) => splitByRegex(t, QWEN2_REGEX),
  llama3: (t) => splitByRegex(t, LLAMA3_REGEX),
  "llama-bpe": (t) => splitByRegex(t, LLAMA3_REGEX),
  gpt2: (t) => splitByRegex(t, GPT2_REGEX),
  "gpt-2": (t) => splitByRegex(t, GPT2_REGEX),
  default: (t) => splitSequence(t, DEFAULT_REGEXES),
};

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(PRE_TOKENIZERS);

export function getPreTokenizer(name: string): PreTokenizer {
  const fn = PRE_TOKENIZERS[name];
  if (!fn) {
    throw new Error(
      `tokenizer: unsupported pre-tokenizer "${name}" (supported: ${SUPPORTED_PRE_TOKENIZERS.join(", ")})`,
    );
  }
  return fn;
}
