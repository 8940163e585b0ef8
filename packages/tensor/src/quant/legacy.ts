// 32-element "legacy" formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 (ggml's quantize_row_*_ref / dequantize_row_*).

import { f32ToF16 } from "../f16.js";
import { fr, halfAt, i8, putU16, putU32, roundHalfAway, u32At } from "./common.js";

const QK = 32;

// ---------- dequantization ----------

export function dequantQ4_0(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 18, doff += QK) {
    const d = halfAt(src, so);
    for (let j = 0; j < 16; j++) {
      const q = src[so + 2 + j]!;
      dst[doff + j] = ((q & 15) - 8) * d;
      dst[doff + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

export function dequantQ4_1(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 20, doff += QK) {
    const d = halfAt(src, so);
    const m = halfAt(src, so + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[so + 4 + j]!;
      dst[doff + j] = fr((q & 15) * d) + m;
      dst[doff + j + 16] = fr((q >> 4) * d) + m;
    }
  }
}

export function dequantQ5_0(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 22, doff += QK) {
    const d = halfAt(src, so);
    const qh = u32At(src, so + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[so + 6 + j]!;
      dst[doff + j] = (((q & 15) | (((qh >>> j) & 1) << 4)) - 16) * d;
      dst[doff + j + 16] = (((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d;
    }
  }
}

export function dequantQ5_1(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 24, doff += QK) {
    const d = halfAt(src, so);
    const m = halfAt(src, so + 2);
    const qh = u32At(src, so + 4);
    for (let j = 0; j < 16; j++) {
      const q = src[so + 8 + j]!;
      dst[doff + j] = fr(((q & 15) | (((qh >>> j) & 1) << 4)) * d) + m;
      dst[doff + j + 16] = fr(((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d) + m;
    }
  }
}

function dequant8(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number, bytes: number): void {
  const qo = bytes - QK; // Q8_0: d then qs; Q8_1: d, s then qs
  for (let b = 0; b < nb; b++, so += bytes, doff += QK) {
    const d = halfAt(src, so);
    for (let j = 0; j < QK; j++) dst[doff + j] = i8(src[so + qo + j]!) * d;
  }
}

export const dequantQ8_0 = (src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void =>
  dequant8(src, so, nb, dst, doff, 34);
export const dequantQ8_1 = (src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void =>
  dequant8(src, so, nb, dst, doff, 36);

// ---------- quantization ----------

/** The element of largest magnitude (first one on ties), as ggml's `if (amax < fabsf(v))` loop picks it. */
function signedAbsMax(x: Float32Array, o: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < QK; j++) {
    const v = x[o + j]!;
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}

/** Q4_0 / Q5_0: symmetric, d = max / -(2^(bits-1)) so the largest element lands on the extreme code. */
function quantSym(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number, five: boolean): void {
  const half = five ? 16 : 8;
  const top = five ? 31 : 15;
  const bytes = five ? 22 : 18;
  const qs = five ? 6 : 2;
  for (let b = 0; b < nb; b++, xo += QK, doff += bytes) {
    const max = signedAbsMax(x, xo);
    const d = fr(max / -half);
    const id = d ? fr(1 / d) : 0;
    putU16(dst, doff, f32ToF16(d));
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      // (int8_t)(x*id + half + 0.5f): truncation toward zero, then clamp to the top code
      const q0 = Math.min(top, Math.trunc(fr(fr(x[xo + j]! * id) + (half + 0.5))));
      const q1 = Math.min(top, Math.trunc(fr(fr(x[xo + j + 16]! * id) + (half + 0.5))));
      dst[doff + qs + j] = (q0 & 15) | ((q1 & 15) << 4);
      qh |= ((q0 >> 4) & 1) << j;
      qh |= ((q1 >> 4) & 1) << (j + 16);
    }
    if (five) putU32(dst, doff + 2, qh >>> 0);
  }
}

export const quantQ4_0 = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quantSym(x, xo, nb, dst, doff, false);
export const quantQ5_0 = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quantSym(x, xo, nb, dst, doff, true);

/** Q4_1 / Q5_1: affine, d = (max − min) / (2^bits − 1), m = min. */
function quantAffine(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number, five: boolean): void {
  const levels = five ? 31 : 15;
  const bytes = five ? 24 : 20;
  const qs = five ? 8 : 4;
  for (let b = 0; b < nb; b++, xo += QK, doff += bytes) {
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK; j++) {
      const v = x[xo + j]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const d = fr(fr(max - min) / levels);
    const id = d ? fr(1 / d) : 0;
    putU16(dst, doff, f32ToF16(d));
    putU16(dst, doff + 2, f32ToF16(min));
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      let q0 = Math.trunc(fr(fr(fr(x[xo + j]! - min) * id) + 0.5));
      let q1 = Math.trunc(fr(fr(fr(x[xo + j + 16]! - min) * id) + 0.5));
      if (five) {
        q0 &= 0xff; // (uint8_t) cast, no clamp in ggml's q5_1
        q1 &= 0xff;
      } else {
        q0 = Math.min(15, q0);
        q1 = Math.min(15, q1);
      }
      dst[doff + qs + j] = (q0 & 15) | ((q1 & 15) << 4);
      qh |= ((q0 >> 4) & 1) << j;
      qh |= ((q1 >> 4) & 1) << (j + 16);
    }
    if (five) putU32(dst, doff + 4, qh >>> 0);
  }
}

export const quantQ4_1 = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quantAffine(x, xo, nb, dst, doff, false);
export const quantQ5_1 = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quantAffine(x, xo, nb, dst, doff, true);

/** Q8_0 / Q8_1: d = amax/127, q = roundf(x/d); Q8_1 also stores s = d·Σq. */
function quant8(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number, withSum: boolean): void {
  const bytes = withSum ? 36 : 34;
  const qo = bytes - QK;
  for (let b = 0; b < nb; b++, xo += QK, doff += bytes) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[xo + j]!));
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    putU16(dst, doff, f32ToF16(d));
    let sum = 0;
    for (let j = 0; j < QK; j++) {
      const q = roundHalfAway(fr(x[xo + j]! * id));
      dst[doff + qo + j] = q & 0xff;
      sum += q;
    }
    if (withSum) putU16(dst, doff + 2, f32ToF16(fr(sum * d)));
  }
}

export const quantQ8_0 = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quant8(x, xo, nb, dst, doff, false);
export const quantQ8_1 = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quant8(x, xo, nb, dst, doff, true);
