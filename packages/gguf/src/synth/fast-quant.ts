// Random quantized blocks written directly, for large synthetic models: quant codes are uniform random bits and
// each block's scales are set so the dequantized weights have mean ≈ 0 and rms ≈ the requested std. This skips
// the exact (ggml-reference) quantizer, which costs ~1-4 µs per element; here a weight costs a few ns.
// Blocks are valid for every ggml kernel: Q8_0 codes avoid -128 (which the reference quantizer never emits
// and which int8 sign tricks in SIMD dot products mishandle), scales stay in their documented ranges.

import { GgmlType, IQ4NL_VALUES, f32ToF16, f16ToF32, typeTraits } from "@ggts/tensor";
import { Rng } from "./rng.js";

/** The types makeFastBlocks can write; every type the synth mixes emit, plus Q4_1/Q5_1. */
export const FAST_QUANT_TYPES: ReadonlySet<GgmlType> = new Set([
  GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K,
  GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL,
]);

/** E[(q - c)²] of a code q uniform on 0..n-1 around its centre c (the variance of the discrete uniform). */
const uniVar = (n: number) => (n * n - 1) / 12;
/** E[q²] of q uniform on 0..n-1 minus an offset (for formats with a fixed zero point: mean is −1/2). */
const offsetSq = (n: number, off: number) => {
  let s = 0;
  for (let q = 0; q < n; q++) s += (q - off) ** 2;
  return s / n;
};
const IQ4NL_SQ = IQ4NL_VALUES.reduce((a, v) => a + v * v, 0) / 16;
/** Q8_0 codes: uniform bytes with -128 replaced by 0, so E[q²] = Σ_{k=-127..127} k² / 256. */
const Q8_SQ = offsetSq(255, 127) * 255 / 256;

function putHalf(dst: Uint8Array, o: number, v: number): number {
  const h = f32ToF16(v);
  dst[o] = h & 0xff;
  dst[o + 1] = h >>> 8;
  return f16ToF32(h);
}

/** A random ±1. */
const sign = (rng: Rng) => (rng.u32() & 1 ? -1 : 1);

/** Legacy 32-element formats: one f16 d (negated at random, which cancels the −½ code bias) and maybe an f16 m. */
function legacy(dst: Uint8Array, rng: Rng, std: number, bytes: number, codeSq: number, minCentre: number): void {
  const d0 = std / Math.sqrt(codeSq);
  for (let o = 0; o < dst.length; o += bytes) {
    const d = putHalf(dst, o, sign(rng) * d0);
    if (minCentre > 0) putHalf(dst, o + 2, -minCentre * d);
  }
}

/** Q4_K / Q5_K: eight 32-element sub-blocks, 6-bit scale sc ∈ [32, 63] and min m ≈ sc·centre/k with dmin = k·d. */
function kQuant45(dst: Uint8Array, rng: Rng, std: number, five: boolean): void {
  const bytes = five ? 176 : 144;
  const centre = five ? 15.5 : 7.5, k = five ? 16 : 8, v = uniVar(five ? 32 : 16);
  const sc = new Int32Array(8), m = new Int32Array(8);
  for (let o = 0; o < dst.length; o += bytes) {
    let sum = 0;
    for (let j = 0; j < 8; j++) {
      sc[j] = 32 + (rng.u32() & 31);
      m[j] = Math.round((sc[j] * centre) / k);
      const off = sc[j] * centre - k * m[j];
      sum += sc[j] * sc[j] * v + off * off;
    }
    const s = sign(rng);
    const d = putHalf(dst, o, (s * std) / Math.sqrt(sum / 8));
    putHalf(dst, o + 2, k * d);
    const q = o + 4;
    for (let j = 0; j < 4; j++) {
      dst[q + j] = sc[j] | ((sc[j + 4] >> 4) << 6);
      dst[q + j + 4] = m[j] | ((m[j + 4] >> 4) << 6);
      dst[q + j + 8] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4);
    }
  }
}

