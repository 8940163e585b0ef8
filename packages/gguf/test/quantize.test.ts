import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, dequantize, typeTraits } from "@ggts/tensor";
import {
  GgufTensorInfo, GgufWriter, ModelHparams, hparamsFromGguf, openGguf, parseGguf, parseQuantTarget, planQuantization,
  quantizeGguf, quantizedWriter,
} from "../src/index.js";
import { fixture } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "ggts-quant-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("quantize kimi-q-f32 like llama-quantize", () => {
  it("Q8_0: the whole file is byte-identical to llama-quantize's kimi-q-q8_0.gguf", async () => {
    const f = await openGguf(fixture("kimi-q-f32.gguf"));
    const out = join(dir, "kimi-q-Q8_0.gguf");
    try {
      const r = await quantizeGguf(f, out, "Q8_0");
      expect(r.outputBytes).toBe(7_764_576);
      expect(Buffer.compare(readFileSync(out), readFileSync(fixture("kimi-q-q8_0.gguf")))).toBe(0);
    } finally {
      await f.close();
    }
  });

  it("Q4_K_M: same type for every tensor, same header bytes, same blocks for one tensor of each type", async () => {
    // The full conversion takes ~10-50 s of JS K-quant search; GGTS_SLOW=1 runs it and compares the whole file.
    const f = await openGguf(fixture("kimi-q-f32.gguf"));
    const wantBytes = readFileSync(fixture("kimi-q-q4_k_m.gguf"));
    const want = parseGguf(wantBytes);
    try {
      const target = parseQuantTarget("Q4_K_M");
      const plan = planQuantization(f.tensors, hparamsFromGguf(f), target);
      expect(plan.map((p) => [p.info.name, p.type])).toEqual(want.tensors.map((t) => [t.name, t.type]));
      const w = quantizedWriter(f, target, plan);
      expect(Buffer.compare(w.headerBytes(), wantBytes.subarray(0, want.headerSize))).toBe(0);
      expect(w.fileSize()).toBe(want.fileSize);
      if (process.env.GGTS_SLOW) {
        const out = join(dir, "kimi-q-Q4_K_M.gguf");
        await quantizeGguf(f, out, target);
        expect(Buffer.compare(readFileSync(out), wantBytes)).toBe(0);
        return;
      }
      const smallestOfType = new Map<number, string>();
      for (const t of [...want.tensors].sort((a, b) => a.nbytes - b.nbytes)) {
        if (t.type !== GgmlType.F32 && !smallestOfType.has(t.type)) smallestOfType.set(t.type, t.name);
      }
      expect(smallestOfType.size).toBe(5); // q4_K q5_0 q5_K q6_K q8_0
      for (const name of smallestOfType.values()) {
        // A one-tensor writer converts just that tensor.
        const one = quantizedWriter(f, target, plan.filter((p) => p.info.name === name));
        const bytes = await one.toBytes();
        const got = parseGguf(bytes);
        const a = await got.readTensorData(name), b = await want.readTensorData(name);
        expect(Buffer.compare(a, b), name).toBe(0);
      }
    } finally {
      await f.close();
    }
  });
});

const info = (name: string, ne: number[], type = GgmlType.F32): GgufTensorInfo =>
  ({ name, ne, type, offset: 0, relOffset: 0, nbytes: 0, nElements: ne.reduce((a, b) => a * b, 1) });

/** A 4-layer MoE-like tensor list with per-role names. */
function roles(nExpertNe = 16): GgufTensorInfo[] {
  const ts = [info("token_embd.weight", [256, 512]), info("output.weight", [256, 512]), info("output_norm.weight", [256])];
  for (let l = 0; l < 4; l++) {
    const p = `blk.${l}.`;
    ts.push(info(p + "attn_norm.weight", [256]), info(p + "attn_q.weight", [256, 256]), info(p + "attn_k.weight", [256, 256]),
      info(p + "attn_v.weight", [256, 256]), info(p + "attn_output.weight", [256, 256]), info(p + "attn_qkv.weight", [256, 768]),
      info(p + "ffn_gate_inp.weight", [256, nExpertNe]), info(p + "ffn_down_exps.weight", [256, 256, nExpertNe]),
      info(p + "ffn_up_exps.weight", [256, 256, nExpertNe]), info(p + "ssm_conv1d.weight", [4, 768]),
      info(p + "ssm_a", [16]), info(p + "ssm_out.weight", [96, 256]));
  }
  return ts;
}
const typesOf = (plan: ReturnType<typeof planQuantization>) => Object.fromEntries(plan.map((p) => [p.info.name, typeTraits(p.type).name]));

