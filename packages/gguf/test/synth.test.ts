import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { GgmlType, dequantize, typeTraits } from "@ggts/tensor";
import { gguf as hfGguf } from "@huggingface/gguf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GgufFile, byteToUnicode, modelTensors, openGguf, parseGguf, parseQuantTarget, planQuantization, resolveConfig, synthModel,
} from "../src/index.js";
import { fixture } from "./fixtures.js";

const kvSignature = (f: GgufFile) => [...f.metadata.values()].map((k) => [k.key, k.type, k.arrayType]);
const tensorSignature = (f: GgufFile) => f.tensors.map((t) => [t.name, t.type, t.ne]);

async function values(f: GgufFile, name: string): Promise<Float32Array> {
  const t = f.tensor(name);
  return dequantize(t.type, await f.readTensorData(t), t.nElements);
}
const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);

describe("synthModel tiny presets match the fixtures' layout", () => {
  for (const [arch, fx] of [["kimi-linear", "tiny-kimi-linear-f32.gguf"], ["qwen3next", "tiny-qwen3next-f32.gguf"]] as const) {
    it(`${arch}: same keys/types and tensors (names, types, shapes) as ${fx}`, async () => {
      const r = await synthModel({ arch, preset: "tiny", seed: 7 });
      const g = parseGguf(r.bytes!);
      const f = parseGguf(readFileSync(fixture(fx)));
      expect(kvSignature(g)).toEqual(kvSignature(f));
      expect(tensorSignature(g)).toEqual(tensorSignature(f));
      for (const k of f.metadata.keys()) {
        if (["general.name", "tokenizer.ggml.tokens", "tokenizer.ggml.merges"].includes(k)) continue;
        expect(g.get(k), k).toEqual(f.get(k));
      }
      // Tokenizer layout: bytes in GPT-2 order, merges, specials, pads.
      const toks = g.getStringArray("tokenizer.ggml.tokens");
      expect(toks.slice(0, 256)).toEqual(byteToUnicode());
      expect(toks.slice(456)).toEqual(f.getStringArray("tokenizer.ggml.tokens").slice(456));
      const merges = g.getStringArray("tokenizer.ggml.merges");
      expect(merges).toHaveLength(200);
      const known = new Set(toks.slice(0, 256));
      for (const [i, m] of merges.entries()) {
        const [a, b] = m.split(" ");
        expect(known.has(a) && known.has(b), m).toBe(true);
        expect(toks[256 + i]).toBe(a + b);
        known.add(a + b);
      }
      expect(new Set(toks).size).toBe(toks.length);
    });
  }

  it("weights are scaled for O(1) activations; ssm_a negative; norms near 1", async () => {
    const g = parseGguf((await synthModel({ arch: "kimi-linear", preset: "tiny", seed: 3 })).bytes!);
    expect(rms(await values(g, "token_embd.weight"))).toBeCloseTo(1, 1);
    expect(rms(await values(g, "blk.0.attn_q.weight")) * Math.sqrt(128)).toBeCloseTo(1, 1);
    expect(rms(await values(g, "blk.1.ffn_down_exps.weight")) * Math.sqrt(64)).toBeCloseTo(1, 1);
    expect(rms(await values(g, "blk.3.attn_k_b.weight")) * Math.sqrt(64)).toBeCloseTo(1, 1); // fan-in kv_lora_rank
    const a = await values(g, "blk.0.ssm_a");
    expect(Math.max(...a)).toBeLessThanOrEqual(-1);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-16);
    const n = await values(g, "blk.0.attn_norm.weight");
    expect(Math.abs(n.reduce((s, v) => s + v, 0) / n.length - 1)).toBeLessThan(0.05);
    const dt = await values(g, "blk.0.ssm_dt.bias");
    expect(Math.max(...dt)).toBeLessThan(0);
  });

  it("is deterministic for a seed and differs across seeds", async () => {
    const a = await synthModel({ arch: "qwen3next", preset: "tiny", seed: 11, layers: 2, experts: 4 });
    const b = await synthModel({ arch: "qwen3next", preset: "tiny", seed: 11, layers: 2, experts: 4 });
    const c = await synthModel({ arch: "qwen3next", preset: "tiny", seed: 12, layers: 2, experts: 4 });
    expect(Buffer.compare(a.bytes!, b.bytes!)).toBe(0);
    expect(Buffer.compare(a.bytes!, c.bytes!)).not.toBe(0);
    const g = parseGguf(a.bytes!);
    expect(g.getU32("qwen3next.block_count")).toBe(2);
    expect(g.tensor("blk.1.ffn_gate_exps.weight").ne).toEqual([128, 64, 4]);
  });

  it("q4_k_m: streams to disk, types follow llama-quantize's rules, @huggingface/gguf reads it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ggts-synth-"));
    try {
      const out = join(dir, "k.gguf");
      let last = 0;
      const r = await synthModel({ arch: "kimi-linear", preset: "tiny", seed: 5, type: "q4_k_m", out, onProgress: (p) => { last = p.bytesWritten; } });
      expect(last).toBe(r.fileSize);
      const f = await openGguf(out);
      try {
        expect(f.getU32("general.file_type")).toBe(15);
        expect(f.tensor("output.weight").type).toBe(GgmlType.Q8_0); // ne0 128 is not a multiple of 256
        expect(f.tensor("blk.0.attn_q.weight").type).toBe(GgmlType.Q5_0); // q4_K fallback for ne0 128
        expect(f.tensor("blk.0.attn_k.weight").type).toBe(GgmlType.Q8_0); // 8 experts
        expect(f.tensor("blk.0.ssm_f_b.weight").type).toBe(GgmlType.Q5_0); // ne0 32: fallback from q4_K
        expect(f.tensor("blk.0.ssm_a").type).toBe(GgmlType.F32);
        expect(f.tensor("blk.3.attn_k_b.weight").type).toBe(GgmlType.Q5_0);
        const x = await values(f, "blk.1.ffn_up_exps.weight");
        expect(rms(x) * Math.sqrt(128)).toBeCloseTo(1, 1);
        const hf = await hfGguf(out, { allowLocalFile: true });
        expect(hf.tensorInfos.map((t) => [t.name, t.dtype])).toEqual(f.tensors.map((t) => [t.name, t.type]));
      } finally {
        await f.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("real-dimension presets (structure only; the data is generated by hand)", () => {
  it("kimi-linear-48b-a3b --layers 4 --experts 64: real per-layer shapes, [KDA,KDA,KDA,MLA], dense layer 0", () => {
    const c = resolveConfig("kimi-linear", "kimi-linear-48b-a3b", undefined, { layers: 4, experts: 64 });
    expect(c.arch === "kimi-linear" && c.mlaLayers).toEqual([3]);
    const ts = new Map(modelTensors(c).map((t) => [t.name, t.ne]));
    expect(ts.get("token_embd.weight")).toEqual([2304, 163840]);
    expect(ts.get("blk.0.attn_q.weight")).toEqual([2304, 4096]);
    expect(ts.get("blk.0.ssm_conv1d_q.weight")).toEqual([4, 1, 4096, 1]);
    expect(ts.get("blk.0.ssm_f_b.weight")).toEqual([128, 4096]);
    expect(ts.get("blk.0.ssm_a")).toEqual([1, 32, 1, 1]);
    expect(ts.get("blk.0.ffn_down.weight")).toEqual([9216, 2304]);
    expect(ts.get("blk.3.attn_q.weight")).toEqual([2304, 6144]);
    expect(ts.get("blk.3.attn_kv_a_mqa.weight")).toEqual([2304, 576]);
    expect(ts.get("blk.3.attn_k_b.weight")).toEqual([128, 512, 32]);
    expect(ts.get("blk.3.attn_v_b.weight")).toEqual([512, 128, 32]);
    expect(ts.get("blk.3.attn_output.weight")).toEqual([4096, 2304]);
    expect(ts.get("blk.2.ffn_gate_exps.weight")).toEqual([2304, 1024, 64]);
    expect(ts.get("blk.2.ffn_down_exps.weight")).toEqual([1024, 2304, 64]);
    expect(ts.has("blk.0.ffn_gate_exps.weight")).toBe(false);
    const full = resolveConfig("kimi-linear", "kimi-linear-48b-a3b", undefined, {});
    expect(full.arch === "kimi-linear" && full.mlaLayers).toEqual([3, 7, 11, 15, 19, 23, 26]);
  });

  it("qwen3-next-80b-a3b: real per-layer shapes", () => {
    const c = resolveConfig("qwen3next", "qwen3-next-80b-a3b", undefined, { layers: 4, experts: 32 });
    const ts = new Map(modelTensors(c).map((t) => [t.name, t.ne]));
    expect(ts.get("blk.0.attn_qkv.weight")).toEqual([2048, 8192]);
    expect(ts.get("blk.0.attn_gate.weight")).toEqual([2048, 4096]);
    expect(ts.get("blk.0.ssm_ba.weight")).toEqual([2048, 64]);
    expect(ts.get("blk.0.ssm_conv1d.weight")).toEqual([4, 8192]);
    expect(ts.get("blk.0.ssm_out.weight")).toEqual([4096, 2048]);
    expect(ts.get("blk.3.attn_q.weight")).toEqual([2048, 8192]);
    expect(ts.get("blk.3.attn_k.weight")).toEqual([2048, 512]);
    expect(ts.get("blk.3.attn_output.weight")).toEqual([4096, 2048]);
    expect(ts.get("blk.3.ffn_down_exps.weight")).toEqual([512, 2048, 32]);
    const infos = modelTensors(c).map((t) => ({ name: t.name, type: GgmlType.F32, ne: t.ne, offset: 0, relOffset: 0, nbytes: 0, nElements: t.ne.reduce((a, b) => a * b, 1) }));
    const plan = planQuantization(infos, { arch: "qwen3next", nLayer: 4, nExpert: 32, nGqa: 8 }, parseQuantTarget("q4_k_m"));
    const t = Object.fromEntries(plan.map((p) => [p.info.name, typeTraits(p.type).name]));
    expect(t["blk.0.attn_qkv.weight"]).toBe("q5_K");
    expect(t["blk.0.ssm_ba.weight"]).toBe("q4_K");
    expect(t["output.weight"]).toBe("q6_K");
    // n_attention_wv = 4 (one attn_v + three attn_qkv), i = 0: use_more_bits(0, 4) is false.
    expect(t["blk.3.attn_v.weight"]).toBe("q4_K");
    expect(t["blk.0.ssm_conv1d.weight"]).toBe("f32");
  });
});
