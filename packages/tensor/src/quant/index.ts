// Row (de)quantization for every type in TYPE_TRAITS. Block formats follow ggml bit for bit: dequantization
// matches ggml's to_float, quantization matches ggml's reference (non-imatrix) quantizers, i.e. the blocks
// llama-quantize writes without an importance matrix.

import { GgmlType, typeTraits } from "../types.js";
import type { DequantFn, QuantFn } from "./common.js";
import { dequantIQ4_NL, dequantIQ4_XS, quantIQ4_NL, quantIQ4_XS } from "./iq4.js";
import {
  dequantQ4_0, dequantQ4_1, dequantQ5_0, dequantQ5_1, dequantQ8_0, dequantQ8_1,
  quantQ4_0, quantQ4_1, quantQ5_0, quantQ5_1, quantQ8_0, quantQ8_1,
} from "./legacy.js";
import { dequantPlain, quantPlain } from "./plain.js";
import { dequantQ2_K, dequantQ3_K, quantQ2_K, quantQ3_K } from "./q2k-q3k.js";
import { dequantQ4_K, dequantQ5_K, quantQ4_K, quantQ5_K } from "./q4k-q5k.js";
import { dequantQ6_K, dequantQ8_K, quantQ6_K, quantQ8_K } from "./q6k-q8k.js";

export { IQ4NL_VALUES } from "./common.js";

const BLOCK_FORMATS = new Map<GgmlType, readonly [DequantFn, QuantFn]>([
  [GgmlType.Q4_0, [dequantQ4_0, quantQ4_0]],
  [GgmlType.Q4_1, [dequantQ4_1, quantQ4_1]],
  [GgmlType.Q5_0, [dequantQ5_0, quantQ5_0]],
  [GgmlType.Q5_1, [dequantQ5_1, quantQ5_1]],
  [GgmlType.Q8_0, [dequantQ8_0, quantQ8_0]],
  [GgmlType.Q8_1, [dequantQ8_1, quantQ8_1]],
  [GgmlType.Q2_K, [dequantQ2_K, quantQ2_K]],
  [GgmlType.Q3_K, [dequantQ3_K, quantQ3_K]],
  [GgmlType.Q4_K, [dequantQ4_K, quantQ4_K]],
  [GgmlType.Q5_K, [dequantQ5_K, quantQ5_K]],
  [GgmlType.Q6_K, [dequantQ6_K, quantQ6_K]],
  [GgmlType.Q8_K, [dequantQ8_K, quantQ8_K]],
  [GgmlType.IQ4_NL, [dequantIQ4_NL, quantIQ4_NL]],
  [GgmlType.IQ4_XS, [dequantIQ4_XS, quantIQ4_XS]],
]);

function blocksOf(op: string, type: GgmlType, n: number): { name: string; nb: number; bytes: number; block: number } {
  const tr = typeTraits(type);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${op}(${tr.name}): element count ${n} is not a non-negative integer`);
  if (n % tr.blockSize !== 0) {
    throw new Error(`${op}(${tr.name}): ${n} elements is not a multiple of the ${tr.name} block size ${tr.blockSize}`);
  }
  const nb = n / tr.blockSize;
  return { name: tr.name, nb, bytes: nb * tr.typeSize, block: tr.blockSize };
}

/**
 * Decodes n elements of `type` starting at src[0] (any byteOffset) into dst[dstOffset..]. n must be a whole
 * number of blocks; integer types are converted to float.
 */
export function dequantizeRow(type: GgmlType, src: Uint8Array, n: number, dst: Float32Array, dstOffset = 0): void {
  const { name, nb, bytes } = blocksOf("dequantizeRow", type, n);
  if (src.length < bytes) {
    throw new Error(`dequantizeRow(${name}): ${n} elements need ${bytes} bytes, src has ${src.length}`);
  }
  if (dstOffset < 0 || dstOffset + n > dst.length) {
    throw new Error(`dequantizeRow(${name}): dst[${dstOffset}..${dstOffset + n}) is outside dst of length ${dst.length}`);
  }
  const fmt = BLOCK_FORMATS.get(type);
  if (fmt) fmt[0](src, 0, nb, dst, dstOffset);
  else dequantPlain(name, src, 0, n, dst, dstOffset);
}

/** Encodes all of src (a whole number of blocks) as `type` into dst[0..rowSize). */
export function quantizeRow(type: GgmlType, src: Float32Array, dst: Uint8Array): void {
  const { name, nb, bytes } = blocksOf("quantizeRow", type, src.length);
  if (dst.length < bytes) {
    throw new Error(`quantizeRow(${name}): ${src.length} elements need ${bytes} bytes, dst has ${dst.length}`);
  }
  const fmt = BLOCK_FORMATS.get(type);
  if (fmt) fmt[1](src, 0, nb, dst, 0);
  else quantPlain(name, src, dst, 0);
}

/** Decodes nElements of `type` from bytes into a new Float32Array. */
export function dequantize(type: GgmlType, bytes: Uint8Array, nElements: number): Float32Array {
  blocksOf("dequantize", type, nElements); // validate before allocating
  const out = new Float32Array(nElements);
  dequantizeRow(type, bytes, nElements, out, 0);
  return out;
}

/** Encodes src (length a multiple of the block size) as `type` into new bytes. */
export function quantize(type: GgmlType, src: Float32Array): Uint8Array {
  const { bytes } = blocksOf("quantize", type, src.length);
  const out = new Uint8Array(bytes);
  quantizeRow(type, src, out);
  return out;
}
