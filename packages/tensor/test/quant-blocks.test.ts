// Hand-built blocks → known values, checked against the element-wise formulas of spec/ops.md §11 (written here
// independently of the implementation, element by element), plus plain types, unaligned input and errors.

import { describe, expect, it } from "vitest";
import { f16ToF32, f32ToF16 } from "../src/f16.js";
import { IQ4NL_VALUES, dequantize, dequantizeRow, quantize, quantizeRow } from "../src/quant/index.js";
import { GgmlType, TYPE_TRAITS, typeTraits } from "../src/types.js";
import { rng } from "./quant-helpers.js";

const fr = Math.fround;
const KV = IQ4NL_VALUES;
const h16 = (b: Uint8Array, o: number) => f16ToF32(b[o]! | (b[o + 1]! << 8));
const s8 = (v: number) => (v << 24) >> 24;

/** Value of element i of one block, straight from the spec tables (ggml's float32 evaluation order). */
function specElement(type: GgmlType, b: Uint8Array, i: number): number {
  const h = i >> 7, j = (i >> 5) & 3, r = i & 31, s = i >> 5;
  const nib = (qs: number) => (i < 16 ? b[qs + i]! & 15 : b[qs + i - 16]! >> 4);
  switch (type) {
    case GgmlType.Q4_0: return fr((nib(2) - 8) * h16(b, 0));
    case GgmlType.Q4_1: return fr(fr(nib(4) * h16(b, 0)) + h16(b, 2));
    case GgmlType.Q5_0: {
      const qh = (b[2]! | (b[3]! << 8) | (b[4]! << 16) | (b[5]! << 24)) >>> 0;
      return fr(((nib(6) | (((qh >>> i) & 1) << 4)) - 16) * h16(b, 0));
    }
    case GgmlType.Q5_1: {
      const qh = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
      return fr(fr((nib(8) | (((qh >>> i) & 1) << 4)) * h16(b, 0)) + h16(b, 2));
    }
    case GgmlType.Q8_0: return fr(s8(b[2 + i]!) * h16(b, 0));
    case GgmlType.Q8_1: return fr(s8(b[4 + i]!) * h16(b, 0));
    case GgmlType.IQ4_NL: return fr(h16(b, 0) * KV[nib(2)]!);
    case GgmlType.Q2_K: {
      const q = (b[16 + 32 * h + r]! >> (2 * j)) & 3;
      const sc = b[i >> 4]!;
      return fr(fr(fr(h16(b, 80) * (sc & 15)) * q) - fr(h16(b, 82) * (sc >> 4)));
    }
    case GgmlType.Q3_K: {
      const q = ((b[32 + 32 * h + r]! >> (2 * j)) & 3) - ((b[r]! >> (4 * h + j)) & 1 ? 0 : 4);
      const t = i >> 4;
      const lo = t < 8 ? b[96 + t]! & 15 : b[96 + t - 8]! >> 4;
      const hi = (b[96 + 8 + (t & 3)]! >> (2 * (t >> 2))) & 3;
      return fr(fr(h16(b, 108) * ((lo | (hi << 4)) - 32)) * q);
    }
    case GgmlType.Q4_K:
    case GgmlType.Q5_K: {
      const five = type === GgmlType.Q5_K;
      const qs = five ? 48 : 16;
      let q = (b[qs + 32 * (s >> 1) + r]! >> (s & 1 ? 4 : 0)) & 15;
      if (five) q += 16 * ((b[16 + r]! >> s) & 1);
      const S = 4; // scales[12]
      const sc = s < 4 ? b[S + s]! & 63 : (b[S + s + 4]! & 15) | ((b[S + s - 4]! >> 6) << 4);
      const m = s < 4 ? b[S + s + 4]! & 63 : (b[S + s + 4]! >> 4) | ((b[S + s]! >> 6) << 4);
      return fr(fr(fr(h16(b, 0) * sc) * q) - fr(h16(b, 2) * m));
    }
    case GgmlType.Q6_K: {
      const g = j;
      const lo = (b[64 * h + 32 * (g & 1) + r]! >> (g < 2 ? 0 : 4)) & 15;
      const hi = (b[128 + 32 * h + r]! >> (2 * g)) & 3;
      return fr(fr(h16(b, 208) * s8(b[192 + (i >> 4)]!)) * ((lo | (hi << 4)) - 32));
    }
    case GgmlType.Q8_K: {
      const d = new Float32Array(b.slice(0, 4).buffer)[0]!;
      return fr(d * s8(b[4 + i]!));
    }
    case GgmlType.IQ4_XS: {
      const sh = b[2]! | (b[3]! << 8);
      const ls = ((b[4 + (s >> 1)]! >> (4 * (s & 1))) & 15) | (((sh >> (2 * s)) & 3) << 4);
      const dl = fr(h16(b, 0) * (ls - 32));
      const k = i & 31;
      const q = k < 16 ? b[8 + 16 * s + k]! & 15 : b[8 + 16 * s + k - 16]! >> 4;
      return fr(dl * KV[q]!);
    }
  }
  throw new Error(`no spec formula for ${type}`);
}

