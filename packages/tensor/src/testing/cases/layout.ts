// Data movement cases: CPY, CONT, DUP, CONCAT, PAD, SET, REPEAT, GET_ROWS, SET_ROWS.
import { GgmlType, typeName, typeTraits } from "../../types.js";
import { cpy, cont, dup, concat, padExt, set, repeat, getRows, setRows, permute, view } from "../../ops/layout.js";
import { defineCase, quantizedNmse, type OpCase } from "../case.js";
import { uniform, indices, distinctIndices } from "../init.js";
import { permutedInput, prod, NO_PERM, LEGACY_QUANT_TYPES, type Perm } from "./util.js";

const F32 = GgmlType.F32;

function cpyCases(): OpCase[] {
  const out: OpCase[] = [];
  const plain = [GgmlType.F32, GgmlType.F16, GgmlType.BF16];
  for (const ts of plain) for (const td of plain) {
    const ne = [256, 4, 3, 1];
    const nmse = ts === td ? 0 : 1e-6;
    out.push(defineCase("CPY", { type_src: typeName(ts), type_dst: typeName(td), ne }, nmse,
      (b) => cpy(b.input(ts, ne), b.input(td, ne))));
  }
  // Non-contiguous source and destination views.
  for (const p of [[0, 2, 1, 3], [1, 0, 2, 3], [0, 3, 1, 2]] as Perm[]) {
    const ne = [32, 6, 5, 2];
    out.push(defineCase("CPY", { type_src: "f32", type_dst: "f32", ne, permute_src: p }, 0,
      (b) => cpy(permutedInput(b, F32, ne, p), b.input(F32, ne))));
    out.push(defineCase("CPY", { type_src: "f32", type_dst: "f16", ne, permute_dst: p }, 1e-6,
      (b) => cpy(b.input(F32, ne), permutedInput(b, GgmlType.F16, ne, p))));
  }
  // Different shapes with the same element count: logical row-major order.
  out.push(defineCase("CPY", { type_src: "f32", type_dst: "f32", ne_src: [6, 4], ne_dst: [8, 3] }, 0,
    (b) => cpy(b.input(F32, [6, 4]), b.input(F32, [8, 3]))));
  // NMSE is scale free, so the U[−150,150] range leaves the one-step bound unchanged.
  for (const td of LEGACY_QUANT_TYPES) {
    const ne = [256, 4, 2, 1];
    const nmse = quantizedNmse(td, prod(ne), true);
    out.push(defineCase("CPY", { type_src: "f32", type_dst: typeName(td), ne }, nmse,
      (b) => cpy(b.input(F32, ne, uniform(-150, 150)), b.input(td, ne))));
  }
  return out;
}

