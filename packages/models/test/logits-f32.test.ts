// f32 models against llama.cpp's logits at every position, across ubatch sizes, delta-rule forms and backends,
// plus greedy generation. Tolerance 1e-4 (measured ≤ 2.2e-5 on the reference backend, fixtures README §4).
import { describe, it, expect, afterAll } from "vitest";
import { loadModel, type Model } from "@ggts/models";
import { golden, genGolden, fixture, maxAbsDiff, argmax, argmaxAgreement } from "./goldens.js";
import { testBackends, deltaForms, isSlowBackend } from "./backends.js";

const TOL = 1e-4;
const MODELS = ["tiny-kimi-linear-f32", "tiny-qwen3next-f32", "kimi-q-f32"] as const;
const backends = await testBackends();
const forms = deltaForms();

interface Case { golden: "short" | "long" | "long-ub16"; ubatch: number }
// The reference backend (float64 JS kernels) runs the short prompt (the decomposed chunked rule is slow
// there: short prompt of the tiny models only); native backends run everything.
function cases(backend: string, model: string, form: string): Case[] {
  if (backend === "reference" && form === "decomposed") {
    return model === "kimi-q-f32" ? [] : [{ golden: "short", ubatch: 512 }, { golden: "short", ubatch: 1 }];
  }
  if (backend === "reference") {
    return model === "tiny-kimi-linear-f32"
      ? [{ golden: "short", ubatch: 512 }, { golden: "short", ubatch: 1 }, { golden: "long-ub16", ubatch: 16 }]
      : model === "kimi-q-f32" ? [{ golden: "short", ubatch: 512 }]
      : [{ golden: "short", ubatch: 512 }, { golden: "short", ubatch: 1 }];
  }
  if (isSlowBackend(backend)) {
    const base: Case[] = [{ golden: "short", ubatch: 512 }, { golden: "short", ubatch: 1 }, { golden: "long", ubatch: 512 }];
    return model === "tiny-kimi-linear-f32" ? [...base, { golden: "long-ub16", ubatch: 16 }] : base;
  }
  const all: Case[] = [
    { golden: "short", ubatch: 512 }, { golden: "short", ubatch: 1 }, { golden: "long", ubatch: 512 },
    { golden: "long-ub16", ubatch: 16 }, { golden: "long", ubatch: 100 },
  ];
  // 232 one-token graphs: once per model with the fused rule (the decomposed recurrent form runs in short ub 1).
  return form === "fused" ? [...all, { golden: "long", ubatch: 1 }] : all;
}

const models = new Map<string, Model>();
async function model(path: string, backend: string, deltaNet: "fused" | "decomposed"): Promise<Model> {
  const key = `${path}|${backend}|${deltaNet}`;
  let m = models.get(key);
  if (!m) { m = await loadModel(fixture(`${path}.gguf`), { backend, kvType: "f32", deltaNet }); models.set(key, m); }
  return m;
}
afterAll(() => { for (const m of models.values()) m.dispose(); });

for (const backend of backends) {
  for (const form of forms) {
    describe(`${backend} / ${form}`, () => {
      for (const name of MODELS) {
        for (const c of cases(backend, name, form)) {
          it(`${name} ${c.golden} ubatch ${c.ubatch}: max |Δlogit| ≤ ${TOL} at every position`, async () => {
            const m = await model(name, backend, form);
            const g = golden(`${name}.${c.golden}`);
            const s = await m.createSession();
            const out = await s.evaluate(g.tokens, { ubatch: c.ubatch, allLogits: true });
            s.dispose();
            const d = maxAbsDiff(out, g.logits);
            console.log(`[logits] ${backend} ${form} ${name} ${c.golden} ub${c.ubatch}: max|Δ| ${d.toExponential(2)}`);
            expect(d).toBeLessThanOrEqual(TOL);
            expect(argmaxAgreement(out, g.logits, g.nVocab)).toBe(1);
          }, 300_000);
        }
        const slowOnly = backend === "reference" || isSlowBackend(backend);
        if (!slowOnly || (name === "tiny-kimi-linear-f32" && form === "fused")) {
          it(`${name}: greedy 32 tokens equal llama.cpp`, async () => {
            const m = await model(name, backend, form);
            const { prompt, generated } = genGolden(name);
            const s = await m.createSession();
            let logits = await s.evaluate(prompt);
            const ids: number[] = [];
            for (let i = 0; i < generated.length; i++) {
              const id = argmax(logits);
              ids.push(id);
              if (i + 1 < generated.length) logits = await s.evaluate([id]);
            }
            s.dispose();
            expect(ids).toEqual(generated);
          }, 300_000);
        }
      }
    });
  }
}
