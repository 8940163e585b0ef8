// IEEE half (f16) and bfloat16 conversions. Hot paths: the reference backend and the GGUF tools call these in
// loops over millions of values, so f16→f32 is a table lookup and f32→f16 works on the float's bits.

// Scratch views for reading a float32's bits without allocating.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function halfToFloatExact(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24; // zero and subnormals
  if (exp === 31) return man ? NaN : sign * Infinity;
  return sign * (1024 + man) * 2 ** (exp - 25);
}

const F16_TABLE = new Float32Array(65536);
for (let h = 0; h < 65536; h++) F16_TABLE[h] = halfToFloatExact(h);
// Keep NaN payloads visible bit-wise (the table store may canonicalise them): rebuild them from bits.
{
  const bits = new Uint32Array(F16_TABLE.buffer);
  for (let h = 0; h < 65536; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
      bits[h] = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13);
    }
  }
}

/** Exact value of the half-precision bit pattern h (low 16 bits used), subnormals included. */
export function f16ToF32(h: number): number {
  return F16_TABLE[h & 0xffff]!;
}

/** f16 bits from the 32 bits of a float32 (round to nearest even, overflow → ±inf, NaN → quiet NaN 0x7e00|sign). */
function bitsToF16(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  let m = b & 0x7fffff;
  if (e === 0xff) return sign | (m ? 0x7e00 : 0x7c00); // ggml's NaN is 0x7e00 whatever the payload
  const ne = e - 112; // exponent rebiased from 127 to 15
  if (ne >= 31) return sign | 0x7c00;
  if (ne <= 0) {
    // Result is subnormal (or zero): value in units of 2^-24 is m' >> (14 - ne).
    if (ne < -10) return sign;
    m |= 0x800000;
    const shift = 14 - ne;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1))) half++;
    return sign | half;
  }
  let half = (ne << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is exactly right (up to 0x7c00 = inf).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** Half-precision bits of x (x is first rounded to float32, as ggml's GGML_FP32_TO_FP16 takes a float). */
export function f32ToF16(x: number): number {
  scratchF32[0] = x;
  return bitsToF16(scratchU32[0]!);
}

/** Value of bfloat16 bits h: the float32 whose upper 16 bits are h. */
export function bf16ToF32(h: number): number {
  scratchU32[0] = (h & 0xffff) << 16;
  return scratchF32[0]!;
}

function bitsToBf16(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // NaN: keep sign/payload, force quiet
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits of x (round to nearest even like ggml_compute_fp32_to_bf16; NaN stays NaN). */
export function f32ToBf16(x: number): number {
  scratchF32[0] = x;
  return bitsToBf16(scratchU32[0]!);
}

/** Converts half bits to floats; dst defaults to a new array and must hold src.length values. */
export function f16ArrayToF32(src: Uint16Array, dst?: Float32Array): Float32Array {
  const out = dst ?? new Float32Array(src.length);
  if (out.length < src.length) {
    throw new Error(`f16ArrayToF32: dst holds ${out.length} values, src has ${src.length}`);
  }
  const t = F16_TABLE;
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]!]!;
  return out;
}

/** Converts floats to half bits (round to nearest even); dst defaults to a new array. */
export function f32ArrayToF16(src: Float32Array, dst?: Uint16Array): Uint16Array {
  const out = dst ?? new Uint16Array(src.length);
  if (out.length < src.length) {
    throw new Error(`f32ArrayToF16: dst holds ${out.length} values, src has ${src.length}`);
  }
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = bitsToF16(bits[i]!);
  return out;
}

/** Converts bfloat16 bits to floats. */
export function bf16ArrayToF32(src: Uint16Array, dst?: Float32Array): Float32Array {
  const out = dst ?? new Float32Array(src.length);
  if (out.length < src.length) {
    throw new Error(`bf16ArrayToF32: dst holds ${out.length} values, src has ${src.length}`);
  }
  const bits = new Uint32Array(out.buffer, out.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

/** Converts floats to bfloat16 bits (round to nearest even). */
export function f32ArrayToBf16(src: Float32Array, dst?: Uint16Array): Uint16Array {
  const out = dst ?? new Uint16Array(src.length);
  if (out.length < src.length) {
    throw new Error(`f32ArrayToBf16: dst holds ${out.length} values, src has ${src.length}`);
  }
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = bitsToBf16(bits[i]!);
  return out;
}
