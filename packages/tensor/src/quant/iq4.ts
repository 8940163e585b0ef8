// Non-linear 4-bit formats IQ4_NL (32-element blocks, 18 bytes) and IQ4_XS (256-element super-blocks, 136 bytes),
// quantized like ggml's quantize_iq4_nl / quantize_iq4_xs without an importance matrix (weights x², 15-step
// scale search: quantize_row_iq4_nl_impl with ntry = 7).

import { f32ToF16 } from "../f16.js";
import { GROUP_MAX_EPS, IQ4NL_VALUES, fr, halfAt, nearestInt, putU16 } from "./common.js";

const KV = Int8Array.from(IQ4NL_VALUES);
const NTRY = 7;

// ---------- dequantization ----------

export function dequantIQ4_NL(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 18, doff += 32) {
    const d = halfAt(src, so);
    for (let j = 0; j < 16; j++) {
      const q = src[so + 2 + j]!;
      dst[doff + j] = d * KV[q & 15]!;
      dst[doff + j + 16] = d * KV[q >> 4]!;
    }
  }
}

export function dequantIQ4_XS(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 136, doff += 256) {
    const d = halfAt(src, so);
    const sh = src[so + 2]! | (src[so + 3]! << 8);
    for (let ib = 0; ib < 8; ib++) {
      const ls = ((src[so + 4 + (ib >> 1)]! >> (4 * (ib & 1))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
      const dl = fr(d * (ls - 32));
      const qs = so + 8 + 16 * ib;
      const y = doff + 32 * ib;
      for (let j = 0; j < 16; j++) {
        const q = src[qs + j]!;
        dst[y + j] = dl * KV[q & 15]!;
        dst[y + j + 16] = dl * KV[q >> 4]!;
      }
    }
  }
}

// ---------- quantization ----------

/** Index of the code-book value nearest to x (ties go to the upper value, like ggml's best_index_int8). */
function bestIndex(x: number): number {
  if (x <= -127) return 0;
  if (x >= 113) return 15;
  let ml = 0;
  let mu = 15;
  while (mu - ml > 1) {
    const mav = (ml + mu) >> 1;
    if (x < KV[mav]!) mu = mav;
    else ml = mav;
  }
  return fr(x - KV[mu - 1]!) < fr(KV[mu]! - x) ? mu - 1 : mu;
}

/**
 * Scale search for one 32-element block at x[xo]: initial guess d = max/127, then 15 inverse scales
 * (itry + values[0]) / max, each refitted by weighted least squares. Fills L[lo..lo+31] and returns the scale.
 */
function searchBlock(x: Float32Array, xo: number, L: Uint8Array, lo: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    const ax = Math.abs(x[xo + j]!);
    if (ax > amax) {
      amax = ax;
      max = x[xo + j]!;
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, lo, lo + 32);
    return 0;
  }
  let d = fr(-max / KV[0]!);
  let id = fr(1 / d);
  let sumqx = 0;
  let sumq2 = 0;
  for (let j = 0; j < 32; j++) {
    const xj = x[xo + j]!;
    const l = bestIndex(fr(id * xj));
    L[lo + j] = l;
    const q = KV[l]!;
    const w = fr(xj * xj);
    const wq = fr(w * q);
    sumqx = fr(sumqx + fr(wq * xj));
    sumq2 = fr(sumq2 + fr(wq * q));
  }
  d = sumq2 > 0 ? fr(sumqx / sumq2) : 0;
  let best = fr(d * sumqx);
  for (let itry = -NTRY; itry <= NTRY; itry++) {
    id = fr((itry + KV[0]!) / max);
    sumqx = 0;
    sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const xj = x[xo + j]!;
      const q = KV[bestIndex(fr(id * xj))]!;
      const w = fr(xj * xj);
      const wq = fr(w * q);
      sumqx = fr(sumqx + fr(wq * xj));
      sumq2 = fr(sumq2 + fr(wq * q));
    }
    if (sumq2 > 0 && fr(sumqx * sumqx) > fr(best * sumq2)) {
      d = fr(sumqx / sumq2);
      best = fr(d * sumqx);
    }
  }
  return d;
}

function pack4(L: Uint8Array, lo: number, dst: Uint8Array, qo: number): void {
  for (let j = 0; j < 16; j++) dst[qo + j] = L[lo + j]! | (L[lo + 16 + j]! << 4);
}

export function quantIQ4_NL(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void {
  const L = new Uint8Array(32);
  for (let b = 0; b < nb; b++, xo += 32, doff += 18) {
    const scale = searchBlock(x, xo, L, 0);
    putU16(dst, doff, f32ToF16(scale));
    const id = scale ? fr(1 / scale) : 0;
    for (let j = 0; j < 32; j++) L[j] = bestIndex(fr(id * x[xo + j]!));
    pack4(L, 0, dst, doff + 2);
  }
}

export function quantIQ4_XS(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void {
  const L = new Uint8Array(256);
  const scales = new Float32Array(8);
  for (let b = 0; b < nb; b++, xo += 256, doff += 136) {
    let maxScale = 0;
    let amaxScale = 0;
    for (let ib = 0; ib < 8; ib++) {
      const d = searchBlock(x, xo + 32 * ib, L, 32 * ib);
      scales[ib] = d;
      if (Math.abs(d) > amaxScale) {
        amaxScale = Math.abs(d);
        maxScale = d;
      }
    }
    const d = fr(-maxScale / 32); // -0 for an all-zero block, stored as 0x8000 like ggml
    putU16(dst, doff, f32ToF16(d));
    const id = d ? fr(1 / d) : 0;
    let scalesH = 0;
    for (let ib = 0; ib < 8; ib++) {
      let l = nearestInt(fr(id * scales[ib]!));
      l = l < -32 ? -32 : l > 31 ? 31 : l;
      const dl = fr(d * l);
      const idl = dl ? fr(1 / dl) : 0;
      for (let j = 0; j < 32; j++) L[32 * ib + j] = bestIndex(fr(idl * x[xo + 32 * ib + j]!));
      l += 32;
      const so = doff + 4 + (ib >> 1);
      if (ib % 2 === 0) dst[so] = l & 0xf;
      else dst[so] = dst[so]! | ((l & 0xf) << 4);
      scalesH |= (l >> 4) << (2 * ib);
    }
    putU16(dst, doff + 2, scalesH);
    for (let ib = 0; ib < 8; ib++) pack4(L, 32 * ib, dst, doff + 8 + 16 * ib);
  }
}