/** Offsets of the f16 scale fields per type; random bytes there are replaced by sane halves. */
const HALF_FIELDS: Partial<Record<GgmlType, number[]>> = {
  [GgmlType.Q4_0]: [0], [GgmlType.Q4_1]: [0, 2], [GgmlType.Q5_0]: [0], [GgmlType.Q5_1]: [0, 2],
  [GgmlType.Q8_0]: [0], [GgmlType.Q8_1]: [0, 2], [GgmlType.IQ4_NL]: [0], [GgmlType.Q2_K]: [80, 82],
  [GgmlType.Q3_K]: [108], [GgmlType.Q4_K]: [0, 2], [GgmlType.Q5_K]: [0, 2], [GgmlType.Q6_K]: [208],
  [GgmlType.IQ4_XS]: [0],
};

const BLOCK_TYPES = [...TYPE_TRAITS.values()].filter((t) => t.quantized).map((t) => t.id);

function randomBlocks(type: GgmlType, nBlocks: number, seed: number): Uint8Array {
  const tr = typeTraits(type);
  const r = rng(seed);
  const bytes = new Uint8Array(nBlocks * tr.typeSize);
  for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(r() * 256);
  for (let blk = 0; blk < nBlocks; blk++) {
    const o = blk * tr.typeSize;
    for (const f of HALF_FIELDS[type] ?? []) {
      const h = f32ToF16((r() - 0.5) * 2 ** (Math.floor(r() * 20) - 16)); // includes f16 subnormals
      bytes[o + f] = h & 0xff;
      bytes[o + f + 1] = h >> 8;
    }
    if (type === GgmlType.Q8_K) new DataView(bytes.buffer).setFloat32(o, (r() - 0.5) * 1e-3, true);
  }
  return bytes;
}

