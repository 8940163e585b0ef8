// Q4_K (144 bytes) and Q5_K (176 bytes) super-blocks of 256: eight 32-element sub-blocks with 6-bit scales and
// mins packed in 12 bytes (ggml's quantize_row_q{4,5}_K_ref / dequantize_row_q{4,5}_K).

import { f32ToF16 } from "../f16.js";
import { fr, halfAt, nearestInt, putU16 } from "./common.js";
import { makeQkx2Quants, type MinOut } from "./kq-search.js";

const QK_K = 256;

/** get_scale_min_k4: 6-bit scale and min of sub-block j from the 12 packed bytes at q[o]. */
function scaleMin(q: Uint8Array, o: number, j: number, out: Int32Array): void {
  if (j < 4) {
    out[0] = q[o + j]! & 63;
    out[1] = q[o + j + 4]! & 63;
  } else {
    out[0] = (q[o + j + 4]! & 0xf) | ((q[o + j - 4]! >> 6) << 4);
    out[1] = (q[o + j + 4]! >> 4) | ((q[o + j]! >> 6) << 4);
  }
}

function dequantK(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number, five: boolean): void {
  const bytes = five ? 176 : 144;
  const qsOff = five ? 48 : 16;
  const sm = new Int32Array(2);
  for (let b = 0; b < nb; b++, so += bytes, doff += QK_K) {
    const d = halfAt(src, so);
    const dmin = halfAt(src, so + 2);
    for (let s = 0; s < 8; s++) {
      scaleMin(src, so + 4, s, sm);
      const d1 = fr(d * sm[0]!);
      const m1 = fr(dmin * sm[1]!);
      const qb = so + qsOff + 32 * (s >> 1);
      const shift = 4 * (s & 1);
      const y = doff + 32 * s;
      if (five) {
        const hb = so + 16;
        for (let r = 0; r < 32; r++) {
          const q = ((src[qb + r]! >> shift) & 15) + ((src[hb + r]! >> s) & 1 ? 16 : 0);
          dst[y + r] = fr(d1 * q) - m1;
        }
      } else {
        for (let r = 0; r < 32; r++) dst[y + r] = fr(d1 * ((src[qb + r]! >> shift) & 15)) - m1;
      }
    }
  }
}

export const dequantQ4_K = (src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void =>
  dequantK(src, so, nb, dst, doff, false);
export const dequantQ5_K = (src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void =>
  dequantK(src, so, nb, dst, doff, true);

function quantK(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number, five: boolean): void {
  const nmax = five ? 31 : 15;
  const bytes = five ? 176 : 144;
  // Search parameters of the reference quantizers: Q4_K tries 21 scales from -1.0, Q5_K 16 from -0.5.
  const rmin = five ? -0.5 : -1;
  const nstep = five ? 15 : 20;
  const L = new Uint8Array(QK_K);
  const Laux = new Uint8Array(32);
  const weights = new Float32Array(32);
  const mins = new Float32Array(8);
  const scales = new Float32Array(8);
  const mo: MinOut = { min: 0 };
  const sm = new Int32Array(2);
  for (let b = 0; b < nb; b++, xo += QK_K, doff += bytes) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      const o = xo + 32 * j;
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(x[o + l]! * x[o + l]!));
      const avX = fr(Math.sqrt(fr(sumX2 / 32)));
      for (let l = 0; l < 32; l++) weights[l] = avX + Math.abs(x[o + l]!);
      scales[j] = makeQkx2Quants(32, nmax, x, o, weights, L, 32 * j, mo, Laux, rmin, fr(0.1), nstep, false);
      mins[j] = mo.min;
      if (scales[j]! > maxScale) maxScale = scales[j]!;
      if (mins[j]! > maxMin) maxMin = mins[j]!;
    }
    const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
    const so = doff + 4;
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, nearestInt(fr(invScale * scales[j]!)) & 0xff);
      const lm = Math.min(63, nearestInt(fr(invMin * mins[j]!)) & 0xff);
      if (j < 4) {
        dst[so + j] = ls;
        dst[so + j + 4] = lm;
      } else {
        dst[so + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
        dst[so + j - 4] = dst[so + j - 4]! | ((ls >> 4) << 6);
        dst[so + j] = dst[so + j]! | ((lm >> 4) << 6);
      }
    }
    putU16(dst, doff, f32ToF16(fr(maxScale / 63)));
    putU16(dst, doff + 2, f32ToF16(fr(maxMin / 63)));
    const dAll = halfAt(dst, doff);
    const mAll = halfAt(dst, doff + 2);
    for (let j = 0; j < 8; j++) {
      scaleMin(dst, so, j, sm);
      const d = fr(dAll * sm[0]!);
      if (!d) continue;
      const dm = fr(mAll * sm[1]!);
      for (let ii = 0; ii < 32; ii++) {
        const l = nearestInt(fr(fr(x[xo + 32 * j + ii]! + dm) / d));
        L[32 * j + ii] = l < 0 ? 0 : l > nmax ? nmax : l;
      }
    }
    if (five) {
      const qh = doff + 16;
      const ql = doff + 48;
      dst.fill(0, qh, qh + 32);
      for (let n = 0, sh = 0; n < QK_K; n += 64, sh += 2) {
        for (let j = 0; j < 32; j++) {
          let l1 = L[n + j]!;
          let l2 = L[n + j + 32]!;
          if (l1 > 15) {
            l1 -= 16;
            dst[qh + j] = dst[qh + j]! | (1 << sh);
          }
          if (l2 > 15) {
            l2 -= 16;
            dst[qh + j] = dst[qh + j]! | (2 << sh);
          }
          dst[ql + n / 2 + j] = l1 | (l2 << 4);
        }
      }
    } else {
      const q = doff + 16;
      for (let n = 0; n < QK_K; n += 64) {
        for (let l = 0; l < 32; l++) dst[q + n / 2 + l] = L[n + l]! | (L[n + l + 32]! << 4);
      }
    }
  }
}

export const quantQ4_K = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quantK(x, xo, nb, dst, doff, false);
export const quantQ5_K = (x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void =>
  quantK(x, xo, nb, dst, doff, true);
