import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType } from "@ggts/tensor";
import { ByteBuilder, writeKV } from "../src/encode.js";
import { GgufError, GgufKV, GgufValueType as V, GgufWriter, openGguf, parseGguf } from "../src/index.js";

interface RawTensor { name: string; ne: (number | bigint)[]; type: number; offset: number | bigint; nDims?: number }

/** Hand-assembles a GGUF (no validation), so tests can write exactly the malformed field they need. */
function raw(opts: { magic?: number; version?: number; kvs?: GgufKV[]; tensors?: RawTensor[]; nKV?: bigint; nT?: bigint; data?: number }) {
  const b = new ByteBuilder();
  b.u32(opts.magic ?? 0x46554747);
  b.u32(opts.version ?? 3);
  const kvs = opts.kvs ?? [];
  const ts = opts.tensors ?? [];
  b.u64(opts.nT ?? BigInt(ts.length));
  b.u64(opts.nKV ?? BigInt(kvs.length));
  for (const kv of kvs) writeKV(b, kv);
  for (const t of ts) {
    b.string(t.name);
    b.u32(t.nDims ?? t.ne.length);
    for (const n of t.ne) b.u64(n);
    b.u32(t.type);
    b.u64(t.offset);
  }
  b.zeros((32 - (b.length % 32)) % 32);
  b.zeros(opts.data ?? 0);
  return b.result();
}

const f32 = (name: string, ne: (number | bigint)[], offset: number | bigint = 0): RawTensor => ({ name, ne, type: GgmlType.F32, offset });
const kv = (key: string, type: V, value: unknown, arrayType?: V): GgufKV => ({ key, type, value, arrayType });

