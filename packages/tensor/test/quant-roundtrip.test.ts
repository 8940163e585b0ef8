// quantize → dequantize error bounds per type on seeded random data, fixed points of re-quantization, and the
// Q8_K / Q8_1 side fields.

import { describe, expect, it } from "vitest";
import { f16ToF32 } from "../src/f16.js";
import { dequantize, quantize } from "../src/quant/index.js";
import { GgmlType, TYPE_TRAITS, typeTraits } from "../src/types.js";
import { randomNormal } from "./quant-helpers.js";

function relRmse(x: Float32Array, y: Float32Array): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    e += (x[i]! - y[i]!) ** 2;
    s += x[i]! ** 2;
  }
  return Math.sqrt(e / s);
}

/**
 * Bounds on sqrt(Σ(x−x̂)²/Σx²) for Gaussian data. Measured (3 seeds, 4096 values): q4_0 0.080–0.082, q4_1 0.075,
 * q5_0 0.040–0.041, q5_1 0.036–0.037, q8_0/q8_1 0.0051, q2_K 0.283–0.290, q3_K 0.145–0.147, q4_K 0.068–0.069,
 * q5_K 0.034–0.035, q6_K 0.017, q8_K 0.0062–0.0063, iq4_nl 0.073–0.074, iq4_xs 0.074–0.075, f16 2.1e-4,
 * bf16 1.7e-3. Bounds leave ~15 % margin; a wrong rounding mode or scale search lands well above them.
 */
const BOUNDS: [GgmlType, number][] = [
  [GgmlType.Q4_0, 0.094], [GgmlType.Q4_1, 0.086], [GgmlType.Q5_0, 0.047], [GgmlType.Q5_1, 0.042],
  [GgmlType.Q8_0, 0.0059], [GgmlType.Q8_1, 0.0059], [GgmlType.Q2_K, 0.33], [GgmlType.Q3_K, 0.168],
  [GgmlType.Q4_K, 0.079], [GgmlType.Q5_K, 0.04], [GgmlType.Q6_K, 0.0195], [GgmlType.Q8_K, 0.0072],
  [GgmlType.IQ4_NL, 0.085], [GgmlType.IQ4_XS, 0.086], [GgmlType.F16, 2.5e-4], [GgmlType.BF16, 2e-3],
];

describe("quantize → dequantize error", () => {
  it("has a bound for every float-valued type", () => {
    const covered = new Set(BOUNDS.map(([t]) => t));
    for (const tr of TYPE_TRAITS.values()) {
      if (tr.quantized || tr.id === GgmlType.F16 || tr.id === GgmlType.BF16) expect(covered.has(tr.id), tr.name).toBe(true);
    }
  });

  for (const [type, bound] of BOUNDS) {
    it(`${typeTraits(type).name}: relative RMS error < ${bound}`, () => {
      for (const [seed, scale] of [[1, 0.02], [2, 1], [3, 50]] as const) {
        const x = randomNormal(4096, seed, scale);
        const err = relRmse(x, dequantize(type, quantize(type, x), x.length));
        expect(err).toBeLessThan(bound);
        expect(err).toBeGreaterThan(0); // real quantization happened
      }
    });
  }

  it("more bits give less error (q2_K > q3_K > q4_K > q5_K > q6_K > q8_0)", () => {
    const x = randomNormal(4096, 9);
    const e = [GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_0].map((t) =>
      relRmse(x, dequantize(t, quantize(t, x), x.length)),
    );
    for (let i = 1; i < e.length; i++) expect(e[i]).toBeLessThan(e[i - 1]!);
  });

  it("lossless types are exact", () => {
    const x = randomNormal(512, 4, 3);
    for (const t of [GgmlType.F32, GgmlType.F64]) expect(Array.from(dequantize(t, quantize(t, x), 512))).toEqual(Array.from(x));
    const ints = Float32Array.from({ length: 256 }, (_, i) => i - 128);
    for (const t of [GgmlType.I8, GgmlType.I16, GgmlType.I32, GgmlType.I64]) {
      expect(Array.from(dequantize(t, quantize(t, ints), 256))).toEqual(Array.from(ints));
    }
  });

  it("zero input stays zero (no NaN from the 0/0 scale)", () => {
    for (const tr of TYPE_TRAITS.values()) {
      const x = new Float32Array(tr.blockSize * 2);
      const y = dequantize(tr.id, quantize(tr.id, x), x.length);
      expect(y.every((v) => v === 0), tr.name).toBe(true);
    }
  });

  it("keeps a single outlier exactly representable at the block maximum", () => {
    for (const t of [GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q6_K, GgmlType.Q3_K]) {
      const x = randomNormal(256, 11, 0.01);
      x[7] = -2; // the largest magnitude sets d = max / -nmax, so it maps onto a code exactly (up to f16 d)
      const y = dequantize(t, quantize(t, x), 256);
      expect(Math.abs(y[7]! + 2), typeTraits(t).name).toBeLessThan(2 * 2 ** -10);
    }
  });
});

