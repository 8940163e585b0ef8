// Q2_K (84 bytes) and Q3_K (110 bytes) super-blocks of 256 (ggml's quantize_row_q{2,3}_K_ref / dequantize_row_q{2,3}_K).

import { f32ToF16 } from "../f16.js";
import { fr, halfAt, nearestInt, putU16 } from "./common.js";
import { makeQ3Quants, makeQkx2Quants, type MinOut } from "./kq-search.js";

const QK_K = 256;

/** Packs 2-bit codes L[0..255] the way Q2_K/Q3_K store them: byte 32h+r holds elements 128h+32j+r at bits 2j. */
function pack2(L: Uint8Array | Int8Array, dst: Uint8Array, qo: number): void {
  for (let j = 0; j < QK_K; j += 128) {
    for (let l = 0; l < 32; l++) {
      dst[qo + j / 4 + l] =
        (L[j + l]! | (L[j + l + 32]! << 2) | (L[j + l + 64]! << 4) | (L[j + l + 96]! << 6)) & 0xff;
    }
  }
}

// ---------- Q2_K: scales[16], qs[64], d f16, dmin f16 ----------

export function dequantQ2_K(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 84, doff += QK_K) {
    const d = halfAt(src, so + 80);
    const dmin = halfAt(src, so + 82);
    for (let s = 0; s < 16; s++) {
      const sc = src[so + s]!;
      const dl = fr(d * (sc & 15));
      const ml = fr(dmin * (sc >> 4));
      const h = s >> 3;
      const shift = 2 * ((s >> 1) & 3);
      const qb = so + 16 + 32 * h + 16 * (s & 1);
      const y = doff + 16 * s;
      for (let l = 0; l < 16; l++) dst[y + l] = fr(dl * ((src[qb + l]! >> shift) & 3)) - ml;
    }
  }
}

export function quantQ2_K(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void {
  const L = new Uint8Array(QK_K);
  const Laux = new Uint8Array(16);
  const weights = new Float32Array(16);
  const mins = new Float32Array(16);
  const scales = new Float32Array(16);
  const mo: MinOut = { min: 0 };
  for (let b = 0; b < nb; b++, xo += QK_K, doff += 84) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 16; j++) {
      for (let l = 0; l < 16; l++) weights[l] = Math.abs(x[xo + 16 * j + l]!);
      scales[j] = makeQkx2Quants(16, 3, x, xo + 16 * j, weights, L, 16 * j, mo, Laux, -0.5, fr(0.1), 15, true);
      mins[j] = mo.min;
      if (scales[j]! > maxScale) maxScale = scales[j]!;
      if (mins[j]! > maxMin) maxMin = mins[j]!;
    }
    if (maxScale > 0) {
      const iscale = fr(15 / maxScale);
      for (let j = 0; j < 16; j++) dst[doff + j] = nearestInt(fr(iscale * scales[j]!)) & 0xff;
      putU16(dst, doff + 80, f32ToF16(fr(maxScale / 15)));
    } else {
      for (let j = 0; j < 16; j++) dst[doff + j] = 0;
      putU16(dst, doff + 80, 0);
    }
    if (maxMin > 0) {
      const iscale = fr(15 / maxMin);
      for (let j = 0; j < 16; j++) dst[doff + j] = (dst[doff + j]! | (nearestInt(fr(iscale * mins[j]!)) << 4)) & 0xff;
      putU16(dst, doff + 82, f32ToF16(fr(maxMin / 15)));
    } else {
      putU16(dst, doff + 82, 0);
    }
    const dAll = halfAt(dst, doff + 80);
    const mAll = halfAt(dst, doff + 82);
    for (let j = 0; j < 16; j++) {
      const sc = dst[doff + j]!;
      const d = fr(dAll * (sc & 15));
      if (!d) continue;
      const dm = fr(mAll * (sc >> 4));
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(fr(fr(x[xo + 16 * j + ii]! + dm) / d));
        L[16 * j + ii] = l < 0 ? 0 : l > 3 ? 3 : l;
      }
    }
    pack2(L, dst, doff + 16);
  }
}

// ---------- Q3_K: hmask[32], qs[64], scales[12], d f16 ----------

/** 6-bit scale t (0..15) of a Q3_K block, already minus 32. */
function q3Scale(s: Uint8Array, so: number, t: number): number {
  const lo = t < 8 ? s[so + t]! & 15 : s[so + t - 8]! >> 4;
  const hi = (s[so + 8 + (t & 3)]! >> (2 * (t >> 2))) & 3;
  return (lo | (hi << 4)) - 32;
}

export function dequantQ3_K(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 110, doff += QK_K) {
    const dAll = halfAt(src, so + 108);
    for (let s = 0; s < 16; s++) {
      const dl = fr(dAll * q3Scale(src, so + 96, s));
      const h = s >> 3;
      const j = (s >> 1) & 3;
      const shift = 2 * j;
      const hbit = 1 << (4 * h + j);
      const r0 = 16 * (s & 1);
      const qb = so + 32 + 32 * h;
      const y = doff + 16 * s;
      for (let l = 0; l < 16; l++) {
        const r = r0 + l;
        const q = ((src[qb + r]! >> shift) & 3) - (src[so + r]! & hbit ? 0 : 4);
        dst[y + l] = dl * q;
      }
    }
  }
}

export function quantQ3_K(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void {
  const L = new Int8Array(QK_K);
  const scales = new Float32Array(16);
  for (let b = 0; b < nb; b++, xo += QK_K, doff += 110) {
    let maxScale = 0;
    let amax = 0;
    for (let j = 0; j < 16; j++) {
      scales[j] = makeQ3Quants(16, 4, x, xo + 16 * j, L, 16 * j);
      const a = Math.abs(scales[j]!);
      if (a > amax) {
        amax = a;
        maxScale = scales[j]!;
      }
    }
    const so = doff + 96; // scales[12]
    dst.fill(0, so, so + 12);
    if (maxScale) {
      const iscale = fr(-32 / maxScale);
      for (let j = 0; j < 16; j++) {
        let l = (nearestInt(fr(iscale * scales[j]!)) << 24) >> 24; // int8_t
        l = Math.max(-32, Math.min(31, l)) + 32;
        if (j < 8) dst[so + j] = l & 0xf;
        else dst[so + j - 8] = dst[so + j - 8]! | ((l & 0xf) << 4);
        l >>= 4;
        dst[so + (j % 4) + 8] = dst[so + (j % 4) + 8]! | (l << (2 * (j >> 2)));
      }
      putU16(dst, doff + 108, f32ToF16(fr(1 / iscale)));
    } else {
      putU16(dst, doff + 108, 0);
    }
    const dAll = halfAt(dst, doff + 108);
    for (let j = 0; j < 16; j++) {
      const d = fr(dAll * q3Scale(dst, so, j));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(fr(x[xo + 16 * j + ii]! / d));
        L[16 * j + ii] = (l < -4 ? -4 : l > 3 ? 3 : l) + 4;
      }
    }
    // High bit of element j goes to hmask[j % 32], bit j / 32.
    dst.fill(0, doff, doff + 32);
    for (let j = 0; j < QK_K; j++) {
      if (L[j]! > 3) {
        dst[doff + (j & 31)] = dst[doff + (j & 31)]! | (1 << (j >> 5));
        L[j] = L[j]! - 4;
      }
    }
    pack2(L, dst, doff + 32);
  }
}
