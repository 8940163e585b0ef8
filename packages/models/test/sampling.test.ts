import { describe, expect, it } from "vitest";
import { Sampler, Xoshiro128, argmax } from "../src/sampling.js";

const OFF = { topK: 0, topP: 1, minP: 0 } as const;

function softmax(xs: number[], temp = 1): number[] {
  const m = Math.max(...xs.map((x) => x / temp));
  const e = xs.map((x) => Math.exp(x / temp - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

function randomLogits(n: number, seed: number, scale = 3): Float32Array {
  const r = new Xoshiro128(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r.next() * 2 - 1) * scale;
  return out;
}

describe("argmax", () => {
  it("takes the lowest id on ties and ignores NaN", () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([NaN, -1, NaN, -1])).toBe(1);
    expect(argmax([-Infinity, -Infinity])).toBe(0);
    expect(() => argmax([])).toThrow(/empty/);
    expect(() => argmax([NaN])).toThrow(/NaN/);
  });
});

describe("Xoshiro128", () => {
  it("is deterministic per seed and roughly uniform", () => {
    const a = new Xoshiro128(42);
    const b = new Xoshiro128(42);
    const c = new Xoshiro128(43);
    const xa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xa);
    const r = new Xoshiro128(7);
    const bins = new Array(10).fill(0);
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < 50_000; i++) {
      const u = r.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      bins[Math.floor(u * 10)]++;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    for (const b of bins) expect(Math.abs(b - 5000)).toBeLessThan(5 * Math.sqrt(5000 * 0.9));
  });
});

