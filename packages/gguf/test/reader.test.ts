import { describe, expect, it } from "vitest";
import { readFileSync, statSync } from "node:fs";
import { GgmlType, typeTraits } from "@ggts/tensor";
import { GgufError, GgufValueType, openGguf, parseGguf } from "../src/index.js";
import { ALL_FIXTURES, fixture } from "./fixtures.js";

// Sizes from the fixture README §1.
const SIZES: Record<string, number> = {
  "tiny-kimi-linear-f32.gguf": 4_886_912,
  "tiny-qwen3next-f32.gguf": 5_176_768,
  "kimi-q-f32.gguf": 28_974_048,
  "kimi-q-q8_0.gguf": 7_764_576,
  "kimi-q-q4_k_m.gguf": 4_742_240,
};

/** Tensor lines of gguf-py's gguf_dump.py: "  n:  nElements |  ne0, ne1, ne2, ne3 | TYPE | name". */
function readDump(name: string): { name: string; ne: number[]; type: string; n: number }[] {
  const text = readFileSync(fixture(name), "utf8");
  const out = [];
  for (const line of text.split("\n")) {
    const m = /^\s*\d+:\s+(\d+) \|\s*([\d, ]+)\| (\w+)\s*\| (\S+)$/.exec(line);
    if (m) out.push({ n: Number(m[1]), ne: m[2].split(",").map((s) => Number(s.trim())), type: m[3], name: m[4] });
  }
  return out;
}

const pad4 = (ne: number[]) => [...ne, 1, 1, 1].slice(0, 4);

describe("fixture GGUFs", () => {
  for (const name of ALL_FIXTURES) {
    it(`opens ${name} from disk and memory identically`, async () => {
      const f = await openGguf(fixture(name));
      try {
        const m = parseGguf(readFileSync(fixture(name)));
        expect(f.version).toBe(3);
        expect(f.fileSize).toBe(statSync(fixture(name)).size);
        if (SIZES[name]) expect(f.fileSize).toBe(SIZES[name]);
        expect(f.alignment).toBe(32);
        expect(f.dataOffset % 32).toBe(0);
        expect(m.dataOffset).toBe(f.dataOffset);
        expect([...m.metadata.keys()]).toEqual([...f.metadata.keys()]);
        expect(m.tensors).toEqual(f.tensors);
        expect(["kimi-linear", "qwen3next"]).toContain(f.architecture);
        const tokens = f.getStringArray("tokenizer.ggml.tokens");
        expect(f.getString("tokenizer.ggml.model")).toBe("gpt2");
        expect(tokens[0]).toBe("Ā"); // GPT-2 byte->unicode map of byte 0
        expect(f.getBool("tokenizer.ggml.add_bos_token")).toBe(false);
        if (f.tensors.length > 0) {
          // Tensors are contiguous after the header; the last one ends at (or near, padded) EOF.
          const last = f.tensors.reduce((a, b) => (a.offset > b.offset ? a : b));
          expect(f.fileSize - (last.offset + last.nbytes)).toBeLessThan(32);
          const t = f.tensors[0];
          const a = await f.readTensorData(t.name), b = await m.readTensorData(t);
          expect(a.length).toBe(t.nbytes);
          expect(Buffer.compare(a, b)).toBe(0);
        }
      } finally {
        await f.close();
      }
    });
  }

  it("tiny-kimi-linear metadata matches the README config", async () => {
    const f = await openGguf(fixture("tiny-kimi-linear-f32.gguf"));
    await f.close();
    expect(f.architecture).toBe("kimi-linear");
    expect(f.getU32("kimi-linear.embedding_length")).toBe(128);
    expect(f.getU32("kimi-linear.block_count")).toBe(4);
    expect(f.getNumberArray("kimi-linear.attention.head_count_kv")).toEqual([0, 0, 0, 1]);
    expect(f.getNumber("kimi-linear.expert_weights_scale")).toBeCloseTo(2.446, 5);
    expect(f.getStringArray("tokenizer.ggml.tokens")).toHaveLength(512);
    expect(f.getStringArray("tokenizer.ggml.merges")).toHaveLength(200);
    expect(f.getU32("tokenizer.ggml.bos_token_id")).toBe(456);
    expect(f.getString("tokenizer.ggml.pre")).toBe("kimi-k2");
    expect(f.tensor("blk.0.ssm_conv1d_q.weight").ne).toEqual([4, 1, 128, 1]);
    expect(f.tensor("blk.3.attn_kv_a_mqa.weight").type).toBe(GgmlType.F32);
  });

  it("tiny-qwen3next metadata matches the README config", () => {
    const f = parseGguf(readFileSync(fixture("tiny-qwen3next-f32.gguf")));
    expect(f.architecture).toBe("qwen3next");
    expect(f.getU32("qwen3next.block_count")).toBe(4);
    expect(f.getU32("qwen3next.attention.head_count_kv")).toBe(2);
    expect(f.getString("tokenizer.ggml.pre")).toBe("qwen2");
    expect(f.getU32("tokenizer.ggml.eos_token_id")).toBe(458);
  });

  it("quantized fixtures hold the types the README lists", () => {
    const names = (f: string) => new Set(parseGguf(readFileSync(fixture(f))).tensors.map((t) => typeTraits(t.type).name));
    expect([...names("kimi-q-q4_k_m.gguf")].sort()).toEqual(["f32", "q4_K", "q5_0", "q5_K", "q6_K", "q8_0"]);
    const q8 = parseGguf(readFileSync(fixture("kimi-q-q8_0.gguf")));
    expect(q8.tensors.filter((t) => t.type === GgmlType.Q8_0)).toHaveLength(55);
    expect(q8.tensors.filter((t) => t.type === GgmlType.F32).map((t) => t.name).every((n) =>
      /norm|ssm_a|ssm_dt\.bias|exp_probs_b|ssm_conv1d|ffn_gate_inp/.test(n))).toBe(true);
  });

  for (const q of ["kimi-q-q8_0.gguf", "kimi-q-q4_k_m.gguf"]) {
    it(`${q}: every tensor's type and shape match gguf_dump`, async () => {
      const f = await openGguf(fixture(q));
      await f.close();
      const dump = readDump(`${q}-dump.txt`);
      expect(dump).toHaveLength(89);
      expect(f.tensors.map((t) => t.name)).toEqual(dump.map((d) => d.name));
      for (const [i, d] of dump.entries()) {
        const t = f.tensors[i];
        expect(typeTraits(t.type).name.toUpperCase()).toBe(d.type.toUpperCase());
        expect(pad4(t.ne)).toEqual(d.ne);
        expect(t.nElements).toBe(d.n);
      }
    });

    it(`${q}: absolute offsets match the dequant goldens' index.json`, async () => {
      const f = await openGguf(fixture(q));
      await f.close();
      const idx = JSON.parse(readFileSync(fixture(`dequant/${q.replace(".gguf", "")}/index.json`), "utf8"));
      for (const e of idx.tensors) {
        const t = f.tensor(e.tensor);
        expect(t.offset).toBe(e.file_offset);
        expect(t.nbytes).toBe(e.nbytes);
      }
    });
  }
});

