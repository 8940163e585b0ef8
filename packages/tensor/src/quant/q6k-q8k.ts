// Q6_K (210 bytes) and Q8_K (292 bytes) super-blocks of 256 (ggml's quantize_row_q{6,8}_K_ref / dequantize_row_*).

import { f32ToF16 } from "../f16.js";
import { GROUP_MAX_EPS, fr, halfAt, i8, nearestInt, putU16 } from "./common.js";
import { makeQxQuants } from "./kq-search.js";

const QK_K = 256;

// ---------- Q6_K: ql[128], qh[64], scales int8[16], d f16 ----------

export function dequantQ6_K(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 210, doff += QK_K) {
    const d = halfAt(src, so + 208);
    for (let s = 0; s < 16; s++) {
      const ds = fr(d * i8(src[so + 192 + s]!));
      const h = s >> 3;
      const g = (s >> 1) & 3;
      const r0 = 16 * (s & 1);
      const lb = so + 64 * h + 32 * (g & 1);
      const lshift = g < 2 ? 0 : 4;
      const hb = so + 128 + 32 * h;
      const y = doff + 16 * s;
      for (let l = 0; l < 16; l++) {
        const r = r0 + l;
        const q = (((src[lb + r]! >> lshift) & 15) | (((src[hb + r]! >> (2 * g)) & 3) << 4)) - 32;
        dst[y + l] = ds * q;
      }
    }
  }
}

export function quantQ6_K(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void {
  const L = new Int8Array(QK_K);
  const scales = new Float32Array(16);
  for (let b = 0; b < nb; b++, xo += QK_K, doff += 210) {
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(16, 32, x, xo + 16 * ib, L, 16 * ib);
      scales[ib] = scale;
      const a = Math.abs(scale);
      if (a > maxAbsScale) {
        maxAbsScale = a;
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) {
      dst.fill(0, doff, doff + 210);
      continue;
    }
    const iscale = fr(-128 / maxScale);
    putU16(dst, doff + 208, f32ToF16(fr(1 / iscale)));
    for (let ib = 0; ib < 16; ib++) {
      dst[doff + 192 + ib] = Math.min(127, nearestInt(fr(iscale * scales[ib]!))) & 0xff;
    }
    const dAll = halfAt(dst, doff + 208);
    for (let j = 0; j < 16; j++) {
      const d = fr(dAll * i8(dst[doff + 192 + j]!));
      if (!d) continue;
      for (let ii = 0; ii < 16; ii++) {
        const l = nearestInt(fr(x[xo + 16 * j + ii]! / d));
        L[16 * j + ii] = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
      }
    }
    for (let j = 0, ql = doff, qh = doff + 128; j < QK_K; j += 128, ql += 64, qh += 32) {
      for (let l = 0; l < 32; l++) {
        const a = L[j + l]!;
        const c = L[j + l + 32]!;
        const e = L[j + l + 64]!;
        const g = L[j + l + 96]!;
        dst[ql + l] = (a & 15) | ((e & 15) << 4);
        dst[ql + l + 32] = (c & 15) | ((g & 15) << 4);
        dst[qh + l] = ((a >> 4) | ((c >> 4) << 2) | ((e >> 4) << 4) | ((g >> 4) << 6)) & 0xff;
      }
    }
  }
}

// ---------- Q8_K: d f32, qs int8[256], bsums int16[16] ----------

const f32Scratch = new Float32Array(1);
const u8Scratch = new Uint8Array(f32Scratch.buffer);

function f32At(src: Uint8Array, o: number): number {
  u8Scratch[0] = src[o]!;
  u8Scratch[1] = src[o + 1]!;
  u8Scratch[2] = src[o + 2]!;
  u8Scratch[3] = src[o + 3]!;
  return f32Scratch[0]!;
}

export function dequantQ8_K(src: Uint8Array, so: number, nb: number, dst: Float32Array, doff: number): void {
  for (let b = 0; b < nb; b++, so += 292, doff += QK_K) {
    const d = f32At(src, so);
    for (let j = 0; j < QK_K; j++) dst[doff + j] = d * i8(src[so + 4 + j]!);
  }
}

/** Q8_K as the CPU backends quantize activations: d = max/-127 in f32, codes, and 16 group sums (bsums). */
export function quantQ8_K(x: Float32Array, xo: number, nb: number, dst: Uint8Array, doff: number): void {
  for (let b = 0; b < nb; b++, xo += QK_K, doff += 292) {
    let max = 0;
    let amax = 0;
    for (let j = 0; j < QK_K; j++) {
      const ax = Math.abs(x[xo + j]!);
      if (ax > amax) {
        amax = ax;
        max = x[xo + j]!;
      }
    }
    if (!amax) {
      dst.fill(0, doff, doff + 292); // ggml leaves bsums untouched here; zero is what they would sum to
      continue;
    }
    const iscale = fr(-127 / max);
    for (let j = 0; j < QK_K; j++) dst[doff + 4 + j] = Math.min(127, nearestInt(fr(iscale * x[xo + j]!))) & 0xff;
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let ii = 0; ii < 16; ii++) sum += i8(dst[doff + 4 + 16 * j + ii]!);
      const o = doff + 260 + 2 * j;
      dst[o] = sum & 0xff;
      dst[o + 1] = (sum >> 8) & 0xff;
    }
    f32Scratch[0] = 1 / iscale;
    for (let k = 0; k < 4; k++) dst[doff + k] = u8Scratch[k]!;
  }
}
