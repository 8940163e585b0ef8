import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gguf as hfGguf } from "@huggingface/gguf";
import { GgmlType } from "@ggts/tensor";
import {
  GgufArray, GgufValueType as V, GgufWriter, openGguf, parseGguf, writerFromGguf,
} from "../src/index.js";
import { ALL_FIXTURES, fixture } from "./fixtures.js";

/** A writer exercising every value type, nested arrays, odd strings and several tensor types. */
function sampleWriter(alignment?: number) {
  const w = new GgufWriter({ alignment });
  w.setString("general.architecture", "test-arch");
  w.setKV("t.u8", V.UINT8, 255).setKV("t.i8", V.INT8, -128).setKV("t.u16", V.UINT16, 65535).setKV("t.i16", V.INT16, -32768);
  w.setKV("t.u32", V.UINT32, 0xffffffff).setKV("t.i32", V.INT32, -0x80000000).setKV("t.f32", V.FLOAT32, Math.fround(1.5e-7));
  w.setKV("t.bool", V.BOOL, true).setKV("t.str", V.STRING, "héllo \u{1F600} \0 end").setKV("t.empty", V.STRING, "");
  w.setKV("t.u64", V.UINT64, 0xffffffffffffffffn).setKV("t.i64", V.INT64, -(1n << 63n)).setKV("t.f64", V.FLOAT64, Math.PI);
  w.setArray("a.u8", V.UINT8, new Uint8Array([0, 1, 255])).setArray("a.i8", V.INT8, new Int8Array([-1, 2]));
  w.setArray("a.u16", V.UINT16, new Uint16Array([65535])).setArray("a.i16", V.INT16, new Int16Array([-5, 5]));
  w.setArray("a.u32", V.UINT32, new Uint32Array([1, 2, 0xffffffff])).setArray("a.i32", V.INT32, new Int32Array([0, 0, 0, 1]));
  w.setArray("a.f32", V.FLOAT32, new Float32Array([0.5, -Infinity, 3])).setArray("a.f64", V.FLOAT64, new Float64Array([1e300]));
  w.setArray("a.u64", V.UINT64, new BigUint64Array([0n, 1n << 63n])).setArray("a.i64", V.INT64, new BigInt64Array([-1n]));
  w.setArray("a.bool", V.BOOL, [true, false, true]).setArray("a.str", V.STRING, ["a", "", "Ġt he", "日本"]);
  w.setArray("a.empty", V.INT32, new Int32Array(0));
  const nested: GgufArray[] = [
    { arrayType: V.STRING, value: ["x", "y"] },
    { arrayType: V.ARRAY, value: [{ arrayType: V.FLOAT32, value: new Float32Array([2]) }] },
    { arrayType: V.UINT8, value: new Uint8Array(0) },
  ];
  w.setArray("a.nested", V.ARRAY, nested);
  const tensors: [string, GgmlType, number[]][] = [
    ["a.f32", GgmlType.F32, [3]], ["b.f16", GgmlType.F16, [5, 3]], ["c.q8_0", GgmlType.Q8_0, [64, 2]],
    ["d.q4_k", GgmlType.Q4_K, [256, 1, 2]], ["e.i8", GgmlType.I8, [7, 1, 1, 3]], ["f.q5_0", GgmlType.Q5_0, [32]],
  ];
  const data = new Map<string, Uint8Array>();
  let seed = 7;
  for (const [name, type, ne] of tensors) {
    const info = w.addTensor(name, type, ne);
    const b = new Uint8Array(info.nbytes);
    for (let i = 0; i < b.length; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    data.set(name, b);
  }
  return { w, data };
}

describe("GgufWriter round trip", () => {
  for (const alignment of [undefined, 64]) {
    it(`read(write(x)) == x for every value type (alignment ${alignment ?? 32})`, async () => {
      const { w, data } = sampleWriter(alignment);
      // Mixed data delivery: plain buffers, sync chunks and async chunks.
      let k = 0;
      const bytes = await w.toBytes((info) => {
        const b = data.get(info.name)!;
        k++;
        if (k % 3 === 0) return b;
        if (k % 3 === 1) return [b.subarray(0, 1), b.subarray(1)];
        return (async function* () { yield b.subarray(0, 3); yield b.subarray(3); })();
      });
      expect(bytes.length).toBe(w.fileSize());
      const f = parseGguf(bytes);
      expect(f.alignment).toBe(alignment ?? 32);
      expect(f.dataOffset % f.alignment).toBe(0);
      expect(bytes.length % f.alignment).toBe(0);
      expect([...f.metadata.values()]).toEqual([...w.metadata.values()]);
      expect(f.tensors).toEqual(w.tensorInfos());
      for (const t of f.tensors) {
        expect(t.offset % f.alignment).toBe(0);
        expect(Buffer.compare(await f.readTensorData(t), data.get(t.name)!)).toBe(0);
      }
      expect(f.get("t.u64")).toBe(0xffffffffffffffffn);
      expect(() => f.getNumber("t.u64")).toThrow(/not exactly representable/);
      expect(f.getNumber("t.i32")).toBe(-0x80000000);
      // Writing what was read gives the same bytes.
      expect(Buffer.compare(await writerFromGguf(f).toBytes(), bytes)).toBe(0);
    });
  }

  it("writes to disk by streaming and @huggingface/gguf reads it identically", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ggts-gguf-"));
    try {
      const { w, data } = sampleWriter();
      const path = join(dir, "x.gguf");
      const progress: number[] = [];
      const n = await w.writeFile(path, (info) => data.get(info.name)!, (p) => progress.push(p.bytesWritten));
      expect(n).toBe(w.fileSize());
      expect(progress.at(-1)).toBe(n);
      const f = await openGguf(path);
      await f.close();
      const hf = await hfGguf(path, { allowLocalFile: true });
      expect(hf.tensorDataOffset).toBe(BigInt(f.dataOffset));
      expect(hf.tensorInfos.map((t) => [t.name, t.dtype, t.shape.map(Number), Number(t.offset)]))
        .toEqual(f.tensors.map((t) => [t.name, t.type, t.ne, t.relOffset]));
      const md = hf.metadata as Record<string, unknown>;
      expect(md["general.architecture"]).toBe("test-arch");
      expect(md["t.str"]).toBe("héllo \u{1F600} \0 end");
      expect(md["t.u64"]).toBe(0xffffffffffffffffn);
      expect(md["t.i8"]).toBe(-128);
      expect(md["t.f64"]).toBe(Math.PI);
      expect(md["a.str"]).toEqual(["a", "", "Ġt he", "日本"]);
      expect(md["a.bool"]).toEqual([true, false, true]);
      expect(md["a.i32"]).toEqual([0, 0, 0, 1]);
      expect(md["a.nested"]).toEqual([["x", "y"], [[2]], []]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("headers larger than the encoder's initial buffer (a 150k-token vocab) round trip", async () => {
    const w = new GgufWriter();
    const toks = Array.from({ length: 150_000 }, (_, i) => `tok${i}`);
    w.setArray("tokenizer.ggml.tokens", V.STRING, toks).setArray("x", V.FLOAT64, new Float64Array(20_000).fill(0.5));
    w.setKV("after", V.UINT64, 123n);
    w.addTensor("t", GgmlType.F32, [2], new Uint8Array(8));
    const f = parseGguf(await w.toBytes());
    expect(f.getStringArray("tokenizer.ggml.tokens")).toEqual(toks);
    expect(f.get("after")).toBe(123n);
    expect(f.tensors[0].offset).toBe(f.dataOffset);
  });

  it("rejects bad values and tensors with errors naming them", () => {
    const w = new GgufWriter();
    expect(() => w.setKV("k", V.UINT8, 256)).toThrow(/"k".*256.*UINT8/);
    expect(() => w.setKV("k", V.INT32, 1.5)).toThrow(/"k"/);
    expect(() => w.setKV("k", V.STRING, 3)).toThrow(/"k"/);
    expect(() => w.setArray("k", V.FLOAT32, [1, "x"])).toThrow(/"k"/);
    expect(() => w.addTensor("t", GgmlType.Q4_K, [32])).toThrow(/"t" ne0 32.*block size 256/);
    expect(() => w.addTensor("t", GgmlType.F32, [0])).toThrow(/"t".*dimension 0/);
    expect(() => w.addTensor("x".repeat(64), GgmlType.F32, [1])).toThrow(/64 bytes/);
    w.addTensor("t", GgmlType.F32, [4]);
    expect(() => w.addTensor("t", GgmlType.F32, [4])).toThrow(/duplicate tensor "t"/);
  });

  it("rejects data of the wrong size", async () => {
    const w = new GgufWriter();
    w.addTensor("t", GgmlType.F32, [4], new Uint8Array(15));
    await expect(w.toBytes()).rejects.toThrow(/"t" got 15 bytes, expected 16/);
  });
});

describe("fixtures re-written by GgufWriter", () => {
  for (const name of ALL_FIXTURES) {
    it(`${name}: byte-identical to the independent writer's file`, async () => {
      const original = readFileSync(fixture(name));
      const f = await openGguf(fixture(name));
      try {
        const out = await writerFromGguf(f).toBytes();
        expect(out.length).toBe(original.length);
        expect(Buffer.compare(out, original)).toBe(0);
      } finally {
        await f.close();
      }
    });
  }

  it("@huggingface/gguf agrees with our reader on a fixture", async () => {
    const path = fixture("kimi-q-q4_k_m.gguf");
    const f = await openGguf(path);
    await f.close();
    const hf = await hfGguf(path, { allowLocalFile: true });
    expect(hf.tensorInfos.map((t) => [t.name, t.dtype, t.shape.map(Number)])).toEqual(f.tensors.map((t) => [t.name, t.type, t.ne]));
    expect((hf.metadata as Record<string, unknown>)["tokenizer.ggml.merges"]).toEqual(f.getStringArray("tokenizer.ggml.merges"));
  });
});