/** Q2_K: sixteen 16-element sub-blocks, 4-bit scale sc ∈ [8, 15] and min m ≈ 0.75·sc with dmin = 2d. */
function q2K(dst: Uint8Array, rng: Rng, std: number): void {
  const v = uniVar(4);
  for (let o = 0; o < dst.length; o += 84) {
    let sum = 0;
    for (let j = 0; j < 16; j++) {
      const sc = 8 + (rng.u32() & 7);
      const m = Math.round(0.75 * sc);
      const off = 1.5 * sc - 2 * m;
      sum += sc * sc * v + off * off;
      dst[o + j] = sc | (m << 4);
    }
    const d = putHalf(dst, o + 80, (sign(rng) * std) / Math.sqrt(sum / 16));
    putHalf(dst, o + 82, 2 * d);
  }
}

/** Q3_K: sixteen signed 6-bit sub-block scales ±[16, 31] (random signs cancel the −½ code bias). */
function q3K(dst: Uint8Array, rng: Rng, std: number): void {
  const v = offsetSq(8, 4);
  for (let o = 0; o < dst.length; o += 110) {
    const s = o + 96;
    dst.fill(0, s, s + 12);
    let sum = 0;
    for (let j = 0; j < 16; j++) {
      const r = rng.u32();
      const sc = (r & 1 ? -1 : 1) * (16 + ((r >>> 1) & 15));
      sum += sc * sc;
      const l = sc + 32;
      if (j < 8) dst[s + j] = l & 15;
      else dst[s + j - 8] |= (l & 15) << 4;
      dst[s + 8 + (j & 3)] |= (l >> 4) << (2 * (j >> 2));
    }
    putHalf(dst, o + 108, std / Math.sqrt((sum / 16) * v));
  }
}

/** Q6_K: sixteen int8 sub-block scales ±[32, 127]. */
function q6K(dst: Uint8Array, rng: Rng, std: number): void {
  const v = offsetSq(64, 32);
  for (let o = 0; o < dst.length; o += 210) {
    let sum = 0;
    for (let j = 0; j < 16; j++) {
      const r = rng.u32();
      const sc = (r & 1 ? -1 : 1) * (32 + ((r >>> 1) % 96));
      sum += sc * sc;
      dst[o + 192 + j] = sc & 0xff;
    }
    putHalf(dst, o + 208, std / Math.sqrt((sum / 16) * v));
  }
}

/**
 * Fills dst (a whole number of `type` blocks) with random blocks whose dequantized values have mean ≈ 0 and
 * rms ≈ std. Deterministic in the rng state.
 */
export function makeFastBlocks(type: GgmlType, dst: Uint8Array, std: number, rng: Rng): void {
  const tr = typeTraits(type);
  if (!FAST_QUANT_TYPES.has(type)) throw new Error(`synth fast quant: type ${tr.name} is not supported`);
  if (dst.length % tr.typeSize !== 0) throw new Error(`synth fast quant(${tr.name}): ${dst.length} bytes is not a whole number of ${tr.typeSize}-byte blocks`);
  if (!(std > 0) || !Number.isFinite(std)) throw new Error(`synth fast quant(${tr.name}): std ${std} must be positive and finite`);
  rng.fillBytes(dst); // every code bit random; headers are overwritten below
  switch (type) {
    case GgmlType.Q4_0: return legacy(dst, rng, std, 18, offsetSq(16, 8), 0);
    case GgmlType.Q4_1: return legacy(dst, rng, std, 20, uniVar(16), 7.5);
    case GgmlType.Q5_0: return legacy(dst, rng, std, 22, offsetSq(32, 16), 0);
    case GgmlType.Q5_1: return legacy(dst, rng, std, 24, uniVar(32), 15.5);
    case GgmlType.IQ4_NL: return legacy(dst, rng, std, 18, IQ4NL_SQ, 0);
    case GgmlType.Q8_0:
      for (let o = 0; o < dst.length; o += 34) {
        for (let j = o + 2; j < o + 34; j++) if (dst[j] === 0x80) dst[j] = 0;
      }
      return legacy(dst, rng, std, 34, Q8_SQ, 0);
    case GgmlType.Q2_K: return q2K(dst, rng, std);
    case GgmlType.Q3_K: return q3K(dst, rng, std);
    case GgmlType.Q4_K: return kQuant45(dst, rng, std, false);
    case GgmlType.Q5_K: return kQuant45(dst, rng, std, true);
    case GgmlType.Q6_K: return q6K(dst, rng, std);
  }
}
