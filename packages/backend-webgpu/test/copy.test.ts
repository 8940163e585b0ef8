// Data movement on WebGPU against the reference: CPY (converting and quantizing), CONT, DUP, CONCAT, PAD, SET,
// REPEAT, GET_ROWS (every weight type), SET_ROWS (KV-cache writes, i32/i64 indices, broadcast).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as T from "@ggts/tensor";
import { GgmlType as G, tensor } from "@ggts/tensor";
import { defineCases, f32, gpuOrReason, i32, rand, typed, type Case } from "./helpers.js";
import type { WebGpuBackend } from "../src/index.js";

const probe = await gpuOrReason();
let gpu: WebGpuBackend | null = null;

/** ops.md §10: one quantization step per tensor, relative to mean-square data. */
const qtol = (t: G, n: number) => {
  const e = t === G.Q8_0 ? 1 / 64 : t === G.Q5_0 || t === G.Q5_1 ? 1 / 16 : 1 / 8;
  return (e * e) / (0.25 * n);
};
const rows = (n: number, r: number) => Array.from({ length: n }, () => Math.floor(rand() * r));
const WEIGHT_TYPES = [G.F32, G.F16, G.BF16, G.Q4_0, G.Q4_1, G.Q5_0, G.Q5_1, G.Q8_0, G.Q2_K, G.Q3_K, G.Q4_K, G.Q5_K,
  G.Q6_K, G.IQ4_NL, G.IQ4_XS];

const cases: Case[] = [
  { name: "cpy f32->f32 transposed", build: () => [T.cpy(T.transpose(f32([6, 5, 2])), tensor(G.F32, [5, 6, 2]))] },
  { name: "cpy f32->f16", build: () => [T.cpy(f32([33, 5]), tensor(G.F16, [33, 5]))], tol: 1e-6 },
  { name: "cpy f32->bf16", build: () => [T.cpy(f32([33, 5]), tensor(G.BF16, [33, 5]))], tol: 1e-4 },
  { name: "cpy f16->f32 permuted", build: () => [T.cpy(T.permute(typed(G.F16, [4, 6, 3]), 1, 0, 2), tensor(G.F32, [6, 4, 3]))] },
  { name: "cpy f32->f16 into a strided view", build: () => {
    const cache = typed(G.F16, [8, 10, 2]);
    return [T.cpy(f32([8, 3, 2]), T.view(cache, [8, 3, 2], [cache.nb[1], cache.nb[2]], 4 * cache.nb[1]))];
  }, tol: 1e-6 },
  ...[G.Q8_0, G.Q4_0, G.Q4_1, G.Q5_0, G.Q5_1].map((t): Case => ({
    name: `cpy f32->${T.typeName(t)}`, build: () => [T.cpy(f32([64, 4], -150, 150), tensor(t, [64, 4]))], tol: qtol(t, 256),
  })),
  { name: "cpy q8_0->f32", build: () => [T.cpy(typed(G.Q8_0, [64, 3]), tensor(G.F32, [64, 3]))] },
  { name: "cpy i32->i32 exact", build: () => [T.cpy(i32([5], [1 << 30, -7, 3, 16777217, 0]), tensor(G.I32, [5]))], tol: 0 },
  { name: "cont permuted", build: () => [T.cont(T.permute(f32([5, 4, 3, 2]), 3, 1, 0, 2))] },
  { name: "cont f16 transposed", build: () => [T.cont(T.transpose(typed(G.F16, [7, 5])))] },
  { name: "cont quantized", build: () => [T.cont(typed(G.Q4_0, [64, 3]))] },
  { name: "dup", build: () => [T.dup(f32([7, 3]))] },
  ...[0, 1, 2, 3].map((d): Case => ({
    name: `concat dim ${d}`, build: () => {
      const sa = [4, 3, 2, 2], sb = [...sa];
      sb[d] = 3;
      return [T.concat(f32(sa), f32(sb), d)];
    },
  })),
  { name: "concat i32", build: () => [T.concat(i32([3], [1, 2, 3]), i32([2], [4, 5]), 0)], tol: 0 },
  { name: "pad", build: () => [T.pad(f32([5, 3, 2]), 2, 1, 1, 0)] },
  { name: "pad_ext", build: () => [T.padExt(f32([5, 3, 2]), 1, 2, 2, 1, 0, 1)] },
  { name: "set", build: () => [T.set(f32([8, 6]), f32([3, 2]), 32, 0, 0, 4 * 9)] },
  { name: "set in place", build: () => [T.set(T.scale(f32([8, 6]), 2), f32([3, 2]), 32, 192, 192, 4 * 9, true)] },
  { name: "repeat", build: () => [T.repeat(f32([3, 2, 1, 2]), [6, 4, 3, 2])] },
  ...WEIGHT_TYPES.map((t): Case => ({
    name: `get_rows ${T.typeName(t)}`, build: () => [T.getRows(typed(t, [256, 9]), i32([5], [3, 0, 8, 3, 5]))],
  })),
  { name: "get_rows batched", build: () => [T.getRows(f32([6, 5, 3]), i32([4, 3], rows(12, 5)))] },
  { name: "get_rows i32", build: () => [T.getRows(i32([2, 4], [1, 2, 3, 4, 5, 6, 7, 8]), i32([3], [3, 0, 2]))], tol: 0 },
  { name: "set_rows f32 i32 idx", build: () => [T.setRows(f32([8, 10, 2]), f32([8, 3, 2]), i32([3, 2], [7, 1, 4, 0, 9, 2]))] },
  { name: "set_rows f16 broadcast idx", build: () => [T.setRows(typed(G.F16, [8, 10, 4]), f32([8, 3, 4]), i32([3, 2], [7, 1, 4, 0, 9, 2]))], tol: 1e-6 },
  { name: "set_rows f32 i64 idx", build: () => [T.setRows(f32([8, 10]), f32([8, 3]), tensor(G.I64, [3], BigInt64Array.from([5n, 0n, 9n])))] },
  ...[G.Q8_0, G.Q4_0, G.Q4_1, G.Q5_0, G.Q5_1].map((t): Case => ({
    name: `set_rows ${T.typeName(t)}`, build: () => [T.setRows(typed(t, [64, 6]), f32([64, 2]), i32([2], [4, 1]))], tol: qtol(t, 64 * 6),
  })),
];

describe.skipIf(!probe.gpu)(`webgpu copy ${probe.reason}`, () => {
  beforeAll(() => { gpu = probe.gpu; });
  afterAll(() => gpu?.dispose());
  defineCases(it, () => gpu, cases, expect);
});
if (!probe.gpu) it.skip(`webgpu unavailable: ${probe.reason}`, () => { /* skipped with the reason */ });
