// Model surface: hyper-parameters, tokenizer built from the GGUF, progress hooks, disposal.
import { it, expect } from "vitest";
import { loadModel, type LoadProgress } from "@ggts/models";
import { golden, fixture } from "./goldens.js";

it("kimi-linear hparams, tokenizer and hooks", async () => {
  const stages: LoadProgress["stage"][] = [];
  const m = await loadModel(fixture("tiny-kimi-linear-f32.gguf"), { backend: "reference", onProgress: (p) => stages.push(p.stage) });
  expect(stages).toEqual(["open", "weights", "ready"]);
  expect(m.arch).toBe("kimi-linear");
  expect(m.kvType).toBe("f16");
  expect(m.contextSize).toBe(4096);
  const hp = m.hparams;
  if (hp.arch !== "kimi-linear") throw new Error("arch");
  expect([hp.nVocab, hp.nEmbd, hp.nLayer, hp.nHead, hp.kdaHeadDim, hp.kvLoraRank, hp.qkNope, hp.qkRope, hp.vHeadMla])
    .toEqual([512, 128, 4, 4, 32, 64, 32, 16, 32]);
  expect([hp.nExpert, hp.nExpertUsed, hp.nFfExp, hp.nLayerDenseLead, hp.gatingFunc]).toEqual([8, 2, 64, 1, 2]);
  expect(hp.expertWeightsScale).toBeCloseTo(2.446, 5);
  const g = golden("tiny-kimi-linear-f32.short");
  expect(m.tokenizer?.encode("Hello world! The quick brown fox")).toEqual(g.tokens);
  const s = await m.createSession();
  const seen: [number, number][] = [];
  await s.evaluate(g.tokens, { ubatch: 4, onUBatch: (d, t) => seen.push([d, t]) });
  expect(seen).toEqual([[4, 11], [8, 11], [11, 11]]);
  m.dispose();
  await expect(m.createSession()).rejects.toThrow(/disposed/);
});

it("qwen3next hparams", async () => {
  const m = await loadModel(fixture("tiny-qwen3next-f32.gguf"), { backend: "reference" });
  const hp = m.hparams;
  if (hp.arch !== "qwen3next") throw new Error("arch");
  expect(hp.isAttn).toEqual([false, false, false, true]);
  expect([hp.nHead, hp.nHeadKv, hp.headDim, hp.nRot, hp.ssmNGroup, hp.ssmDtRank, hp.ssmDState, hp.nFfShexp]).toEqual([4, 2, 32, 8, 2, 4, 32, 64]);
  expect(hp.ropeBase).toBe(1e7);
  expect(m.tokenizer?.encode("Hello world! The quick brown fox")).toEqual(golden("tiny-qwen3next-f32.short").tokens);
  m.dispose();
});
