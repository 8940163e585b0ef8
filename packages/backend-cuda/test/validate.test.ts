// Host-side record validation (no device needed): valid graphs pass, every corrupted field is rejected with
// a message naming the record, and random corruption never crashes the process.
import { describe, expect, it } from "vitest";
import {
  F, Graph, GgmlType, REC, add, flashAttnExt, gatedDeltaNet, getRows, mulMat, mulMatId, planMemory, rmsNorm, rope,
  serializeGraph, softMax, tensor, type Tensor,
} from "@ggts/tensor";
import { ADDON_PATH, tryLoadAddon } from "@ggts/backend-cuda";
import { existsSync } from "node:fs";

const addon = existsSync(ADDON_PATH) ? tryLoadAddon() : null;

function serialize(outputs: Tensor[]): { records: Float64Array; size: number; index: Map<Tensor, number> } {
  const g = new Graph(outputs);
  const plan = planMemory(g, () => true);
  const ser = serializeGraph(g, (root) => [0, plan.offsets.get(root)!], plan.inplace);
  return { records: ser.records, size: plan.size, index: ser.index };
}

function sample() {
  const x = tensor(GgmlType.F32, [64, 4]);
  const w = tensor(GgmlType.Q4_K, [256, 32]);
  const xb = tensor(GgmlType.F32, [256, 4]);
  const y = mulMat(w, xb);
  const h = rmsNorm(add(x, x), 1e-6);
  const pos = tensor(GgmlType.I32, [4]);
  const r = rope(tensor(GgmlType.F32, [64, 2, 4]), pos, { nDims: 64 });
  const q = tensor(GgmlType.F32, [576, 1, 8]), k = tensor(GgmlType.F16, [576, 16, 1]), v = tensor(GgmlType.F16, [512, 16, 1]);
  const fa = flashAttnExt(q, k, v, { scale: 0.1 });
  const sm = softMax(tensor(GgmlType.F32, [16, 4, 2]), { mask: tensor(GgmlType.F16, [16, 4]), scale: 0.5 });
  const gd = gatedDeltaNet(tensor(GgmlType.F32, [128, 2, 3, 1]), tensor(GgmlType.F32, [128, 2, 3, 1]),
    tensor(GgmlType.F32, [128, 4, 3, 1]), tensor(GgmlType.F32, [1, 4, 3, 1]), tensor(GgmlType.F32, [1, 4, 3, 1]),
    tensor(GgmlType.F32, [128, 128, 4, 1]));
  const ids = tensor(GgmlType.I32, [2, 3]);
  const moe = mulMatId(tensor(GgmlType.Q6_K, [256, 16, 4]), tensor(GgmlType.F32, [256, 1, 3]), ids);
  const rows = getRows(tensor(GgmlType.Q8_0, [64, 10]), tensor(GgmlType.I32, [3]));
  return { outputs: [y, h, r, fa, sm, gd.node, moe, rows], y, h };
}

describe.skipIf(addon === null)("validateGraph (host only)", () => {
  const v = (rec: Float64Array, size: number, ro?: Uint8Array) => addon!.validateGraph(rec, Float64Array.of(size), ro);

  it("accepts a valid graph", () => {
    const { outputs } = sample();
    const s = serialize(outputs);
    expect(v(s.records, s.size)).toBeNull();
  });

  const cases: [string, (rec: Float64Array, i: number, s: ReturnType<typeof serialize>) => void, RegExp][] = [
    ["unknown op code", (r, i) => { r[i * REC + F.op] = 9999; }, /op code/],
    ["fractional dim", (r, i) => { r[i * REC + F.ne + 1] = 1.5; }, /ne = 1.5/],
    ["negative stride", (r, i) => { r[i * REC + F.nb + 1] = -4; }, /nb = -4/],
    ["span past the buffer", (r, i, s) => { r[i * REC + F.offset] = s.size; }, /beyond its buffer/],
    ["missing buffer slot", (r, i) => { r[i * REC + F.buffer] = 1; }, /buffer slot/],
    ["forward source", (r, i) => { r[i * REC + F.src] = i; }, /source record index/],
    ["NaN parameter", (r, i) => { r[i * REC + F.params] = NaN; }, /NaN/],
    ["wrong parameter count", (r, i) => { r[i * REC + F.nParams] = 3; }, /parameter count/],
    ["wrong b type", (r, i, s) => { const b = r[i * REC + F.src + 1]; r[b * REC + F.type] = GgmlType.F16; void s; }, /unsupported type|block size|stride|element size/],
    ["unknown type id", (r, i) => { r[i * REC + F.type] = 4; }, /unknown tensor type id 4/],
    ["too many sources", (r, i) => { r[i * REC + F.nSrc] = 9; }, /source count/],
    ["leaf flag on a compute node", (r, i) => { r[i * REC + F.flags] = 4; }, /leaf flag/],
  ];
  for (const [name, corrupt, msg] of cases) {
    it(`rejects ${name} and names the record`, () => {
      const { outputs, y, h } = sample();
      const s = serialize(outputs);
      // Parameter corruption needs a node that has parameters (RMS_NORM's eps).
      const i = name.includes("parameter") && !name.includes("count") ? s.index.get(h)! : s.index.get(y)!;
      const rec = s.records.slice();
      corrupt(rec, i, s);
      const err = v(rec, s.size);
      expect(err).not.toBeNull();
      expect(err!.message).toMatch(msg);
      expect(err!.message).toMatch(/^cuda: record \d+ /);
    });
  }

  it("rejects a result written into a read-only buffer", () => {
    const { outputs } = sample();
    const s = serialize(outputs);
    expect(v(s.records, s.size, Uint8Array.of(1))?.message).toMatch(/read-only/);
  });

  it("rejects shape mismatches per op", () => {
    const { outputs, h } = sample();
    const s = serialize(outputs);
    const i = s.index.get(h)!;
    const rec = s.records.slice();
    rec[i * REC + F.ne + 0] = 32; // dst no longer has a's shape
    rec[i * REC + F.nb + 1] = 128;
    expect(v(rec, s.size)?.message).toMatch(/RMS_NORM.*must have a's shape/);
  });

  it("rejects non-typed-array input from JS", () => {
    expect(() => addon!.validateGraph([1, 2, 3] as unknown as Float64Array, Float64Array.of(1))).toThrow(/Float64Array/);
    expect(() => addon!.validateGraph(new Float64Array(REC + 1), Float64Array.of(1))).toThrow(/multiple of/);
  });

  it("survives random corruption of any field", () => {
    const { outputs } = sample();
    const s = serialize(outputs);
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    const specials = [-1, 0, 1, 2.5, 2 ** 31, 2 ** 53, -(2 ** 60), NaN, Infinity, -Infinity, 1e300, 255];
    let rejected = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const rec = s.records.slice();
      for (let m = 0; m < 1 + Math.floor(rnd() * 3); m++) {
        const at = Math.floor(rnd() * rec.length);
        rec[at] = rnd() < 0.5 ? specials[Math.floor(rnd() * specials.length)] : Math.floor(rec[at] * (rnd() * 4 - 1));
      }
      const err = v(rec, s.size);
      if (err) { rejected++; expect(err.message).toMatch(/^cuda: record \d+/); }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});
