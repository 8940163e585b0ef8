// Native validation: malformed or hostile records must raise JS errors naming the record, never crash.
import { describe, expect, it } from "vitest";
import { F, GgmlType, REC, add, getRows, mulMatId, tensor, run } from "@ggts/tensor";
import { CpuBackend, addonLoadError } from "@ggts/backend-cpu";
import { loadAddon } from "../src/native.js";
import { records, type RecSpec } from "./helpers.js";

const reason = addonLoadError();

describe.skipIf(reason !== null)("cpu backend: record validation", () => {
  const addon = reason === null ? loadAddon() : null!;
  // A valid graph: two f32 [8,4] leaves and their sum, all in one 4 KiB buffer.
  const base = (): RecSpec[] => [
    { op: "NONE", type: GgmlType.F32, ne: [8, 4], offset: 0 },
    { op: "NONE", type: GgmlType.F32, ne: [8, 4], offset: 128 },
    { op: "ADD", type: GgmlType.F32, ne: [8, 4], offset: 256, src: [0, 1], flags: 2 },
  ];

  async function runRecs(rec: Float64Array, count: number, bufs = [addon.allocBuffer(4096)]) {
    const ctx = addon.createContext(2);
    try { await addon.compute(ctx, rec, count, bufs); } finally { addon.destroyContext(ctx); }
  }

  it("accepts the valid graph and computes it", async () => {
    const buf = addon.allocBuffer(4096);
    addon.setBytes(buf, 0, Float32Array.from({ length: 32 }, (_, i) => i));
    addon.setBytes(buf, 128, Float32Array.from({ length: 32 }, () => 0.5));
    await runRecs(records(base()), 3, [buf]);
    const out = new Float32Array(addon.getBytes(buf, 256, 128).buffer);
    expect(Array.from(out.slice(0, 4))).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  const corruptions: [string, (r: Float64Array) => void, RegExp][] = [
    ["unknown op code", (r) => { r[2 * REC + F.op] = 999; }, /op code/],
    ["fractional op code", (r) => { r[2 * REC + F.op] = 14.5; }, /op code/],
    ["unknown type", (r) => { r[0 * REC + F.type] = 77; }, /type/],
    ["negative ne", (r) => { r[1 * REC + F.ne + 1] = -4; }, /ne/],
    ["NaN ne", (r) => { r[1 * REC + F.ne] = NaN; }, /ne/],
    ["huge ne", (r) => { r[2 * REC + F.ne] = 2 ** 60; }, /ne/],
    ["offset past the buffer", (r) => { r[2 * REC + F.offset] = 4096 - 64; }, /beyond its buffer/],
    ["stride past the buffer", (r) => { r[1 * REC + F.nb + 1] = 1 << 20; }, /beyond its buffer/],
    ["misaligned offset", (r) => { r[2 * REC + F.offset] = 258; }, /aligned/],
    ["buffer slot out of range", (r) => { r[1 * REC + F.buffer] = 3; }, /buffer slot/],
    ["source index not earlier", (r) => { r[2 * REC + F.src + 1] = 2; }, /source index/],
    ["negative source index", (r) => { r[2 * REC + F.src] = -1; }, /source index/],
    ["too many sources", (r) => { r[2 * REC + F.nSrc] = 9; }, /source count/],
    ["wrong source count", (r) => { r[2 * REC + F.nSrc] = 1; }, /sources/],
    ["wrong parameter count", (r) => { r[2 * REC + F.nParams] = 3; }, /parameter count/],
    ["shape rule (b not tileable)", (r) => { r[1 * REC + F.ne] = 3; r[1 * REC + F.nb + 1] = 12; }, /cannot be tiled/],
    ["dst type for the op", (r) => { r[2 * REC + F.type] = GgmlType.I32; }, /type/],
    ["leaf flag on a node", (r) => { r[2 * REC + F.flags] = 4; }, /leaf flag/],
  ];
  for (const [name, corrupt, msg] of corruptions) {
    it(`rejects ${name}`, async () => {
      const r = records(base());
      corrupt(r);
      const err = await runRecs(r, 3).then(() => null, (e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toMatch(/record \d/);
      expect(err!.message).toMatch(msg);
      expect(typeof (err as Error & { record?: number }).record).toBe("number");
    });
  }

  it("rejects a count larger than the records given and non-Float64Array input", async () => {
    await expect(runRecs(records(base()), 4)).rejects.toThrow(/exceeds the records/);
    const ctx = addon.createContext(1);
    expect(() => addon.compute(ctx, new Float32Array(48 * 3) as never, 3, [addon.allocBuffer(64)])).toThrow(/Float64Array/);
    addon.destroyContext(ctx);
  });

  it("rejects per-op shape rules (MUL_MAT inner dims, ROPE n_dims, GATED_DELTA_NET shapes)", async () => {
    const mm: RecSpec[] = [
      { op: "NONE", type: GgmlType.F32, ne: [8, 4], offset: 0 },
      { op: "NONE", type: GgmlType.F32, ne: [6, 2], offset: 128 },
      { op: "MUL_MAT", type: GgmlType.F32, ne: [4, 2], offset: 256, src: [0, 1] },
    ];
    await expect(runRecs(records(mm), 3)).rejects.toThrow(/MUL_MAT.*ne0 must equal/);
    const rope: RecSpec[] = [
      { op: "NONE", type: GgmlType.F32, ne: [8, 2, 3], offset: 0 },
      { op: "NONE", type: GgmlType.I32, ne: [3], offset: 256 },
      { op: "ROPE", type: GgmlType.F32, ne: [8, 2, 3], offset: 512, src: [0, 1], params: [10, 0, 0, 10000, 1, 0, 1, 32, 1] },
    ];
    await expect(runRecs(records(rope), 3)).rejects.toThrow(/n_dims/);
    const gdn: RecSpec[] = [
      { op: "NONE", type: GgmlType.F32, ne: [4, 1, 2], offset: 0 },
      { op: "NONE", type: GgmlType.F32, ne: [4, 1, 2], offset: 64 },
      { op: "NONE", type: GgmlType.F32, ne: [4, 1, 2], offset: 128 },
      { op: "NONE", type: GgmlType.F32, ne: [1, 1, 2], offset: 192 },
      { op: "NONE", type: GgmlType.F32, ne: [1, 1, 2], offset: 256 },
      { op: "NONE", type: GgmlType.F32, ne: [4, 4, 2], offset: 320 },  // wrong: Hv = 1
      { op: "GATED_DELTA_NET", type: GgmlType.F32, ne: [4 * 2 + 16], offset: 640, src: [0, 1, 2, 3, 4, 5] },
    ];
    await expect(runRecs(records(gdn), 7)).rejects.toThrow(/state/);
  });

  it("refuses to write results into a read-only file mapping", async () => {
    const path = new URL("../../../../shared/fixtures/tiny-kimi-linear-f32.gguf", import.meta.url).pathname;
    const ro = addon.mapFile(path, 0, 4096);
    const r = records(base().map((s, i) => ({ ...s, buffer: i === 2 ? 1 : 0 })));
    await expect(runRecs(r, 3, [addon.allocBuffer(4096), ro])).rejects.toThrow(/read-only/);
    expect(() => addon.setBytes(ro, 0, new Uint8Array(4))).toThrow(/read-only/);
    addon.freeBuffer(ro);
  });

  it("rejects freed buffers and bad byte ranges", () => {
    const b = addon.allocBuffer(64);
    expect(() => addon.getBytes(b, 60, 8)).toThrow(/outside/);
    expect(() => addon.setBytes(b, 63, new Uint8Array(2))).toThrow(/exceed/);
    addon.freeBuffer(b);
    expect(() => addon.getBytes(b, 0, 4)).toThrow(/freed/);
    addon.freeBuffer(b);  // idempotent
  });

  it("reports out-of-range data-dependent indices as errors naming the node", async () => {
    const be = new CpuBackend({ threads: 2 });
    try {
      const a = tensor(GgmlType.F32, [4, 3], Float32Array.from({ length: 12 }, (_, i) => i));
      const idx = tensor(GgmlType.I32, [2], Int32Array.of(1, 7));
      const g = getRows(a, idx).setName("rows");
      await expect(run(be, [g])).rejects.toThrow(/rows.*GET_ROWS: index 7 out of range \[0, 3\)/);
      const as = tensor(GgmlType.F32, [4, 2, 2], new Float32Array(16));
      const b = tensor(GgmlType.F32, [4, 1, 1], new Float32Array(4));
      const ids = tensor(GgmlType.I32, [1, 1], Int32Array.of(-1));
      await expect(run(be, [mulMatId(as, b, ids)])).rejects.toThrow(/expert id -1 out of range/);
      // The backend stays usable after a failed run.
      const x = tensor(GgmlType.F32, [2], [1, 2]);
      expect(Array.from((await run(be, [add(x, x)]))[0])).toEqual([2, 4]);
    } finally {
      be.dispose();
    }
  });

  it("fails compute after dispose with a clear error", async () => {
    const be = new CpuBackend({ threads: 1 });
    be.dispose();
    const x = tensor(GgmlType.F32, [2], [1, 2]);
    await expect(run(be, [add(x, x)])).rejects.toThrow(/disposed/);
  });
});