function parseError(bytes: Uint8Array): GgufError {
  try {
    parseGguf(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(GgufError);
    expect((e as GgufError).message).toMatch(/ at offset \d+$/);
    return e as GgufError;
  }
  throw new Error("expected a GgufError");
}

describe("GGUF validation", () => {
  it("accepts a minimal well-formed file", () => {
    const f = parseGguf(raw({ kvs: [kv("a", V.UINT32, 1)], tensors: [f32("t", [4])], data: 32 }));
    expect(f.tensors[0]).toMatchObject({ name: "t", ne: [4], nbytes: 16, relOffset: 0, offset: f.dataOffset });
  });
  it("bad magic, versions, big-endian", () => {
    expect(parseError(raw({ magic: 0x12345678 })).reason).toMatch(/bad magic/);
    expect(parseError(raw({ version: 1 })).reason).toMatch(/unsupported GGUF version 1/);
    expect(parseError(raw({ version: 4 })).reason).toMatch(/unsupported GGUF version 4/);
    const be = parseError(raw({ version: 0x03000000 }));
    expect(be.reason).toMatch(/big-endian/);
    expect(be.offset).toBe(4);
    expect(parseGguf(raw({ version: 2 })).version).toBe(2);
  });
  it("truncation anywhere is a GgufError", () => {
    const full = raw({ kvs: [kv("k", V.STRING, "hello"), kv("arr", V.ARRAY, ["a", "bc"], V.STRING)], tensors: [f32("t", [4, 2])], data: 32 });
    parseGguf(full);
    for (let n = 0; n < full.length - 32; n++) expect(parseError(full.subarray(0, n)).reason).toMatch(/truncated|past the end|cannot fit|exceeds/);
  });
  it("string and array lengths beyond the file", () => {
    const b = raw({ kvs: [kv("k", V.STRING, "abc")] });
    new DataView(b.buffer).setBigUint64(24, 1n << 40n, true); // key length
    expect(parseError(b).reason).toMatch(/metadata key 0 length 1099511627776 exceeds/);
    const a = raw({ kvs: [kv("k", V.ARRAY, new Uint32Array(2), V.UINT32)] });
    new DataView(a.buffer).setBigUint64(24 + 8 + 1 + 4 + 4, 1n << 50n, true);
    const e = parseError(a);
    expect(e.reason).toMatch(/key "k" array length .* cannot fit/);
    expect(e.offset).toBe(41);
    const h = raw({ kvs: [kv("k", V.STRING, "abc")] });
    new DataView(h.buffer).setBigUint64(24, 0xffffffffffffffffn, true);
    expect(parseError(h).reason).toMatch(/too large/);
  });
  it("absurd counts are rejected before allocating", () => {
    expect(parseError(raw({ nKV: 1n << 40n })).reason).toMatch(/metadata count .* cannot fit/);
    expect(parseError(raw({ nT: 1n << 52n })).reason).toMatch(/tensor count .* cannot fit/);
    const nested = raw({ kvs: [kv("k", V.ARRAY, [{ arrayType: V.ARRAY, value: [] }], V.ARRAY)] });
    parseGguf(nested);
  });
  it("nesting depth is bounded", () => {
    let v: { arrayType: V; value: unknown } = { arrayType: V.UINT8, value: new Uint8Array(1) };
    for (let i = 0; i < 20; i++) v = { arrayType: V.ARRAY, value: [v] };
    expect(parseError(raw({ kvs: [kv("deep", V.ARRAY, v.value, v.arrayType)] })).reason).toMatch(/nested deeper/);
  });
  it("invalid value types", () => {
    const b = raw({ kvs: [kv("k", V.UINT8, 1)] });
    new DataView(b.buffer).setUint32(24 + 8 + 1, 13, true);
    expect(parseError(b).reason).toMatch(/value type 13 is not a valid/);
  });
  it("duplicate keys and tensor names", () => {
    expect(parseError(raw({ kvs: [kv("k", V.UINT8, 1), kv("k", V.UINT8, 2)] })).reason).toMatch(/duplicate metadata key "k"/);
    expect(parseError(raw({ tensors: [f32("t", [8]), f32("t", [8], 32)], data: 64 })).reason).toMatch(/duplicate tensor name "t"/);
  });
  it("dims: n_dims, zero sizes, overflow", () => {
    expect(parseError(raw({ tensors: [f32("t", [1, 1, 1, 1, 1])], data: 32 })).reason).toMatch(/n_dims 5/);
    expect(parseError(raw({ tensors: [f32("t", [])], data: 32 })).reason).toMatch(/n_dims 0/);
    expect(parseError(raw({ tensors: [f32("t", [4, 0])], data: 32 })).reason).toMatch(/zero-sized dimension ne\[1\]/);
    expect(parseError(raw({ tensors: [f32("t", [1 << 30, 1 << 30, 1 << 30])], data: 32 })).reason).toMatch(/element count overflows/);
    expect(parseError(raw({ tensors: [f32("t", [1n << 60n])], data: 32 })).reason).toMatch(/too large/);
  });
  it("type ids and block sizes", () => {
    const t = (type: number, ne: number[]) => raw({ tensors: [{ name: "t", ne, type, offset: 0 }], data: 256 });
    expect(parseError(t(99, [32])).reason).toMatch(/tensor "t": unsupported tensor type id 99/);
    expect(parseError(t(16, [256])).reason).toMatch(/IQ2_XXS/);
    expect(parseError(t(GgmlType.Q4_0, [48])).reason).toMatch(/row of 48 elements is not a multiple of the block size 32/);
    expect(parseGguf(t(GgmlType.Q4_0, [64])).tensors[0].nbytes).toBe(36);
  });
  it("data outside the file, overlaps, misalignment", () => {
    expect(parseError(raw({ tensors: [f32("t", [16])], data: 32 })).reason).toMatch(/"t" data .* past the end of the file/);
    expect(parseError(raw({ tensors: [f32("t", [8]), f32("u", [8], 1n << 52n)], data: 64 })).reason).toMatch(/"u" data .* past the end/);
    expect(parseError(raw({ tensors: [f32("a", [16]), f32("b", [8], 32)], data: 96 })).reason).toMatch(/"b" data overlaps tensor "a"/);
    expect(parseError(raw({ tensors: [f32("a", [8], 16)], data: 64 })).reason).toMatch(/offset 16 is not a multiple of the alignment 32/);
  });
  it("general.alignment must be a UINT32 power of two", () => {
    expect(parseError(raw({ kvs: [kv("general.alignment", V.UINT32, 48)] })).reason).toMatch(/not a power of two/);
    expect(parseError(raw({ kvs: [kv("general.alignment", V.UINT32, 0)] })).reason).toMatch(/not a power of two/);
    expect(parseError(raw({ kvs: [kv("general.alignment", V.UINT64, 32n)] })).reason).toMatch(/UINT64, expected UINT32/);
    const f = parseGguf(raw({ kvs: [kv("general.alignment", V.UINT32, 16)], tensors: [f32("a", [4]), f32("b", [4], 16)], data: 64 }));
    expect(f.alignment).toBe(16);
  });
  it("strings over the 16 MiB limit are rejected even when the file holds them", () => {
    const b = raw({ kvs: [kv("k", V.STRING, "abc")], data: 17 << 20 });
    new DataView(b.buffer).setBigUint64(24 + 8 + 1 + 4, BigInt(17 << 20), true);
    expect(parseError(b).reason).toMatch(/key "k" value length 17825792 exceeds the 16777216-byte string limit/);
  });
  it("huge string counts in a small file do not allocate", () => {
    const b = raw({ kvs: [kv("k", V.ARRAY, ["a"], V.STRING)] });
    new DataView(b.buffer).setBigUint64(24 + 8 + 1 + 4 + 4, 1n << 40n, true);
    expect(parseError(b).reason).toMatch(/cannot fit/);
  });
});

describe("large files", () => {
  it("offsets beyond 4 GiB in a sparse 5 GiB file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ggts-big-"));
    const path = join(dir, "big.gguf");
    try {
      const w = new GgufWriter();
      w.setString("general.architecture", "big");
      w.addTensor("huge", GgmlType.I8, [2 ** 32 + 64]); // 4 GiB + 64 bytes, never materialised
      w.addTensor("tail", GgmlType.F32, [4]);
      const infos = w.tensorInfos();
      const header = w.headerBytes();
      const fh = await open(path, "w");
      await fh.write(header, 0, header.length, 0);
      const tail = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
      await fh.write(tail, 0, 16, infos[1].offset);
      await fh.truncate(w.fileSize());
      await fh.close();
      const f = await openGguf(path);
      try {
        expect(f.fileSize).toBe(w.fileSize());
        expect(f.fileSize).toBeGreaterThan(2 ** 32);
        expect(f.tensor("tail").offset).toBe(infos[1].offset);
        expect(f.tensor("tail").relOffset).toBeGreaterThan(2 ** 32);
        expect(new Float32Array((await f.readTensorData("tail")).buffer)).toEqual(new Float32Array([1, 2, 3, 4]));
        const chunk = await f.readRange(f.tensor("huge").offset + 2 ** 32, 8);
        expect([...chunk]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      } finally {
        await f.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