describe("accessor errors", () => {
  const f = parseGguf(readFileSync(fixture("tiny-kimi-linear-f32.gguf")));
  it("names the key and the type found", () => {
    expect(() => f.getString("kimi-linear.block_count")).toThrow(/"kimi-linear.block_count" has type UINT32, expected STRING/);
    expect(() => f.getU32("general.architecture")).toThrow(/"general.architecture" has type STRING/);
    expect(() => f.getStringArray("kimi-linear.attention.head_count_kv")).toThrow(/ARRAY of INT32/);
    expect(() => f.getBool("kimi-linear.expert_weights_scale")).toThrow(/FLOAT32, expected BOOL/);
  });
  it("missing keys and tensors", () => {
    expect(() => f.getU32("nope.key")).toThrow(/"nope.key" not found/);
    expect(f.getU32("nope.key", 7)).toBe(7);
    expect(f.getString("nope.key", "x")).toBe("x");
    expect(f.get("nope.key")).toBeUndefined();
    expect(f.has("general.architecture")).toBe(true);
    expect(() => f.tensor("blk.99.attn_q.weight")).toThrow(/"blk.99.attn_q.weight" not found/);
    expect(f.hasTensor("output.weight")).toBe(true);
  });
  it("kv types", () => {
    expect(f.metadata.get("kimi-linear.attention.head_count_kv")).toMatchObject({ type: GgufValueType.ARRAY, arrayType: GgufValueType.INT32 });
  });
});

describe("open errors", () => {
  it("non-GGUF file gives GgufError with path and offset", async () => {
    const err = await openGguf(fixture("README.md")).catch((e) => e);
    expect(err).toBeInstanceOf(GgufError);
    expect(err.message).toMatch(/README.md: bad magic .* at offset 0/);
  });
});
