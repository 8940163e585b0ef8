import { describe, expect, it } from "vitest";
import { GgmlType, dequantize, typeTraits } from "@ggts/tensor";
import { FAST_QUANT_MIN_PARAMS, type GgufFile, modelTensors, parseGguf, resolveConfig, synthModel } from "../src/index.js";
import { FAST_QUANT_TYPES, makeFastBlocks } from "../src/synth/fast-quant.js";
import { Rng } from "../src/synth/rng.js";

function stats(x: Float32Array): { mean: number; rms: number; finite: boolean } {
  let s = 0, s2 = 0, finite = true;
  for (const v of x) {
    if (!Number.isFinite(v)) finite = false;
    s += v;
    s2 += v * v;
  }
  return { mean: s / x.length, rms: Math.sqrt(s2 / x.length), finite };
}

function blocks(type: GgmlType, n: number, std: number, seed: number): Uint8Array {
  const tr = typeTraits(type);
  const out = new Uint8Array((n / tr.blockSize) * tr.typeSize);
  makeFastBlocks(type, out, std, new Rng(seed));
  return out;
}

describe("makeFastBlocks", () => {
  const n = 1 << 16;
  for (const type of FAST_QUANT_TYPES) {
    const name = typeTraits(type).name;
    it(`${name}: dequantized mean ≈ 0, rms ≈ std, finite, deterministic`, () => {
      for (const std of [1, 0.0104]) { // token_embd and the smallest 1/sqrt(fan-in) of the real Kimi preset (9216)
        const b = blocks(type, n, std, 42);
        const s = stats(dequantize(type, b, n));
        expect(s.finite).toBe(true);
        expect(Math.abs(s.mean) / std, `${name} mean`).toBeLessThan(0.01);
        expect(Math.abs(s.rms / std - 1), `${name} rms`).toBeLessThan(0.02);
      }
      expect(Buffer.compare(blocks(type, 4096, 0.1, 7), blocks(type, 4096, 0.1, 7))).toBe(0);
      expect(Buffer.compare(blocks(type, 4096, 0.1, 7), blocks(type, 4096, 0.1, 8))).not.toBe(0);
    });
  }

  it("Q8_0 codes never use -128; K-quant scales vary between sub-blocks", () => {
    const b = blocks(GgmlType.Q8_0, n, 1, 3);
    let bad = 0;
    for (let o = 0; o < b.length; o += 34) for (let j = 2; j < 34; j++) if (b[o + j] === 0x80) bad++;
    expect(bad).toBe(0);
    const q6 = blocks(GgmlType.Q6_K, 256 * 4, 1, 3);
    expect(new Set(q6.subarray(192, 208)).size).toBeGreaterThan(4);
  });

  it("rejects unsupported types, partial blocks and bad std", () => {
    expect(() => makeFastBlocks(GgmlType.F16, new Uint8Array(64), 1, new Rng(1))).toThrow(/f16 is not supported/);
    expect(() => makeFastBlocks(GgmlType.Q4_K, new Uint8Array(145), 1, new Rng(1))).toThrow(/145 bytes/);
    expect(() => makeFastBlocks(GgmlType.Q4_0, new Uint8Array(18), 0, new Rng(1))).toThrow(/std 0/);
  });
});

async function values(f: GgufFile, name: string): Promise<Float32Array> {
  const t = f.tensor(name);
  return dequantize(t.type, await f.readTensorData(t), t.nElements);
}

describe("synthModel fastQuant", () => {
  it("tiny presets keep the exact path by default; the real presets take the fast path", async () => {
    const tiny = await synthModel({ arch: "kimi-linear", preset: "tiny", type: "q4_k_m", dryRun: true });
    expect(tiny.fastQuant).toBe(false);
    const big = await synthModel({ arch: "kimi-linear", preset: "kimi-linear-48b-a3b", layers: 4, experts: 64, type: "q4_k_m", dryRun: true });
    expect(big.parameters).toBeGreaterThan(FAST_QUANT_MIN_PARAMS);
    expect(big.fastQuant).toBe(true);
    expect((await synthModel({ arch: "kimi-linear", preset: "tiny", type: "q4_k_m", dryRun: true, fastQuant: true })).fastQuant).toBe(true);
    // Nothing to quantize: the flag changes nothing.
    expect((await synthModel({ arch: "kimi-linear", preset: "tiny", type: "f16", dryRun: true, fastQuant: true })).fastQuant).toBe(false);
  });

  it("q4_k_m with K-quant rows: same layout as the exact path, f32 tensors identical, weights scaled, deterministic", async () => {
    const config = { hidden: 256, layers: 2 }; // ne0 256: K-quants (and their fallbacks for the 128/64-wide rows)
    const opts = { arch: "kimi-linear" as const, config, seed: 9, type: "q4_k_m", threads: 1 };
    const fast = await synthModel({ ...opts, fastQuant: true });
    const again = await synthModel({ ...opts, fastQuant: true });
    const other = await synthModel({ ...opts, seed: 10, fastQuant: true });
    const exact = await synthModel({ ...opts, fastQuant: false });
    expect(fast.fastQuant).toBe(true);
    expect(Buffer.compare(fast.bytes!, again.bytes!)).toBe(0);
    expect(Buffer.compare(fast.bytes!, other.bytes!)).not.toBe(0);
    expect(fast.fileSize).toBe(exact.fileSize);

    const f = parseGguf(fast.bytes!), e = parseGguf(exact.bytes!);
    expect(f.tensors.map((t) => [t.name, t.type, t.ne, t.offset])).toEqual(e.tensors.map((t) => [t.name, t.type, t.ne, t.offset]));
    const cfg = resolveConfig("kimi-linear", undefined, config);
    const specs = new Map(modelTensors(cfg).map((s) => [s.name, s]));
    const seen = new Set<string>();
    for (const t of f.tensors) {
      const spec = specs.get(t.name)!;
      if (!FAST_QUANT_TYPES.has(t.type)) {
        expect(Buffer.compare(await f.readTensorData(t), await e.readTensorData(e.tensor(t.name))), t.name).toBe(0);
        continue;
      }
      seen.add(typeTraits(t.type).name);
      expect(spec.init.kind).toBe("normal");
      const std = spec.init.kind === "normal" ? spec.init.std : NaN;
      const s = stats(await values(f, t.name));
      const tol = 4 / Math.sqrt(t.nElements); // a few standard errors; small tensors get more room
      expect(s.finite).toBe(true);
      expect(Math.abs(s.mean) / std, `${t.name} mean`).toBeLessThan(Math.max(0.02, tol));
      expect(Math.abs(s.rms / std - 1), `${t.name} rms`).toBeLessThan(Math.max(0.03, 2 * tol));
    }
    expect([...seen].sort()).toEqual(["q4_K", "q5_0", "q5_1", "q6_K", "q8_0"]);
  });
});
