import { describe, expect, it } from "vitest";
import {
  bf16ArrayToF32, bf16ToF32, f16ArrayToF32, f16ToF32, f32ArrayToBf16, f32ArrayToF16, f32ToBf16, f32ToF16,
} from "../src/f16.js";
import { rng } from "./quant-helpers.js";

// Independent decoder straight from the IEEE definition, used as the oracle.
function halfValue(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * Math.pow(2, -24) : s * (1 + m / 1024) * Math.pow(2, e - 15);
}

const isHalfNaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

describe("f16ToF32", () => {
  it("decodes every half exactly, subnormals included", () => {
    for (let h = 0; h < 65536; h++) {
      const want = halfValue(h);
      const got = f16ToF32(h);
      if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
      else if (got !== want || Object.is(got, -0) !== Object.is(want, -0)) {
        throw new Error(`f16ToF32(0x${h.toString(16)}) = ${got}, want ${want}`);
      }
    }
  });

  it("knows the landmarks", () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x0400)).toBe(2 ** -14);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0xc000)).toBe(-2);
  });
});

describe("f32ToF16", () => {
  it("round-trips every non-NaN half", () => {
    for (let h = 0; h < 65536; h++) {
      if (isHalfNaN(h)) continue;
      const back = f32ToF16(f16ToF32(h));
      if (back !== h) throw new Error(`0x${h.toString(16)} -> ${f16ToF32(h)} -> 0x${back.toString(16)}`);
    }
  });

  it("rounds to nearest, ties to even, in the normal range", () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // halfway between 0x3c00 and 0x3c01: even wins
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway between 0x3c01 and 0x3c02
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above halfway
    expect(f32ToF16(-1 - 2 ** -11 - 2 ** -20)).toBe(0xbc01);
    expect(f32ToF16(2047 / 1024 + 2 ** -11)).toBe(0x4000); // mantissa carry into the exponent
  });

  it("handles the top of the range: 65504 is the max, 65520 rounds to inf", () => {
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // tie between 65504 and 2^16: even (inf)
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(-1e6)).toBe(0xfc00);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
  });

  it("keeps NaN a NaN", () => {
    expect(isHalfNaN(f32ToF16(NaN))).toBe(true);
    expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
  });

  it("rounds subnormals correctly", () => {
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal: even
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 units: even
    expect(f32ToF16(5 * 2 ** -25)).toBe(0x0002); // tie between 2 and 3 units: even
    expect(f32ToF16(1023 * 2 ** -24)).toBe(0x03ff);
    expect(f32ToF16(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up into the smallest normal
    expect(f32ToF16(1e-10)).toBe(0x0000);
    expect(f32ToF16(-1e-10)).toBe(0x8000);
    expect(f32ToF16(-0)).toBe(0x8000);
  });

  it("picks the nearest half (ties even) for random floats of every magnitude", () => {
    const r = rng(7);
    const f = new Float32Array(1);
    const bad: string[] = [];
    for (let k = 0; k < 20000; k++) {
      // random float32 bit patterns in the half range and a bit beyond
      f[0] = (r() < 0.5 ? -1 : 1) * r() * Math.pow(2, Math.floor(r() * 44) - 28);
      const x = f[0]!;
      const h = f32ToF16(x);
      const v = f16ToF32(h);
      // neighbours one unit below and above (in magnitude)
      const lo = f16ToF32((h & 0x7fff) === 0 ? h : h - 1);
      const hi = f16ToF32((h & 0x7fff) >= 0x7c00 ? h : h + 1);
      const err = Math.abs(v - x);
      let ok: boolean;
      if (Number.isFinite(v)) {
        const dl = Math.abs(lo - x);
        const dh = Math.abs(hi - x);
        ok = err <= dl && err <= dh;
        if ((err === dl && lo !== v) || (err === dh && hi !== v)) ok &&= (h & 1) === 0;
      } else {
        ok = Math.abs(x) >= 65520;
      }
      if (!ok) bad.push(`${x} -> 0x${h.toString(16)}`);
    }
    expect(bad).toEqual([]);
  });

  it("bulk helpers agree with the scalar ones", () => {
    const src = new Float32Array([0, -0, 1.5, 65504, 70000, -3e-8, NaN, 1 + 2 ** -11]);
    const h = f32ArrayToF16(src);
    for (let i = 0; i < src.length; i++) expect(h[i]).toBe(f32ToF16(src[i]!));
    const back = f16ArrayToF32(h, new Float32Array(h.length));
    for (let i = 0; i < h.length; i++) expect(Object.is(back[i], f16ToF32(h[i]!)) || Number.isNaN(back[i]!)).toBe(true);
    expect(() => f16ArrayToF32(h, new Float32Array(2))).toThrow(/dst holds 2/);
  });
});

describe("bfloat16", () => {
  it("decodes as the upper half of a float32", () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc040)).toBe(-3);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // subnormal
    expect(Number.isNaN(bf16ToF32(0x7fc0))).toBe(true);
  });

  it("rounds to nearest even and keeps NaN", () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie: even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie: even (up)
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(f32ToBf16(-2.5)).toBe(0xc020);
    expect(f32ToBf16(3.4028234663852886e38)).toBe(0x7f80); // max float rounds up to inf (as in ggml)
    const nan = f32ToBf16(NaN);
    expect(nan & 0x7f80).toBe(0x7f80);
    expect(nan & 0x7f).not.toBe(0);
    expect(Number.isNaN(bf16ToF32(nan))).toBe(true);
  });

  it("round-trips every non-NaN bfloat16 and matches the bulk helpers", () => {
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0) continue;
      if (f32ToBf16(bf16ToF32(h)) !== h) throw new Error(`bf16 0x${h.toString(16)} does not round-trip`);
    }
    const src = new Float32Array([0.1, -7.25, 1e30, 2 ** -130]);
    const h = f32ArrayToBf16(src);
    expect(Array.from(h)).toEqual(Array.from(src, (v) => f32ToBf16(v)));
    expect(Array.from(bf16ArrayToF32(h))).toEqual(Array.from(h, (v) => bf16ToF32(v)));
  });
});
