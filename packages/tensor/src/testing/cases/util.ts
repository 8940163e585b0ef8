// Shared helpers for case lists: permuted (non-contiguous) inputs and type lists.
import { GgmlType, type TypeLike } from "../../types.js";
import type { Tensor } from "../../tensor.js";
import { permute } from "../../ops/layout.js";
import type { CaseBuilder } from "../case.js";
import type { InitFn } from "../init.js";

export type Perm = readonly [number, number, number, number];
export const NO_PERM: Perm = [0, 1, 2, 3];
export const isIdentity = (p: Perm) => p.every((x, i) => x === i);

/**
 * An input of logical shape `ne` that is a permuted view of a contiguous leaf when `perm` is not the
 * identity (llama.cpp's `per` cases): the leaf has shape L with L[i] = ne[perm[i]].
 */
export function permutedInput(b: CaseBuilder, type: TypeLike, ne: readonly number[], perm: Perm = NO_PERM, init?: InitFn): Tensor {
  const n4 = [...ne, 1, 1, 1, 1].slice(0, 4);
  if (isIdentity(perm)) return b.input(type, n4, init);
  const leaf = b.input(type, perm.map((p) => n4[p]), init);
  return permute(leaf, perm[0], perm[1], perm[2], perm[3]);
}

export const prod = (ne: readonly number[]) => ne.reduce((a, x) => a * x, 1);

export const ALL_MATMUL_TYPES: readonly GgmlType[] = [
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
  GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL,
  GgmlType.IQ4_XS,
];
export const LEGACY_QUANT_TYPES: readonly GgmlType[] = [
  GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.IQ4_NL,
];
