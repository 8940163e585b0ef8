// Non-block element types (F32, F16, BF16, F64, I8..I64) read from / written to little-endian bytes at any offset.

import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from "../f16.js";
import { roundHalfAway } from "./common.js";

/** A typed-array view when the offset is aligned for it, else an aligned copy of the bytes. */
function aligned(src: Uint8Array, so: number, nbytes: number, align: number): ArrayBuffer | [ArrayBufferLike, number] {
  const off = src.byteOffset + so;
  if (off % align === 0) return [src.buffer, off];
  return src.slice(so, so + nbytes).buffer;
}

function view<T>(src: Uint8Array, so: number, n: number, size: number, make: (b: ArrayBufferLike, o: number, n: number) => T): T {
  const a = aligned(src, so, n * size, size);
  return Array.isArray(a) ? make(a[0], a[1], n) : make(a, 0, n);
}

export function dequantPlain(kind: string, src: Uint8Array, so: number, n: number, dst: Float32Array, doff: number): void {
  const out = dst.subarray(doff, doff + n);
  switch (kind) {
    case "f32":
      out.set(view(src, so, n, 4, (b, o, k) => new Float32Array(b, o, k)));
      return;
    case "f16":
      f16ArrayToF32(view(src, so, n, 2, (b, o, k) => new Uint16Array(b, o, k)), out);
      return;
    case "bf16":
      bf16ArrayToF32(view(src, so, n, 2, (b, o, k) => new Uint16Array(b, o, k)), out);
      return;
    case "f64":
      out.set(view(src, so, n, 8, (b, o, k) => new Float64Array(b, o, k)));
      return;
    case "i8":
      out.set(new Int8Array(src.buffer, src.byteOffset + so, n));
      return;
    case "i16":
      out.set(view(src, so, n, 2, (b, o, k) => new Int16Array(b, o, k)));
      return;
    case "i32":
      out.set(view(src, so, n, 4, (b, o, k) => new Int32Array(b, o, k)));
      return;
    case "i64": {
      const v = view(src, so, n, 8, (b, o, k) => new BigInt64Array(b, o, k));
      for (let i = 0; i < n; i++) out[i] = Number(v[i]!);
      return;
    }
  }
  throw new Error(`dequantizeRow: no plain conversion for ${kind}`);
}

const saturate = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

export function quantPlain(kind: string, x: Float32Array, dst: Uint8Array, doff: number): void {
  const n = x.length;
  const dv = new DataView(dst.buffer, dst.byteOffset + doff, dst.byteLength - doff);
  switch (kind) {
    case "f32":
      dst.set(new Uint8Array(x.buffer, x.byteOffset, n * 4), doff);
      return;
    case "f16":
    case "bf16": {
      const h = kind === "f16" ? f32ArrayToF16(x) : f32ArrayToBf16(x);
      dst.set(new Uint8Array(h.buffer, h.byteOffset, n * 2), doff);
      return;
    }
    case "f64":
      for (let i = 0; i < n; i++) dv.setFloat64(8 * i, x[i]!, true);
      return;
    case "i8":
      for (let i = 0; i < n; i++) dv.setInt8(i, saturate(roundHalfAway(x[i]!), -128, 127) || 0);
      return;
    case "i16":
      for (let i = 0; i < n; i++) dv.setInt16(2 * i, saturate(roundHalfAway(x[i]!), -32768, 32767) || 0, true);
      return;
    case "i32":
      for (let i = 0; i < n; i++) dv.setInt32(4 * i, saturate(roundHalfAway(x[i]!), -2147483648, 2147483647) || 0, true);
      return;
    case "i64":
      for (let i = 0; i < n; i++) {
        const v = roundHalfAway(x[i]!);
        // ±2^63 saturate; NaN becomes 0
        const b = Number.isNaN(v) ? 0n : v >= 2 ** 63 ? 2n ** 63n - 1n : v < -(2 ** 63) ? -(2n ** 63n) : BigInt(v);
        dv.setBigInt64(8 * i, b, true);
      }
      return;
  }
  throw new Error(`quantizeRow: no plain conversion for ${kind}`);
}
