// f16 (default) and q8_0 attention caches: close to the f32-cache goldens, within the movement llama.cpp itself
// sees (~5e-4 for f16, fixtures README §4).
import { it, expect } from "vitest";
import { loadModel, type KvType } from "@ggts/models";
import { createBackend } from "@ggts/tensor";
import { golden, fixture, maxAbsDiff, argmaxAgreement } from "./goldens.js";
import { testBackends } from "./backends.js";

const backends = await testBackends();

const cases: [string, KvType, number][] = [
  ["tiny-kimi-linear-f32", "f16", 1e-3],
  ["tiny-qwen3next-f32", "f16", 1e-3],
  ["tiny-qwen3next-f32", "q8_0", 2e-2],
];
for (const backend of backends) for (const [name, kv, tol] of cases) {
  it(`${backend}: ${name} with a ${kv} cache: max |Δ| ≤ ${tol}`, async () => {
    // webgpu's default shader-f16 products add their own rounding; f32 math isolates the cache type's effect.
    const be = backend === "webgpu" ? await createBackend(backend, { f16: false }) : backend;
    const m = await loadModel(fixture(`${name}.gguf`), { backend: be, kvType: kv });
    const g = golden(`${name}.short`);
    const s = await m.createSession();
    const out = await s.evaluate(g.tokens, { allLogits: true });
    m.dispose();
    if (typeof be !== "string") be.dispose();
    const d = maxAbsDiff(out, g.logits);
    console.log(`[kv] ${backend} ${name} ${kv}: max|Δ| ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(tol);
    expect(d).toBeGreaterThan(0); // the cache really is lossy: proves the type took effect
    expect(argmaxAgreement(out, g.logits, g.nVocab)).toBe(1);
  }, 120_000);
}

it("q8_0 cache rejects rows that are not whole q8_0 blocks (tiny kimi MLA rows hold 80 values)", async () => {
  const m = await loadModel(fixture("tiny-kimi-linear-f32.gguf"), { backend: "reference", kvType: "q8_0" });
  await expect(m.createSession()).rejects.toThrow(/multiple of 32/);
  m.dispose();
});