describe("re-quantization", () => {
  // Formats where quantize(dequantize(q)) == q holds for every block: the largest element lands on an extreme
  // code, so the recomputed scale equals the stored f16 one and every value sits on a code. (Checked on 1024+
  // blocks at 3 scales; q4_K also reproduces its 6-bit scales.) Not fixed points: q8_1 (s is computed from the
  // f32 d, not the f16 one), q2_K/q3_K/q5_K/q6_K/iq4_* (the scale search may settle elsewhere), q8_K (f32 d).
  const FIXED = [
    GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q4_K,
    GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.F64,
  ];
  for (const type of FIXED) {
    it(`${typeTraits(type).name}: quantize(dequantize(quantize(x))) == quantize(x) bytewise`, () => {
      for (const [seed, scale] of [[21, 0.01], [22, 1], [23, 300]] as const) {
        const x = randomNormal(256 * 32, seed, scale);
        const q = quantize(type, x);
        const q2 = quantize(type, dequantize(type, q, x.length));
        let bad = 0;
        for (let i = 0; i < q.length; i++) if (q[i] !== q2[i]) bad++;
        expect(bad).toBe(0);
      }
    });
  }

  const DRIFTING = [
    GgmlType.Q8_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
    GgmlType.IQ4_NL, GgmlType.IQ4_XS,
  ];
  for (const type of DRIFTING) {
    it(`${typeTraits(type).name}: re-quantizing dequantized data adds less error than the first pass`, () => {
      const x = randomNormal(256 * 16, 31);
      const y = dequantize(type, quantize(type, x), x.length);
      const z = dequantize(type, quantize(type, y), y.length);
      expect(relRmse(y, z)).toBeLessThan(0.5 * relRmse(x, y));
    });
  }
});

describe("side fields", () => {
  it("Q8_K: d is f32 = max/-127, codes saturate at 127 and bsums are the 16-element group sums", () => {
    const x = randomNormal(512, 41);
    x[300] = 9; // block 1's largest magnitude is positive → its code is -127
    const q = quantize(GgmlType.Q8_K, x);
    const dv = new DataView(q.buffer);
    for (let b = 0; b < 2; b++) {
      const o = b * 292;
      let max = 0;
      for (let j = 0; j < 256; j++) if (Math.abs(x[256 * b + j]!) > Math.abs(max)) max = x[256 * b + j]!;
      expect(dv.getFloat32(o, true)).toBe(Math.fround(1 / Math.fround(-127 / max)));
      const codes = new Int8Array(q.buffer, o + 4, 256);
      expect(Math.max(...codes)).toBeLessThanOrEqual(127);
      for (let g = 0; g < 16; g++) {
        let s = 0;
        for (let k = 0; k < 16; k++) s += codes[16 * g + k]!;
        expect(dv.getInt16(o + 260 + 2 * g, true)).toBe(s);
      }
    }
    expect(new Int8Array(q.buffer, 292 + 4 + 44, 1)[0]).toBe(-127);
  });

  it("Q8_1: s = d·Σq (as f16)", () => {
    const x = randomNormal(64, 42, 3);
    const q = quantize(GgmlType.Q8_1, x);
    for (let b = 0; b < 2; b++) {
      const o = 36 * b;
      const d = f16ToF32(q[o]! | (q[o + 1]! << 8));
      const s = f16ToF32(q[o + 2]! | (q[o + 3]! << 8));
      let sum = 0;
      for (const v of new Int8Array(q.buffer, o + 4, 32)) sum += v;
      expect(Math.abs(s - d * sum)).toBeLessThanOrEqual(Math.abs(d * sum) * 2 ** -10 + 1e-6);
    }
  });

  it("IQ4_XS of an all-zero super-block stores d = -0 like ggml", () => {
    const q = quantize(GgmlType.IQ4_XS, new Float32Array(256));
    expect(q[0]! | (q[1]! << 8)).toBe(0x8000);
    expect(q[8]).toBe(0x88); // code 8 (value 1) is the nearest to 0
  });
});
