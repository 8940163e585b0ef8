// Encoding of GGUF header values into a growable little-endian byte buffer.

import { GgufArray, GgufKV, GgufValueType, describeKVType, valueTypeName } from "./value-types.js";

const utf8 = new TextEncoder();

export class ByteBuilder {
  private buf = new Uint8Array(1 << 16);
  private dv = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.dv = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }

  // reserve() may replace buf/dv, so it must run before they are read.
  u8(v: number) { const o = this.reserve(1); this.dv.setUint8(o, v); }
  i8(v: number) { const o = this.reserve(1); this.dv.setInt8(o, v); }
  u16(v: number) { const o = this.reserve(2); this.dv.setUint16(o, v, true); }
  i16(v: number) { const o = this.reserve(2); this.dv.setInt16(o, v, true); }
  u32(v: number) { const o = this.reserve(4); this.dv.setUint32(o, v, true); }
  i32(v: number) { const o = this.reserve(4); this.dv.setInt32(o, v, true); }
  f32(v: number) { const o = this.reserve(4); this.dv.setFloat32(o, v, true); }
  f64(v: number) { const o = this.reserve(8); this.dv.setFloat64(o, v, true); }
  u64(v: bigint | number) { const o = this.reserve(8); this.dv.setBigUint64(o, BigInt(v), true); }
  i64(v: bigint | number) { const o = this.reserve(8); this.dv.setBigInt64(o, BigInt(v), true); }
  bytes(b: Uint8Array) { const o = this.reserve(b.length); this.buf.set(b, o); }
  string(s: string) { const b = utf8.encode(s); this.u64(b.length); this.bytes(b); }
  zeros(n: number) { const o = this.reserve(n); this.buf.fill(0, o, this.length); }

  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

const INT_RANGES: Partial<Record<GgufValueType, [number, number]>> = {
  [GgufValueType.UINT8]: [0, 0xff], [GgufValueType.INT8]: [-0x80, 0x7f],
  [GgufValueType.UINT16]: [0, 0xffff], [GgufValueType.INT16]: [-0x8000, 0x7fff],
  [GgufValueType.UINT32]: [0, 0xffffffff], [GgufValueType.INT32]: [-0x80000000, 0x7fffffff],
};

function scalarError(key: string, t: GgufValueType, v: unknown): Error {
  return new Error(`GGUF writer: key "${key}": value ${String(v)} (${typeof v}) is not a valid ${valueTypeName(t)}`);
}

function writeScalar(b: ByteBuilder, key: string, t: GgufValueType, v: unknown): void {
  const range = INT_RANGES[t];
  if (range) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1]) throw scalarError(key, t, v);
  }
  switch (t) {
    case GgufValueType.UINT8: return b.u8(v as number);
    case GgufValueType.INT8: return b.i8(v as number);
    case GgufValueType.UINT16: return b.u16(v as number);
    case GgufValueType.INT16: return b.i16(v as number);
    case GgufValueType.UINT32: return b.u32(v as number);
    case GgufValueType.INT32: return b.i32(v as number);
    case GgufValueType.FLOAT32: case GgufValueType.FLOAT64:
      if (typeof v !== "number") throw scalarError(key, t, v);
      return t === GgufValueType.FLOAT32 ? b.f32(v) : b.f64(v);
    case GgufValueType.BOOL:
      if (typeof v !== "boolean") throw scalarError(key, t, v);
      return b.u8(v ? 1 : 0);
    case GgufValueType.UINT64: case GgufValueType.INT64: {
      const ok = typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v));
      const x = ok ? BigInt(v as bigint | number) : 0n;
      const inRange = t === GgufValueType.UINT64 ? x >= 0n && x < 1n << 64n : x >= -(1n << 63n) && x < 1n << 63n;
      if (!ok || !inRange) throw scalarError(key, t, v);
      return t === GgufValueType.UINT64 ? b.u64(x) : b.i64(x);
    }
    case GgufValueType.STRING:
      if (typeof v !== "string") throw scalarError(key, t, v);
      return b.string(v);
  }
  throw new Error(`GGUF writer: key "${key}": ${valueTypeName(t)} is not a scalar type`);
}

function writeArray(b: ByteBuilder, key: string, arrayType: GgufValueType, value: unknown): void {
  if (arrayType === undefined || arrayType < 0 || arrayType > 12) {
    throw new Error(`GGUF writer: key "${key}": invalid array element type ${arrayType}`);
  }
  if (!(Array.isArray(value) || ArrayBuffer.isView(value))) {
    throw new Error(`GGUF writer: key "${key}": ARRAY value must be an array or typed array`);
  }
  const xs = value as ArrayLike<unknown>;
  b.u32(arrayType);
  b.u64(xs.length);
  if (arrayType === GgufValueType.ARRAY) {
    for (let i = 0; i < xs.length; i++) {
      const el = xs[i] as GgufArray;
      if (!el || typeof el !== "object" || !("arrayType" in el)) {
        throw new Error(`GGUF writer: key "${key}": nested array elements must be { arrayType, value }`);
      }
      writeArray(b, key, el.arrayType, el.value);
    }
    return;
  }
  for (let i = 0; i < xs.length; i++) writeScalar(b, key, arrayType, xs[i]);
}

export function writeKV(b: ByteBuilder, kv: GgufKV): void {
  b.string(kv.key);
  b.u32(kv.type);
  if (kv.type === GgufValueType.ARRAY) {
    if (kv.arrayType === undefined) throw new Error(`GGUF writer: key "${kv.key}": ARRAY needs arrayType`);
    writeArray(b, kv.key, kv.arrayType, kv.value);
  } else {
    if (kv.type < 0 || kv.type > 12) throw new Error(`GGUF writer: key "${kv.key}": invalid type ${describeKVType(kv)}`);
    writeScalar(b, kv.key, kv.type, kv.value);
  }
}
