// Against llama.cpp's own output: ggml's to_float goldens (shared/fixtures/dequant), the blocks llama-quantize
// wrote (kimi-q-q8_0 / kimi-q-q4_k_m, quantized without an imatrix from kimi-q-f32), and blocks from ggml's C
// quantizers for every other format (quant-ggml-golden.json).

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { dequantize, quantize } from "../src/quant/index.js";
import { GgmlType, TYPE_TRAITS, rowSize, toType, typeTraits } from "../src/types.js";
import { FIXTURES, goldenInput, loadGguf } from "./quant-helpers.js";

interface DequantIndex {
  model: string;
  tensors: { tensor: string; type: string; ne: number[]; nbytes: number; file: string; file_offset: number }[];
}

describe.each(["kimi-q-q4_k_m", "kimi-q-q8_0"])("dequantization goldens of %s", (model) => {
  const dir = `${FIXTURES}dequant/${model}/`;
  const index = JSON.parse(readFileSync(dir + "index.json", "utf8")) as DequantIndex;
  const gguf = readFileSync(FIXTURES + index.model);

  it("lists tensors", () => expect(index.tensors.length).toBeGreaterThan(0));

  for (const t of index.tensors) {
    it(`${t.tensor} (${t.type}) matches ggml bit for bit`, () => {
      const type = toType(t.type);
      const n = t.ne.reduce((a, b) => a * b, 1);
      expect(rowSize(type, t.ne[0]!) * (n / t.ne[0]!)).toBe(t.nbytes);
      const got = dequantize(type, new Uint8Array(gguf.buffer, gguf.byteOffset + t.file_offset, t.nbytes), n);
      const golden = readFileSync(dir + t.file);
      expect(golden.length).toBe(4 * n);
      const want = new Uint32Array(golden.buffer.slice(golden.byteOffset, golden.byteOffset + golden.length));
      const bits = new Uint32Array(got.buffer);
      let bad = 0;
      let first = -1;
      for (let i = 0; i < n; i++) {
        if (bits[i] !== want[i]) {
          bad++;
          if (first < 0) first = i;
        }
      }
      expect(bad, `first mismatch at element ${first}`).toBe(0);
    });
  }
});

describe("quantizers reproduce llama-quantize (no imatrix)", () => {
  const f32 = loadGguf("kimi-q-f32.gguf");
  const quantized = [loadGguf("kimi-q-q8_0.gguf"), loadGguf("kimi-q-q4_k_m.gguf")];

  it("the F32 source and the dequant index agree on offsets", () => {
    const idx = JSON.parse(readFileSync(`${FIXTURES}dequant/kimi-q-q8_0/index.json`, "utf8")) as DequantIndex;
    const t = idx.tensors[0]!;
    expect(quantized[0]!.tensors.get(t.tensor)!.offset).toBe(t.file_offset);
  });

  // Every quantized tensor is compared, limited to its first rows so the test stays quick on shared machines.
  const MAX_BLOCKS_PER_TENSOR = 16;
  const cases: { name: string; type: GgmlType; file: number }[] = [];
  quantized.forEach((q, file) => {
    for (const [name, info] of q.tensors) if (info.type !== GgmlType.F32) cases.push({ name, type: info.type, file });
  });

  const byType = new Map<GgmlType, typeof cases>();
  for (const c of cases) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);

  it("covers Q8_0, Q5_0, Q4_K, Q5_K and Q6_K", () => {
    expect([...byType.keys()].map((t) => typeTraits(t).name).sort()).toEqual(["q4_K", "q5_0", "q5_K", "q6_K", "q8_0"]);
  });

  for (const [type, list] of byType) {
    it(`${typeTraits(type).name}: ${list.length} tensors, bytes identical`, () => {
      const tr = typeTraits(type);
      const mismatches: string[] = [];
      let blocksChecked = 0;
      for (const c of list) {
        const src = f32.tensors.get(c.name)!;
        const q = quantized[c.file]!;
        const info = q.tensors.get(c.name)!;
        const ne0 = src.ne[0]!;
        const blocksPerRow = ne0 / tr.blockSize;
        const rows = Math.max(1, Math.min(src.ne.slice(1).reduce((a, b) => a * b, 1), Math.floor(MAX_BLOCKS_PER_TENSOR / blocksPerRow)));
        const n = rows * ne0;
        const x = new Float32Array(f32.bytes.buffer.slice(f32.bytes.byteOffset + src.offset, f32.bytes.byteOffset + src.offset + 4 * n));
        const mine = quantize(type, x);
        const theirs = q.bytes.subarray(info.offset, info.offset + mine.length);
        for (let b = 0; b < mine.length / tr.typeSize; b++) {
          blocksChecked++;
          for (let k = 0; k < tr.typeSize; k++) {
            if (mine[b * tr.typeSize + k] !== theirs[b * tr.typeSize + k]) {
              mismatches.push(`${c.name} block ${b} byte ${k}`);
              break;
            }
          }
        }
      }
      expect(blocksChecked).toBeGreaterThan(0);
      expect(mismatches.slice(0, 5)).toEqual([]);
    });
  }
});

describe("quantizers reproduce ggml's C reference for the formats no fixture model uses", () => {
  // Produced once from ggml's own ggml-quants.c (see "producer" in the file) on goldenInput().
  const golden = JSON.parse(readFileSync(new URL("./quant-ggml-golden.json", import.meta.url), "utf8")) as {
    blocks: Record<string, string>;
  };
  const x = goldenInput();

  it("has goldens for every block format", () => {
    const names = [...TYPE_TRAITS.values()].filter((t) => t.quantized).map((t) => t.name).sort();
    expect(Object.keys(golden.blocks).sort()).toEqual(names);
  });

  for (const [name, b64] of Object.entries(golden.blocks)) {
    it(`${name}: bytes identical to ggml`, () => {
      const type = toType(name);
      const want = Buffer.from(b64, "base64");
      const got = quantize(type, x);
      expect(got.length).toBe(want.length);
      const bs = typeTraits(type).typeSize;
      const bad: number[] = [];
      for (let b = 0; b < got.length / bs; b++) {
        for (let k = 0; k < bs; k++) {
          if (got[b * bs + k] !== want[b * bs + k]) {
            bad.push(b);
            break;
          }
        }
      }
      expect(bad, "mismatching blocks").toEqual([]);
    });
  }
});
