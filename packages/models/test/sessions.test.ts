// Several sequences over one model: independent sessions, batched evaluation, state save/restore/fork,
// context limits. Every test backend, tiny models, f32 cache (results must agree to f32 rounding).
import { describe, it, expect, afterAll, beforeEach } from "vitest";
import { loadModel, type Model } from "@ggts/models";
import { golden, fixture, maxAbsDiff, argmax } from "./goldens.js";
import { testBackends, deltaForms } from "./backends.js";

const TOL = 1e-4;
const opened: Model[] = [];
afterAll(() => opened.forEach((m) => m.dispose()));
const backends = await testBackends();
let backend = "reference";
async function open(name: string, contextSize = 64): Promise<Model> {
  const m = await loadModel(fixture(`${name}.gguf`), { backend, kvType: "f32", contextSize });
  opened.push(m);
  return m;
}
const lastRow = (all: Float32Array, V: number, t: number) => all.subarray(t * V, (t + 1) * V);

for (const be of backends) for (const name of ["tiny-kimi-linear-f32", "tiny-qwen3next-f32"]) {
  describe(`${be} ${name}`, () => {
    beforeEach(() => { backend = be; });
    const g = golden(`${name}.short`);
    const V = g.nVocab;
    const a = g.tokens, b = [...g.tokens].reverse();

    it("interleaved sessions do not disturb each other", async () => {
      const m = await open(name);
      const s1 = await m.createSession(), s2 = await m.createSession();
      await s1.evaluate(a.slice(0, 5));
      await s2.evaluate(b.slice(0, 7));
      const l1 = await s1.evaluate(a.slice(5));
      expect(s1.position).toBe(a.length);
      expect(s2.position).toBe(7);
      expect(maxAbsDiff(l1, lastRow(g.logits, V, a.length - 1))).toBeLessThanOrEqual(TOL);
    });

    it("batched evaluation of two sequences equals separate runs (prefill and decode)", async () => {
      const m = await open(name);
      const [s1, s2, r1, r2] = await Promise.all([m.createSession(), m.createSession(), m.createSession(), m.createSession()]);
      const [x1, x2] = await m.evaluateBatch([s1, s2], [a, b], { allLogits: true });
      const y1 = await r1.evaluate(a, { allLogits: true });
      const y2 = await r2.evaluate(b, { allLogits: true });
      expect(maxAbsDiff(x1, g.logits)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(x2, y2)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(x1, y1)).toBeLessThanOrEqual(TOL);
      // decode: one token each, in one graph
      const next = [argmax(lastRow(x1, V, a.length - 1)), argmax(lastRow(x2, V, b.length - 1))];
      const [d1, d2] = await m.evaluateBatch([s1, s2], [[next[0]], [next[1]]]);
      expect(maxAbsDiff(d1, await r1.evaluate([next[0]]))).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(d2, await r2.evaluate([next[1]]))).toBeLessThanOrEqual(TOL);
      expect(s1.position).toBe(a.length + 1);
      // sequences at different positions, batched prefill split into small ubatches
      const [e1, e2] = await m.evaluateBatch([s1, s2], [[5, 6, 7], [8, 9, 10]], { ubatch: 4 });
      expect(maxAbsDiff(e1, await r1.evaluate([5, 6, 7]))).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(e2, await r2.evaluate([8, 9, 10]))).toBeLessThanOrEqual(TOL);
      await expect(m.evaluateBatch([s1, s2], [[1, 2], [3]])).rejects.toThrow(/must be equal/);
    });

    it("saveState/restoreState and fork reproduce the continuation", async () => {
      const m = await open(name);
      const s = await m.createSession();
      const empty = await s.saveState(); // position 0: no cache rows, zero recurrent state
      await s.evaluate(a.slice(0, 6));
      const saved = await s.saveState();
      const fork = await s.fork();
      const cont = await s.evaluate(a.slice(6));
      expect(maxAbsDiff(cont, lastRow(g.logits, V, a.length - 1))).toBeLessThanOrEqual(TOL);
      await s.evaluate([1, 2, 3]); // move on, then rewind
      await s.restoreState(saved);
      expect(s.position).toBe(6);
      const again = await s.evaluate(a.slice(6));
      expect(maxAbsDiff(again, cont)).toBeLessThanOrEqual(1e-6);
      expect(fork.position).toBe(6);
      expect(maxAbsDiff(await fork.evaluate(a.slice(6)), cont)).toBeLessThanOrEqual(1e-6);
      await s.restoreState(empty);
      expect(s.position).toBe(0);
      expect(maxAbsDiff(await s.evaluate(a, { allLogits: true }), g.logits)).toBeLessThanOrEqual(TOL);
      // reset clears the recurrent state too
      await s.reset();
      expect(s.position).toBe(0);
      expect(maxAbsDiff(await s.evaluate(a, { allLogits: true }), g.logits)).toBeLessThanOrEqual(TOL);
    });

    it("one-token graphs are reused across steps; padded cache rows past the position stay masked", async () => {
      // 300 rows: decode crosses the 256-row padding boundary, then pads only up to the context size.
      const m = await open(name, 300);
      const toks = Array.from({ length: 262 }, (_, i) => (i * 7919 + 13) % V);
      const want = await (await m.createSession()).evaluate(toks, { allLogits: true });
      const s = await m.createSession();
      // Fresh cache memory may hold anything: NaN bytes in every row must not leak through the mask.
      for (const l of s.memory.layers) for (const t of [l.k, l.v]) if (t) await m.backend.setTensor(t, new Uint8Array(t.nBytes).fill(0xff));
      await s.evaluate(toks.slice(0, 250));
      const built = m.graphsBuilt;
      for (let t = 250; t < toks.length; t++) {
        expect(maxAbsDiff(await s.evaluate([toks[t]]), lastRow(want, V, t)), `token ${t}`).toBeLessThanOrEqual(TOL);
      }
      expect(m.graphsBuilt - built).toBe(2); // rows 256 (positions 250-255), then 300 (256-261)
      // A reset session starts over at position 0 with the first bucket's graph shape rebuilt once.
      await s.reset();
      const first = await s.evaluate([toks[0]]);
      expect(maxAbsDiff(first, lastRow(want, V, 0))).toBeLessThanOrEqual(TOL);
    });

    it("exceeding the context size throws and leaves the session intact", async () => {
      const m = await open(name, 12);
      const s = await m.createSession();
      await s.evaluate(a.slice(0, 10));
      await expect(s.evaluate([1, 2, 3])).rejects.toThrow(/context size exceeded.*10 \+ 3 tokens > context size 12/);
      expect(s.position).toBe(10);
      const l = await s.evaluate(a.slice(10));
      expect(maxAbsDiff(l, lastRow(g.logits, V, a.length - 1))).toBeLessThanOrEqual(TOL);
      await expect(s.evaluate([V])).rejects.toThrow(/token id 512 is outside/);
      // Concurrent calls are queued and checked in order: the one that no longer fits is rejected.
      const s2 = await m.createSession();
      await s2.evaluate(a.slice(0, 10));
      const r = await Promise.allSettled([s2.evaluate([1]), s2.evaluate([2]), s2.evaluate([3])]);
      expect(r.map((x) => x.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
      expect(s2.position).toBe(12);
    });
  });
}

describe("batched sequences with the decomposed delta rule", () => {
  for (const be of backends) for (const name of ["tiny-kimi-linear-f32", "tiny-qwen3next-f32"]) {
    it.runIf(deltaForms().includes("decomposed"))(`${be} ${name}`, async () => {
      const m = await loadModel(fixture(`${name}.gguf`), { backend: be, kvType: "f32", contextSize: 64, deltaNet: "decomposed" });
      opened.push(m);
      const g = golden(`${name}.short`);
      const b = [...g.tokens].reverse();
      const [s1, s2, r2] = [await m.createSession(), await m.createSession(), await m.createSession()];
      const [x1, x2] = await m.evaluateBatch([s1, s2], [g.tokens, b], { allLogits: true });
      expect(maxAbsDiff(x1, g.logits)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(x2, await r2.evaluate(b, { allLogits: true }))).toBeLessThanOrEqual(TOL);
      const [d1, d2] = await m.evaluateBatch([s1, s2], [[7], [9]]);
      expect(maxAbsDiff(d2, await r2.evaluate([9]))).toBeLessThanOrEqual(TOL);
      expect(d1.every(Number.isFinite)).toBe(true);
    });
  }
});
