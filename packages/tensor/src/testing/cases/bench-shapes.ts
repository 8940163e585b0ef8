// Perf-only cases at the shapes of llama.cpp's test-backend-ops perf list (b8115) and of Kimi-Linear-48B-A3B,
// so `ggts test-ops perf` and `test-backend-ops perf` can be compared case by case (see BENCHMARKS.md).
import { GgmlType, typeName } from "../../types.js";
import { mulMat, mulMatId } from "../../ops/matmul.js";
import { softMax } from "../../ops/attention.js";
import { cumsum } from "../../ops/reduce.js";
import { solveTri } from "../../ops/delta.js";
import { defineCase, type OpCase } from "../case.js";
import { distinctIndices, lowerTriangular } from "../init.js";
import { buildGdn, gdnFlops, type GdnParams } from "./delta.js";

const F32 = GgmlType.F32;
const PERF = { only: "perf" } as const;

function mm(ta: GgmlType, m: number, n: number, k: number): OpCase {
  return defineCase("MUL_MAT", { type_a: typeName(ta), type_b: "f32", m, n, k, bs: [1, 1], nr: [1, 1], per: [0, 1, 2, 3] }, 5e-4,
    (b) => mulMat(b.input(ta, [k, m]), b.input(F32, [k, n])), { flops: 2 * m * n * k, ...PERF });
}

function mmId(ta: GgmlType, E: number, U: number, m: number, n: number, k: number): OpCase {
  return defineCase("MUL_MAT_ID", { type_a: typeName(ta), type_b: "f32", n_mats: E, n_used: U, b: false, m, n, k }, 5e-4,
    (b) => mulMatId(b.input(ta, [k, m, E]), b.input(F32, [k, U, n]), b.input(GgmlType.I32, [U, n], distinctIndices(E))),
    { flops: 2 * m * k * U * n, ...PERF });
}

export function benchShapeCases(): OpCase[] {
  const out: OpCase[] = [];
  // test-backend-ops: MUL_MAT m=4096, k=14336 (n = batch).
  for (const n of [1, 512]) for (const ta of [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K]) out.push(mm(ta, 4096, n, 14336));
  // Every other weight type at the same decode shape (test-backend-ops has them there too).
  for (const ta of [GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.IQ4_NL,
    GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q5_K, GgmlType.IQ4_XS]) out.push(mm(ta, 4096, 1, 14336));
  // Kimi's expert matrices, 2304×1024 (gate/up) and 1024×2304 (down), in the same five types.
  for (const n of [1, 512]) for (const ta of [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K]) {
    out.push(mm(ta, 1024, n, 2304), mm(ta, 2304, n, 1024));
  }
  // test-backend-ops "qwen3-30b-a3b" MUL_MAT_ID, and Kimi's 64-of-256-expert slice (8 used, 1024×2304).
  for (const n of [1, 512]) for (const ta of [GgmlType.Q4_K, GgmlType.F16]) out.push(mmId(ta, 128, 8, 768, n, 2048));
  for (const n of [1, 512]) out.push(mmId(GgmlType.Q4_K, 64, 8, 1024, n, 2304));
  // The one test-backend-ops SOLVE_TRI perf shape delta.ts does not already have.
  out.push(defineCase("SOLVE_TRI", { type: "f32", ne_lhs: [128, 128, 4, 2], ne_rhs: [32, 128, 4, 2] }, 1e-7,
    (b) => solveTri(b.input(F32, [128, 128, 4, 2], lowerTriangular()), b.input(F32, [32, 128, 4, 2])), { flops: 128 * 128 * 32 * 8, ...PERF }));
  for (const ne of [[128, 128, 4, 4], [2048, 16, 5, 4], [20000, 10, 4, 1], [131072, 4, 1, 1]]) {
    out.push(defineCase("CUMSUM", { type: "f32", ne }, 1e-7, (b) => cumsum(b.input(F32, ne)), PERF));
  }
  for (const ne of [[4096, 4096, 5, 1], [1024, 1024, 10, 1], [32768, 16, 1, 1]]) {
    out.push(defineCase("SOFT_MAX", { type: "f32", ne }, 1e-6, (b) => softMax(b.input(F32, ne)), PERF));
  }
  // A 512-token prompt through one Kimi / Qwen3-Next-sized delta-net layer (32 heads of 128).
  for (const kda of [false, true]) {
    const p: GdnParams = { H: 32, S: 128, T: 512, N: 1, kda };
    out.push(defineCase("GATED_DELTA_NET", { heads: 32, head_size: 128, n_seq_tokens: 512, n_seqs: 1, kda, size: "perf" }, 1e-7,
      (b) => buildGdn(b, p), { flops: gdnFlops(p), ...PERF }));
  }
  return out;
}