describe("dequantization of hand-built blocks", () => {
  it("Q4_0: d=0.5, nibble j | (15-j)<<4", () => {
    const b = new Uint8Array(18);
    b[0] = 0x00; b[1] = 0x38; // 0.5
    for (let j = 0; j < 16; j++) b[2 + j] = j | ((15 - j) << 4);
    const y = dequantize(GgmlType.Q4_0, b, 32);
    for (let j = 0; j < 16; j++) {
      expect(y[j]).toBe((j - 8) * 0.5);
      expect(y[j + 16]).toBe((7 - j) * 0.5);
    }
  });

  it("Q4_1: x = q·d + m", () => {
    const b = new Uint8Array(20);
    b.set([0x00, 0x34, 0x00, 0xbc]); // d = 0.25, m = -1
    for (let j = 0; j < 16; j++) b[4 + j] = j | (j << 4);
    const y = dequantize(GgmlType.Q4_1, b, 32);
    expect(y[0]).toBe(-1);
    expect(y[5]).toBe(0.25);
    expect(y[16 + 15]).toBe(2.75);
  });

  it("Q5_0: the fifth bit comes from qh bit i", () => {
    const b = new Uint8Array(22);
    b.set([0x00, 0x3c]); // d = 1
    new DataView(b.buffer).setUint32(2, 0x80000001, true); // elements 0 and 31 get bit 4
    b[6] = 0x00; b[6 + 15] = 0xf0;
    const y = dequantize(GgmlType.Q5_0, b, 32);
    expect(y[0]).toBe(0); // (0 | 16) - 16
    expect(y[1]).toBe(-16);
    expect(y[31]).toBe(15); // (15 | 16) - 16
  });

  it("Q8_0: x = qs·d with signed bytes", () => {
    const b = new Uint8Array(34);
    b.set([0x00, 0x30]); // d = 0.125
    b[2] = 0x80; b[3] = 0x7f; b[4] = 0xff;
    const y = dequantize(GgmlType.Q8_0, b, 32);
    expect([y[0], y[1], y[2], y[3]]).toEqual([-16, 15.875, -0.125, 0]);
  });

  it("Q4_K: sub-block 0 uses scales[0]&63 / scales[4]&63, sub-block 5 the split 6-bit fields", () => {
    const b = new Uint8Array(144);
    b.set([0x00, 0x3c, 0x00, 0x38]); // d = 1, dmin = 0.5
    b[4 + 0] = 3; b[4 + 4] = 2; // s=0: sc 3, m 2
    b[4 + 9] = 0x75; b[4 + 1] = 0x40; b[4 + 5] = 0x80; // s=5: sc = 5 | (1<<4) = 21, m = 7 | (2<<4) = 39
    b[16 + 0] = 0x0f; // element 0: q = 15 (low nibble of byte 0)
    b[16 + 32 + 1] = 0x90; // element 160+1 (s=5, odd → high nibble of qs[32·2+1])
    b[16 + 64 + 1] = 0x90;
    const y = dequantize(GgmlType.Q4_K, b, 256);
    expect(y[0]).toBe(3 * 15 - 0.5 * 2);
    expect(y[1]).toBe(-1);
    expect(y[161]).toBe(21 * 9 - 0.5 * 39);
  });

  it("Q6_K: negative sub-block scale, 6-bit codes from ql and qh", () => {
    const b = new Uint8Array(210);
    b[208] = 0x00; b[209] = 0x38; // d = 0.5
    b[192 + 0] = 0xfe; // scale -2 for elements 0..15
    b[0] = 0x0a; // low nibble 10
    b[128] = 0x03; // hi bits 3 → q = 10 | 48 = 58 → 26
    const y = dequantize(GgmlType.Q6_K, b, 256);
    expect(y[0]).toBe(0.5 * -2 * 26);
    expect(y[1]).toBe(0.5 * -2 * -32);
  });

  it("IQ4_NL and IQ4_XS use the non-linear code book", () => {
    const nl = new Uint8Array(18);
    nl.set([0x00, 0x3c]);
    nl[2] = 0xf0;
    const y = dequantize(GgmlType.IQ4_NL, nl, 32);
    expect(y[0]).toBe(-127);
    expect(y[16]).toBe(113);
    const xs = new Uint8Array(136);
    xs.set([0x00, 0x3c, 0b10, 0]); // d = 1, block 0 high scale bits = 2
    xs[4] = 0x01; // block 0 low scale bits 1 → ls = 33 → dl = 1
    xs[8] = 0x8f;
    const z = dequantize(GgmlType.IQ4_XS, xs, 256);
    expect(z[0]).toBe(113);
    expect(z[16]).toBe(1);
    expect(z[32]).toBe(-32 * KV[0]!); // block 1: ls = 0 → dl = -32, code 0
  });

  for (const type of BLOCK_TYPES) {
    it(`${typeTraits(type).name}: random blocks match the spec formulas bit for bit`, () => {
      const tr = typeTraits(type);
      const nb = tr.blockSize === 32 ? 24 : 4;
      const bytes = randomBlocks(type, nb, 100 + type);
      const y = dequantize(type, bytes, nb * tr.blockSize);
      const bad: string[] = [];
      for (let blk = 0; blk < nb; blk++) {
        const b = bytes.subarray(blk * tr.typeSize, (blk + 1) * tr.typeSize);
        for (let i = 0; i < tr.blockSize; i++) {
          const want = specElement(type, b, i);
          const got = y[blk * tr.blockSize + i]!;
          if (!Object.is(got, want) && bad.length < 5) bad.push(`block ${blk} elem ${i}: ${got} != ${want}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});

describe("plain types", () => {
  const values = [0, 1, -2, 3.5, -1000.25, 65504, 1e-3];

  it("F32/F16/BF16/F64 and ints dequantize from little-endian bytes", () => {
    const n = values.length;
    const dv = (size: number) => {
      const buf = new Uint8Array(n * size);
      return [buf, new DataView(buf.buffer)] as const;
    };
    const [f32, d32] = dv(4); values.forEach((v, i) => d32.setFloat32(4 * i, v, true));
    expect(Array.from(dequantize(GgmlType.F32, f32, n))).toEqual(values.map(fr));
    const [f64, d64] = dv(8); values.forEach((v, i) => d64.setFloat64(8 * i, v, true));
    expect(Array.from(dequantize(GgmlType.F64, f64, n))).toEqual(values.map(fr));
    const [f16, d16] = dv(2); values.forEach((v, i) => d16.setUint16(2 * i, f32ToF16(v), true));
    expect(Array.from(dequantize(GgmlType.F16, f16, n))).toEqual(values.map((v) => f16ToF32(f32ToF16(v))));
    const [bf, dbf] = dv(2); dbf.setUint16(0, 0x3fc0, true); dbf.setUint16(2, 0xc2c8, true);
    expect(Array.from(dequantize(GgmlType.BF16, bf, 2))).toEqual([1.5, -100]);
    const ints = [0, 1, -1, 127, -128];
    expect(Array.from(dequantize(GgmlType.I8, Uint8Array.from(ints, (v) => v & 0xff), 5))).toEqual(ints);
    const [i16, di16] = dv(2); [-32768, 32767, -5].forEach((v, i) => di16.setInt16(2 * i, v, true));
    expect(Array.from(dequantize(GgmlType.I16, i16, 3))).toEqual([-32768, 32767, -5]);
    const [i32, di32] = dv(4); [-2147483648, 2147483647, 7].forEach((v, i) => di32.setInt32(4 * i, v, true));
    expect(Array.from(dequantize(GgmlType.I32, i32, 3))).toEqual([-2147483648, 2147483648, 7]); // f32 rounding
    const [i64, di64] = dv(8); [-(2n ** 40n), 12345n].forEach((v, i) => di64.setBigInt64(8 * i, v, true));
    expect(Array.from(dequantize(GgmlType.I64, i64, 2))).toEqual([-(2 ** 40), 12345]);
  });

  it("quantizes floats and rounds/saturates ints", () => {
    const x = new Float32Array([2.5, -2.5, 0.49, 1e10, -1e10, NaN, 300.7]);
    expect(Array.from(new Int8Array(quantize(GgmlType.I8, x).buffer))).toEqual([3, -3, 0, 127, -128, 0, 127]);
    const i16 = quantize(GgmlType.I16, x);
    expect(Array.from(new Int16Array(i16.buffer))).toEqual([3, -3, 0, 32767, -32768, 0, 301]);
    const i32 = quantize(GgmlType.I32, x);
    expect(Array.from(new Int32Array(i32.buffer))).toEqual([3, -3, 0, 2147483647, -2147483648, 0, 301]);
    const i64 = quantize(GgmlType.I64, x);
    expect(new BigInt64Array(i64.buffer)[3]).toBe(10000000000n);
    const h = quantize(GgmlType.F16, new Float32Array([1, 65520]));
    expect(Array.from(new Uint16Array(h.buffer))).toEqual([0x3c00, 0x7c00]);
    const bf = quantize(GgmlType.BF16, new Float32Array([1 + 3 * 2 ** -8]));
    expect(Array.from(new Uint16Array(bf.buffer))).toEqual([0x3f82]);
    const x64 = quantize(GgmlType.F64, new Float32Array([0.1]));
    expect(new Float64Array(x64.buffer)[0]).toBe(fr(0.1));
    for (const t of [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.F64]) {
      const v = new Float32Array([0.5, -4, 1024]);
      expect(Array.from(dequantize(t, quantize(t, v), 3))).toEqual([0.5, -4, 1024]);
    }
  });
});

describe("row API", () => {
  it("accepts src at any byte offset and writes at dstOffset", () => {
    for (const tr of TYPE_TRAITS.values()) {
      const n = tr.blockSize * 2;
      const bytes = tr.quantized ? randomBlocks(tr.id, 2, 7) : quantize(tr.id, Float32Array.from({ length: n }, (_, i) => i - 3));
      const want = dequantize(tr.id, bytes, n);
      for (const shift of [1, 2, 3, 5]) {
        const big = new Uint8Array(bytes.length + 16);
        big.set(bytes, shift);
        const out = new Float32Array(n + 3).fill(-7);
        dequantizeRow(tr.id, big.subarray(shift), n, out, 3);
        expect(Array.from(out.subarray(0, 3))).toEqual([-7, -7, -7]);
        expect(Array.from(out.subarray(3))).toEqual(Array.from(want));
      }
    }
  });

  it("quantizeRow writes into a larger buffer without touching the rest", () => {
    const x = Float32Array.from({ length: 256 }, (_, i) => Math.sin(i));
    const dst = new Uint8Array(200).fill(0xaa);
    quantizeRow(GgmlType.Q4_K, x, dst);
    expect(dst.subarray(144).every((v) => v === 0xaa)).toBe(true);
    expect(Array.from(dst.subarray(0, 144))).toEqual(Array.from(quantize(GgmlType.Q4_K, x)));
  });

  it("rejects partial blocks and short buffers with the type in the message", () => {
    expect(() => quantizeRow(GgmlType.Q4_K, new Float32Array(100), new Uint8Array(1000))).toThrow(/q4_K.*256/);
    expect(() => quantize(GgmlType.Q8_0, new Float32Array(33))).toThrow(/q8_0.*32/);
    expect(() => dequantizeRow(GgmlType.IQ4_XS, new Uint8Array(136), 128, new Float32Array(256))).toThrow(/iq4_xs/);
    expect(() => dequantizeRow(GgmlType.Q6_K, new Uint8Array(100), 256, new Float32Array(256))).toThrow(/q6_K.*210 bytes/);
    expect(() => dequantizeRow(GgmlType.Q8_0, new Uint8Array(34), 32, new Float32Array(40), 10)).toThrow(/outside dst/);
    expect(() => quantizeRow(GgmlType.Q5_0, new Float32Array(64), new Uint8Array(43))).toThrow(/q5_0.*44 bytes/);
    expect(() => dequantize(99 as GgmlType, new Uint8Array(4), 1)).toThrow(/unsupported tensor type id 99/);
  });
});