describe("quantization plan (llama_tensor_get_type rules)", () => {
  const hp: ModelHparams = { arch: "qwen3next", nLayer: 4, nExpert: 16, nGqa: 8 };
  it("Q4_K_M, 16 experts: output q6_K, attn_v/ffn_down use_more_bits q6_K, attn_qkv q5_K, fallbacks", () => {
    const t = typesOf(planQuantization(roles(), hp, parseQuantTarget("Q4_K_M")));
    expect(t["output.weight"]).toBe("q6_K");
    expect(t["token_embd.weight"]).toBe("q4_K");
    expect(t["output_norm.weight"]).toBe("f32");
    // n_attention_wv counts attn_v and attn_qkv (8), i_attention_wv only attn_v: use_more_bits(i, 8) for i = 0..3.
    expect([0, 1, 2, 3].map((l) => t[`blk.${l}.attn_v.weight`])).toEqual(["q6_K", "q4_K", "q4_K", "q6_K"]);
    expect([0, 1, 2, 3].map((l) => t[`blk.${l}.ffn_down_exps.weight`])).toEqual(["q4_K", "q4_K", "q6_K", "q6_K"]);
    expect(t["blk.0.attn_qkv.weight"]).toBe("q5_K");
    expect(t["blk.0.attn_output.weight"]).toBe("q4_K");
    expect(t["blk.0.attn_k.weight"]).toBe("q4_K");
    expect(t["blk.0.ffn_gate_inp.weight"]).toBe("f32");
    expect(t["blk.0.ssm_conv1d.weight"]).toBe("f32");
    expect(t["blk.0.ssm_a"]).toBe("f32");
    expect(t["blk.0.ssm_out.weight"]).toBe("q5_0"); // ne0 96: q4_K -> q5_0
  });
  it("Q2_K mix: attn_v q4_K for n_gqa >= 4 else q3_K, ffn_down q3_K, attn_output q3_K, ne0 96 -> iq4_nl", () => {
    const t = typesOf(planQuantization(roles(), hp, parseQuantTarget("Q2_K")));
    expect(t["blk.0.attn_v.weight"]).toBe("q4_K");
    expect(typesOf(planQuantization(roles(), { ...hp, nGqa: 2 }, parseQuantTarget("Q2_K")))["blk.0.attn_v.weight"]).toBe("q3_K");
    expect(t["blk.1.ffn_down_exps.weight"]).toBe("q3_K");
    expect(t["blk.1.ffn_up_exps.weight"]).toBe("q2_K");
    expect(t["blk.1.attn_output.weight"]).toBe("q3_K");
    expect(t["blk.1.ssm_out.weight"]).toBe("iq4_nl");
    expect(t["output.weight"]).toBe("q6_K");
  });
  it("8 experts: attn_k/attn_v q8_0, attn_output q5_K (Q4_K_M)", () => {
    const t = typesOf(planQuantization(roles(8), { ...hp, nExpert: 8 }, parseQuantTarget("Q4_K_M")));
    expect(t["blk.0.attn_k.weight"]).toBe("q8_0");
    expect(t["blk.3.attn_v.weight"]).toBe("q8_0");
    expect(t["blk.0.attn_output.weight"]).toBe("q5_K");
  });
  it("pure types and legacy types", () => {
    const q4k = typesOf(planQuantization(roles(), hp, parseQuantTarget("Q4_K")));
    expect(q4k["output.weight"]).toBe("q4_K");
    expect(q4k["blk.3.attn_v.weight"]).toBe("q4_K");
    expect(q4k["blk.3.ssm_out.weight"]).toBe("q5_0");
    const q6k = typesOf(planQuantization(roles(), hp, parseQuantTarget("Q6_K", true)));
    expect(q6k["blk.0.ssm_out.weight"]).toBe("q8_0");
    const q40 = typesOf(planQuantization(roles(), hp, parseQuantTarget("Q4_0")));
    expect(q40["output.weight"]).toBe("q6_K"); // llama.cpp bumps output of every non-Q8_0 ftype
    expect(q40["blk.0.attn_q.weight"]).toBe("q4_0");
    expect(() => planQuantization([info("blk.0.attn_q.weight", [48, 4])], hp, parseQuantTarget("Q8_0"))).toThrow(/"blk.0.attn_q.weight" has ne0 = 48/);
    expect(() => parseQuantTarget("Q9_9")).toThrow(/unknown quantization type "Q9_9"/);
  });
});

describe("quantize every supported type", () => {
  // A small model-like file: rows of 256 so every type applies; values O(1).
  async function source(): Promise<string> {
    const w = new GgufWriter();
    w.setString("general.architecture", "llama").setU32("llama.block_count", 1).setU32("llama.attention.head_count", 4);
    let s = 1;
    const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    for (const [name, ne] of [["token_embd.weight", [256, 8]], ["blk.0.attn_q.weight", [256, 4]], ["blk.0.ffn_down.weight", [512, 2]], ["blk.0.attn_norm.weight", [256]]] as const) {
      const x = new Float32Array(ne.reduce((a, b) => a * b, 1)).map(rnd);
      w.addTensor(name, GgmlType.F32, ne, new Uint8Array(x.buffer));
    }
    const p = join(dir, "src.gguf");
    await w.writeFile(p);
    return p;
  }
  const TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q4_K_M", "Q3_K_M", "Q5_K_M"];
  for (const type of TYPES) {
    it(`${type}: output parses, types follow the plan, dequantized error is small`, async () => {
      const src = await openGguf(await source());
      const out = join(dir, `all-${type}.gguf`);
      try {
        const r = await quantizeGguf(src, out, type);
        const g = parseGguf(readFileSync(out));
        expect(g.getU32("general.file_type")).toBe(parseQuantTarget(type).ftype);
        for (const p of r.plan) {
          const t = g.tensor(p.info.name);
          expect(t.type).toBe(p.type);
          const x = new Float32Array((await src.readTensorData(p.info)).slice().buffer);
          const y = dequantize(t.type, await g.readTensorData(t), t.nElements);
          let num = 0, den = 0;
          for (let i = 0; i < x.length; i++) { num += (x[i] - y[i]) ** 2; den += x[i] ** 2; }
          expect(num / den).toBeLessThan(0.08); // q2_K on uniform noise is the worst case (~0.05)
          if (t.type === GgmlType.F32) expect(num).toBe(0);
        }
      } finally {
        await src.close();
      }
    });
  }
});
