// Product cases: MUL_MAT (every weight type, batch broadcast, permuted b), MUL_MAT_ID, OUT_PROD.
import { GgmlType, typeName, typeTraits } from "../../types.js";
import { mulMat, mulMatId, outProd } from "../../ops/matmul.js";
import { cont } from "../../ops/layout.js";
import { defineCase, type OpCase } from "../case.js";
import { distinctIndices } from "../init.js";
import { permutedInput, ALL_MATMUL_TYPES, NO_PERM, type Perm } from "./util.js";

const F32 = GgmlType.F32;

interface MM { ta: GgmlType; m: number; n: number; k: number; bs: [number, number]; nr: [number, number]; per?: Perm; only?: "perf" }

function mulMatCase({ ta, m, n, k, bs, nr, per = NO_PERM, only }: MM): OpCase {
  const B2 = bs[0] * nr[0], B3 = bs[1] * nr[1];
  const vars = { type_a: typeName(ta), type_b: "f32", m, n, k, bs, nr, per };
  return defineCase("MUL_MAT", vars, 5e-4,
    (b) => mulMat(b.input(ta, [k, m, bs[0], bs[1]]), permutedInput(b, F32, [k, n, B2, B3], per)),
    { flops: 2 * m * n * k * B2 * B3, only });
}

export function matmulCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const ta of ALL_MATMUL_TYPES) for (const n of [1, 8]) {
    out.push(mulMatCase({ ta, m: 16, n, k: 256, bs: [1, 1], nr: [1, 1] }));
  }
  for (const ta of [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_K]) {
    const k = typeTraits(ta).blockSize === 256 ? 256 : 64;
    out.push(mulMatCase({ ta, m: 9, n: 5, k, bs: [2, 3], nr: [1, 1] }));
    out.push(mulMatCase({ ta, m: 9, n: 5, k, bs: [2, 3], nr: [2, 2] }));
    out.push(mulMatCase({ ta, m: 9, n: 5, k, bs: [2, 1], nr: [1, 2], per: [0, 2, 1, 3] }));
  }
  // Odd sizes (no SIMD-width multiples) and a transposed, then made contiguous, a.
  out.push(mulMatCase({ ta: GgmlType.F32, m: 17, n: 3, k: 37, bs: [1, 1], nr: [1, 1] }));
  out.push(mulMatCase({ ta: GgmlType.F32, m: 7, n: 5, k: 33, bs: [3, 2], nr: [1, 1], per: [0, 3, 2, 1] }));
  out.push(mulMatCase({ ta: GgmlType.F16, m: 33, n: 2, k: 130, bs: [1, 1], nr: [1, 1] }));
  out.push(defineCase("MUL_MAT", { type_a: "f32", type_b: "f32", m: 12, n: 4, k: 10, a: "cont(transpose)" }, 5e-4,
    (b) => mulMat(cont(permutedInput(b, F32, [10, 12], [1, 0, 2, 3])), b.input(F32, [10, 4])), { flops: 2 * 12 * 4 * 10 }));
  // Model-sized perf cases (prompt and decode).
  for (const ta of [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K]) {
    for (const n of [1, 512]) out.push(mulMatCase({ ta, m: 4096, n, k: 2048, bs: [1, 1], nr: [1, 1], only: "perf" }));
  }
  // MUL_MAT_ID: E experts, U used per token, T tokens, b broadcast (one vector for all U) or not.
  for (const ta of ALL_MATMUL_TYPES) for (const bcast of [false, true]) {
    const [E, U, T, m, k] = [4, 2, 3, 16, 256];
    const nb = bcast ? 1 : U;
    out.push(defineCase("MUL_MAT_ID", { type_a: typeName(ta), type_b: "f32", n_mats: E, n_used: U, b: bcast, m, n: T, k }, 5e-4,
      (b) => mulMatId(b.input(ta, [k, m, E]), b.input(F32, [k, nb, T]), b.input(GgmlType.I32, [U, T], distinctIndices(E))),
      { flops: 2 * m * k * U * T }));
  }
  for (const ta of [GgmlType.F16, GgmlType.Q4_K]) {
    const [E, U, T, m, k] = [32, 4, 64, 512, 1024];
    out.push(defineCase("MUL_MAT_ID", { type_a: typeName(ta), type_b: "f32", n_mats: E, n_used: U, b: false, m, n: T, k, size: "perf" }, 5e-4,
      (b) => mulMatId(b.input(ta, [k, m, E]), b.input(F32, [k, U, T]), b.input(GgmlType.I32, [U, T], distinctIndices(E))),
      { flops: 2 * m * k * U * T, only: "perf" }));
  }
  for (const [ne0a, ne0b, k, ba, nr] of [[16, 12, 8, [1, 1], [1, 1]], [10, 7, 33, [2, 3], [2, 1]]] as [number, number, number, number[], number[]][]) {
    const B2 = ba[0] * nr[0], B3 = ba[1] * nr[1];
    out.push(defineCase("OUT_PROD", { type: "f32", ne_a: [ne0a, k, ba[0], ba[1]], ne_b: [ne0b, k, B2, B3] }, 5e-4,
      (b) => outProd(b.input(F32, [ne0a, k, ba[0], ba[1]]), b.input(F32, [ne0b, k, B2, B3])),
      { flops: 2 * ne0a * ne0b * k * B2 * B3 }));
  }
  out.push(defineCase("OUT_PROD", { type: "f32", ne_a: [16, 8], ne_b: [12, 8], permute_b: [1, 0, 2, 3] }, 5e-4,
    (b) => outProd(b.input(F32, [16, 8]), permutedInput(b, F32, [12, 8], [1, 0, 2, 3])), { flops: 2 * 16 * 12 * 8 }));
  return out;
}