describe("Sampler", () => {
  const logits = randomLogits(1000, 1);
  const best = argmax(logits);

  it("temperature 0 and greedy pick the argmax of the raw logits", () => {
    expect(new Sampler({ temperature: 0 }).sample(logits)).toBe(best);
    expect(new Sampler({ temperature: -1 }).sample(logits)).toBe(best);
    expect(new Sampler({ greedy: true, temperature: 1.5 }).sample(logits)).toBe(best);
    const tie = new Float32Array([0, 5, 1, 5]);
    expect(new Sampler({ temperature: 0 }).sample(tie)).toBe(1);
  });

  it("top-k = 1 and a tiny top-p are greedy", () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(new Sampler({ seed, temperature: 1.5, topK: 1, topP: 1, minP: 0 }).sample(logits)).toBe(best);
      expect(new Sampler({ seed, temperature: 1.5, topK: 0, topP: 1e-9, minP: 0 }).sample(logits)).toBe(best);
    }
  });

  it("is deterministic for a seed and varies across seeds", () => {
    const draw = (seed: number) => {
      const s = new Sampler({ seed, temperature: 1, ...OFF });
      return Array.from({ length: 50 }, () => s.sample(logits));
    };
    expect(draw(123)).toEqual(draw(123));
    expect(draw(123)).not.toEqual(draw(124));
    const s = new Sampler({ seed: 9, temperature: 1, ...OFF });
    const first = Array.from({ length: 20 }, () => s.sample(logits));
    s.reset();
    expect(Array.from({ length: 20 }, () => s.sample(logits))).toEqual(first);
  });

  it("draws with softmax frequencies (temperature 1 and 0.5)", () => {
    const xs = [1.0, 0.2, -0.5, 2.0, 0.0, -3.0];
    for (const temperature of [1, 0.5]) {
      const p = softmax(xs, temperature);
      const s = new Sampler({ seed: 2024, temperature, ...OFF });
      const n = 40_000;
      const counts = new Array(xs.length).fill(0);
      const l = Float32Array.from(xs);
      for (let i = 0; i < n; i++) counts[s.sample(l)]++;
      for (let i = 0; i < xs.length; i++) {
        const sigma = Math.sqrt(n * p[i]! * (1 - p[i]!));
        expect(Math.abs(counts[i] - n * p[i]!)).toBeLessThanOrEqual(5 * sigma + 1);
      }
    }
  });

  it("top-k keeps exactly the k best, renormalised", () => {
    const s = new Sampler({ temperature: 1, topK: 5, topP: 1, minP: 0, seed: 1 });
    const d = s.distribution(logits);
    const want = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, 5);
    expect(Array.from(d.ids)).toEqual(want);
    const p = softmax(want.map((i) => logits[i]!));
    d.probs.forEach((q, i) => expect(q).toBeCloseTo(p[i]!, 12));
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(s.sample(logits));
    expect([...seen].every((t) => want.includes(t))).toBe(true);
    expect(seen.size).toBe(5);
  });

  it("top-p keeps the smallest sorted prefix reaching p (computed before temperature)", () => {
    const l = Float32Array.from([2, 1, 0, -1, 3]); // p ≈ .234 .086 .032 .012 .636 (sorted 4,0,1,2,3)
    const full = softmax(Array.from(l));
    const cases: [number, number[]][] = [
      [0.5, [4]],
      [0.85, [4, 0]],
      [0.95, [4, 0, 1]],
      [0.98, [4, 0, 1, 2]],
    ];
    for (const [topP, ids] of cases) {
      const cum = ids.reduce((a, i) => a + full[i]!, 0);
      expect(cum).toBeGreaterThanOrEqual(topP);
      for (const temperature of [1, 3]) {
        const d = new Sampler({ temperature, topK: 0, topP, minP: 0 }).distribution(l);
        expect(Array.from(d.ids)).toEqual(ids);
        const tp = softmax(ids.map((i) => l[i]!), temperature);
        d.probs.forEach((q, i) => expect(q).toBeCloseTo(tp[i]!, 12));
      }
    }
    // On a large vocabulary the pre-filtered path must agree with the plain definition.
    const big = randomLogits(50_000, 5, 12);
    const order = Array.from(big.keys()).sort((a, b) => big[b]! - big[a]! || a - b);
    const pb = softmax(order.map((i) => big[i]!));
    let cum = 0;
    let keep = 0;
    while (cum < 0.9) cum += pb[keep++]!;
    const d = new Sampler({ temperature: 1, topK: 0, topP: 0.9, minP: 0 }).distribution(big);
    expect(Array.from(d.ids)).toEqual(order.slice(0, keep));
    // Many exact ties (and -0): lower ids first within equal logits.
    const ties = Float32Array.from({ length: 3000 }, (_, i) => (i % 4 === 0 ? -0 : (i % 3) - 1));
    const tieOrder = Array.from(ties.keys()).sort((a, b) => ties[b]! - ties[a]! || a - b);
    const dt = new Sampler({ temperature: 1, topK: 0, topP: 0.7, minP: 0 }).distribution(ties);
    expect(dt.ids.length).toBeGreaterThan(1000);
    expect(Array.from(dt.ids)).toEqual(tieOrder.slice(0, dt.ids.length));
  });

  it("min-p drops tokens below minP × the top probability", () => {
    const l = Float32Array.from([0, Math.log(0.5), Math.log(0.1), Math.log(0.04), Math.log(0.2)]);
    const d = new Sampler({ temperature: 1, topK: 0, topP: 1, minP: 0.15 }).distribution(l);
    expect(Array.from(d.ids).sort()).toEqual([0, 1, 4]);
    const sum = Array.from(d.probs).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(1, 12);
  });

  it("repeat penalty divides positive and multiplies negative logits of recent tokens", () => {
    const l = Float32Array.from([2.0, 1.9, -1.0, -1.1]);
    const s = new Sampler({ temperature: 0, repeatPenalty: 1.1 });
    expect(s.sample(l)).toBe(0);
    s.accept(0);
    expect(s.sample(l)).toBe(1); // 2.0/1.1 = 1.82 < 1.9
    const neg = Float32Array.from([-1.0, -1.05, -5, -5]);
    const t = new Sampler({ temperature: 0, repeatPenalty: 1.1 });
    t.accept(0);
    expect(t.sample(neg)).toBe(1); // -1.0 × 1.1 = -1.1 < -1.05
    expect(Array.from(neg)).toEqual(Array.from(Float32Array.from([-1.0, -1.05, -5, -5]))); // input untouched
  });

  it("presence and frequency penalties follow llama.cpp (count × freq + presence)", () => {
    const l = Float32Array.from([3.0, 2.5, 1.0]);
    const pres = new Sampler({ temperature: 0, presencePenalty: 0.6 });
    pres.accept(0);
    pres.accept(0);
    expect(pres.sample(l)).toBe(1); // 3.0 − 0.6 = 2.4 < 2.5
    const freq = new Sampler({ temperature: 0, frequencyPenalty: 0.3 });
    freq.accept(0);
    expect(freq.sample(l)).toBe(0); // 2.7 > 2.5
    freq.accept(0);
    expect(freq.sample(l)).toBe(1); // 2.4 < 2.5
    // The penalised distribution matches a hand computation.
    const d = new Sampler({ temperature: 1, ...OFF, frequencyPenalty: 0.3, presencePenalty: 0.1 });
    d.accept(1);
    d.accept(1);
    const want = softmax([3.0, 2.5 - 2 * 0.3 - 0.1, 1.0]);
    d.distribution(l).probs.forEach((q, i) => expect(q).toBeCloseTo(want[i]!, 6));
  });

  it("penalties only see the last N tokens", () => {
    const l = Float32Array.from([3.0, 2.5, 1.0]);
    const s = new Sampler({ temperature: 0, presencePenalty: 1, penaltyLastN: 2 });
    s.accept(0);
    expect(s.sample(l)).toBe(1);
    s.accept(2);
    s.accept(2); // token 0 has left the window
    expect(s.sample(l)).toBe(0);
    const off = new Sampler({ temperature: 0, presencePenalty: 1, penaltyLastN: 0 });
    off.accept(0);
    expect(off.sample(l)).toBe(0);
    s.reset();
    s.accept(0);
    expect(s.sample(l)).toBe(1);
  });

  it("rejects bad options and inputs with clear errors", () => {
    expect(() => new Sampler({ seed: -1 })).toThrow(/seed/);
    expect(() => new Sampler({ topK: 1.5 })).toThrow(/topK/);
    expect(() => new Sampler({ temperature: NaN })).toThrow(/temperature/);
    expect(() => new Sampler({ repeatPenalty: 0 })).toThrow(/repeatPenalty/);
    expect(() => new Sampler({ penaltyLastN: -2 })).toThrow(/penaltyLastN/);
    expect(() => new Sampler().sample(new Float32Array(0))).toThrow(/empty/);
    expect(() => new Sampler().accept(-3)).toThrow(/accept/);
  });

  it("samples a 160k vocabulary quickly with default options", () => {
    const big = randomLogits(163_840, 11, 10);
    const s = new Sampler({ seed: 3 });
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) s.sample(big);
    expect((performance.now() - t0) / 20).toBeLessThan(50);
    const s2 = new Sampler({ seed: 3, topK: 0, topP: 0.95, minP: 0 });
    const t1 = performance.now();
    for (let i = 0; i < 5; i++) s2.sample(big);
    expect((performance.now() - t1) / 5).toBeLessThan(200);
  });
});
