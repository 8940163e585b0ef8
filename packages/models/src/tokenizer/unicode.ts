// Unicode helpers shared by the pre-tokenizers and the byte-level BPE.

/** GPT-2 byte→unicode table: printable bytes map to themselves, the other 68 to U+0100 onwards. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const table: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCharCode(printable ? b : next++);
  }
  return table;
})();

/** Inverse of BYTE_TO_CHAR indexed by UTF-16 code unit; -1 where a char is not a byte char. */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const inv = new Int16Array(512).fill(-1);
  for (let b = 0; b < 256; b++) inv[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b;
  return inv;
})();

const utf8Encoder = new TextEncoder();

export function utf8Encode(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** UTF-8 bytes of `text` written as byte chars (a space becomes "Ġ"). */
export function byteEncode(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  let out = "";
  if (ascii) {
    for (let i = 0; i < text.length; i++) out += BYTE_TO_CHAR[text.charCodeAt(i)];
    return out;
  }
  const bytes = utf8Encoder.encode(text);
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]!];
  return out;
}

// Per-codepoint flags, filled lazily: each codepoint is classified once with a regex.
export const CP_LETTER = 2;
export const CP_NUMBER = 4;
export const CP_WHITESPACE = 8;
export const CP_HAN = 16;
const CP_KNOWN = 1;

const flagCache = new Uint8Array(0x110000);
const reLetter = /^\p{L}$/u;
const reNumber = /^\p{N}$/u;
const reWhite = /^\p{White_Space}$/u;

/** llama.cpp's `unicode_cpt_is_han` block ranges (not the Script=Han property). */
function isHanBlock(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0x2ceb0 && cp <= 0x2ebef) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export function cpFlags(cp: number): number {
  const cached = flagCache[cp]!;
  if (cached !== 0) return cached;
  const s = String.fromCodePoint(cp);
  let f = CP_KNOWN;
  if (reLetter.test(s)) f |= CP_LETTER;
  if (reNumber.test(s)) f |= CP_NUMBER;
  if (reWhite.test(s)) f |= CP_WHITESPACE;
  if (isHanBlock(cp)) f |= CP_HAN;
  flagCache[cp] = f;
  return f;
}
