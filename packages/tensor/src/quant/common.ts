// Helpers shared by the block formats. The quantizers mirror ggml's C reference code, which computes in float32;
// every intermediate goes through Math.fround so that our blocks match llama-quantize's bit for bit.

import { f16ToF32 } from "../f16.js";

export const fr = Math.fround;

/** ggml's GROUP_MAX_EPS (1e-15f): a group whose max |x| is below this is treated as all zero. */
export const GROUP_MAX_EPS = fr(1e-15);

const nScratchF = new Float32Array(1);
const nScratchU = new Uint32Array(nScratchF.buffer);

/**
 * ggml's nearest_int: adds 1.5·2^23 in float32 and reads the mantissa, i.e. round half to even for
 * |x| < 2^22. Outside that range (which the C code only asserts against) the same bit trick is replayed so
 * that out-of-range garbage matches too.
 */
export function nearestInt(fval: number): number {
  const v = fr(fval + 12582912);
  if (fval >= -4194303 && fval <= 4194303) return v - 12582912;
  nScratchF[0] = v;
  return (nScratchU[0]! & 0x007fffff) - 0x00400000;
}

/** C roundf: half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** Half at byte offset o (little-endian), decoded exactly. */
export function halfAt(src: Uint8Array, o: number): number {
  return f16ToF32(src[o]! | (src[o + 1]! << 8));
}

export function putU16(dst: Uint8Array, o: number, v: number): void {
  dst[o] = v & 0xff;
  dst[o + 1] = (v >>> 8) & 0xff;
}

export function u32At(src: Uint8Array, o: number): number {
  return (src[o]! | (src[o + 1]! << 8) | (src[o + 2]! << 16) | (src[o + 3]! << 24)) >>> 0;
}

export function putU32(dst: Uint8Array, o: number, v: number): void {
  dst[o] = v & 0xff;
  dst[o + 1] = (v >>> 8) & 0xff;
  dst[o + 2] = (v >>> 16) & 0xff;
  dst[o + 3] = (v >>> 24) & 0xff;
}

/** Signed byte from an unsigned one. */
export const i8 = (b: number): number => (b << 24) >> 24;

/** Non-linear 4-bit code book of IQ4_NL / IQ4_XS (ggml's kvalues_iq4nl). */
export const IQ4NL_VALUES: readonly number[] = [
  -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
];

/** Signature of one format's row dequantizer: nBlocks blocks from src[srcOff], to dst[dstOff]. */
export type DequantFn = (src: Uint8Array, srcOff: number, nBlocks: number, dst: Float32Array, dstOff: number) => void;
/** Signature of one format's row quantizer: nBlocks blocks of x[xOff..], to dst[dstOff..]. */
export type QuantFn = (x: Float32Array, xOff: number, nBlocks: number, dst: Uint8Array, dstOff: number) => void;