export function layoutCases(): OpCase[] {
  const out = cpyCases();
  for (const p of [NO_PERM, [0, 2, 1, 3], [1, 0, 2, 3], [2, 0, 1, 3]] as Perm[]) {
    const ne = [10, 5, 4, 3];
    out.push(defineCase("CONT", { type: "f32", ne, permute: p }, 0, (b) => cont(permutedInput(b, F32, ne, p))));
    out.push(defineCase("DUP", { type: "f32", ne, permute: p }, 0, (b) => dup(permutedInput(b, F32, ne, p))));
  }
  out.push(defineCase("CONT", { type: "f16", ne: [10, 5, 4, 3], permute: [0, 2, 1, 3] }, 0,
    (b) => cont(permutedInput(b, GgmlType.F16, [10, 5, 4, 3], [0, 2, 1, 3]))));
  // Transposed sources with rows and columns past multiples of 8 (backends copy 8x8 tiles).
  for (const type of [F32, GgmlType.F16]) {
    const ne = [37, 21, 2, 1];
    out.push(defineCase("CONT", { type: typeName(type), ne, permute: [1, 0, 2, 3] }, 0,
      (b) => cont(permutedInput(b, type, ne, [1, 0, 2, 3]))));
  }
  out.push(defineCase("CONT", { type: "f32", ne: [10, 5, 4, 3], shape: [50, 12] }, 0,
    (b) => cont(permute(b.input(F32, [10, 4, 5, 3]), 0, 2, 1, 3), [50, 12])));
  for (let dim = 0; dim < 4; dim++) {
    const ne = [10, 5, 4, 3], neb = [...ne]; neb[dim] = 7;
    out.push(defineCase("CONCAT", { type: "f32", ne_a: ne, ne_b: neb, dim }, 1e-7,
      (b) => concat(b.input(F32, ne), b.input(F32, neb), dim)));
  }
  out.push(defineCase("CONCAT", { type: "f32", ne_a: [10, 5, 4, 3], ne_b: [10, 6, 4, 3], dim: 1, permute_b: [0, 2, 1, 3] }, 1e-7,
    (b) => concat(b.input(F32, [10, 5, 4, 3]), permutedInput(b, F32, [10, 6, 4, 3], [0, 2, 1, 3]), 1)));
  // dim 0 with a transposed b (a causal conv's state followed by new columns), and 16-bit / integer elements.
  out.push(defineCase("CONCAT", { type: "f32", ne_a: [3, 40, 2, 1], ne_b: [2, 40, 2, 1], dim: 0, permute_b: [1, 0, 2, 3] }, 0,
    (b) => concat(b.input(F32, [3, 40, 2, 1]), permutedInput(b, F32, [2, 40, 2, 1], [1, 0, 2, 3]), 0)));
  // ... with many new columns (a prompt's): blocks of 8 rows × 8 columns plus row and column tails
  out.push(defineCase("CONCAT", { type: "f32", ne_a: [3, 37, 2, 1], ne_b: [19, 37, 2, 1], dim: 0, permute_b: [1, 0, 2, 3] }, 0,
    (b) => concat(b.input(F32, [3, 37, 2, 1]), permutedInput(b, F32, [19, 37, 2, 1], [1, 0, 2, 3]), 0)));
  for (const t of [GgmlType.F16, GgmlType.I32] as const)
    for (const dim of [0, 2]) {
      const ne = [9, 5, 4, 2], neb = [...ne]; neb[dim] = 3;
      out.push(defineCase("CONCAT", { type: typeName(t), ne_a: ne, ne_b: neb, dim }, 0,
        (b) => concat(b.input(t, ne, indices(1000)), b.input(t, neb, indices(1000)), dim)));
    }
  for (const pads of [[0, 1, 0, 2, 0, 0, 0, 0], [1, 2, 0, 3, 2, 0, 1, 1]]) {
    const ne = [10, 5, 4, 3];
    out.push(defineCase("PAD", { type: "f32", ne, pads }, 1e-7,
      (b) => padExt(b.input(F32, ne), pads[0], pads[1], pads[2], pads[3], pads[4], pads[5], pads[6], pads[7])));
  }
  out.push(defineCase("PAD", { type: "f32", ne: [10, 5, 4, 3], pads: [0, 3, 0, 1, 0, 0, 0, 0], permute: [0, 2, 1, 3] }, 1e-7,
    (b) => padExt(permutedInput(b, F32, [10, 5, 4, 3], [0, 2, 1, 3]), 0, 3, 0, 1)));
  // SET: a block of b written at an offset of a, in place and not.
  for (const inplace of [false, true]) {
    const ne = [10, 6, 4, 2];
    out.push(defineCase("SET", { type: "f32", ne, ne_b: [4, 3, 2, 1], offset: "[2,1,1,0]", inplace }, 1e-7, (b) => {
      const a = b.input(F32, ne), x = b.input(F32, [4, 3, 2, 1]);
      return set(a, x, a.nb[1], a.nb[2], a.nb[3], 2 * 4 + a.nb[1] + a.nb[2], inplace);
    }));
  }
  out.push(defineCase("SET", { type: "i32", ne: [16, 4], ne_b: [5], offset: 20 }, 0, (b) => {
    const a = b.input(GgmlType.I32, [16, 4], indices(100)), x = b.input(GgmlType.I32, [5], indices(100));
    return set(a, x, a.nb[1], a.nb[2], a.nb[3], 20);
  }));
  for (const [ne, nr] of [[[10, 5, 4, 3], [2, 1, 1, 1]], [[10, 5, 4, 3], [1, 1, 1, 2]], [[2, 1, 3, 1], [3, 4, 2, 2]]]) {
    out.push(defineCase("REPEAT", { type: "f32", ne, nr }, 1e-7,
      (b) => repeat(b.input(F32, ne), ne.map((v, i) => v * nr[i]))));
  }
  out.push(defineCase("REPEAT", { type: "f32", ne: [10, 5, 4, 1], nr: [1, 2, 1, 3], permute: [0, 2, 1, 3] }, 1e-7,
    (b) => repeat(permutedInput(b, F32, [10, 5, 4, 1], [0, 2, 1, 3]), [10, 10, 4, 3])));
  // GET_ROWS from every weight type, with batch dims.
  const grTypes = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
    GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    GgmlType.IQ4_NL, GgmlType.IQ4_XS];
  for (const t of grTypes) for (const [n, r, m, b2] of [[256, 5, 4, 1], [256, 8, 3, 2]]) {
    out.push(defineCase("GET_ROWS", { type: typeName(t), n, r, m, b: b2 }, 1e-7,
      (b) => getRows(b.input(t, [n, r, b2]), b.input(GgmlType.I32, [m, b2], indices(r)))));
  }
  out.push(defineCase("GET_ROWS", { type: "i32", n: 7, r: 10, m: 12, b: 1 }, 0,
    (b) => getRows(b.input(GgmlType.I32, [7, 10], indices(1000)), b.input(GgmlType.I32, [12], indices(10)))));
  out.push(defineCase("GET_ROWS", { type: "f32", n: 16, r: 10, m: 3, b: 1, view_a: "cols 0..15 of 32" }, 1e-7, (b) => {
    const a = b.input(F32, [32, 10]);
    return getRows(view(a, [16, 10], [a.nb[1]]), b.input(GgmlType.I32, [3], indices(10)));
  }));
  // SET_ROWS (KV-cache writes): many dst types, i32/i64 indices, index broadcast over dims 2, 3.
  const srTypes = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, ...LEGACY_QUANT_TYPES];
  for (const t of srTypes) for (const it of [GgmlType.I32, GgmlType.I64]) {
    if (it === GgmlType.I64 && t !== GgmlType.F32 && t !== GgmlType.F16 && t !== GgmlType.Q8_0) continue;
    for (const [n, R, m, b2, b3, i1, i2] of [[64, 10, 3, 1, 1, 1, 1], [32, 8, 4, 2, 3, 1, 3], [256, 5, 2, 2, 1, 2, 1]]) {
      const ne = [n, R, b2, b3];
      const nmse = typeTraits(t).quantized ? quantizedNmse(t, prod(ne)) : 1e-7;
      out.push(defineCase("SET_ROWS", { type: typeName(t), type_idx: typeName(it), ne, m, idx_bcast: [i1, i2] }, nmse,
        (b) => setRows(b.input(t, ne), b.input(F32, [n, m, b2, b3]), b.input(it, [m, i1, i2], distinctIndices(R)))));
    }
  }
  return out;
}
