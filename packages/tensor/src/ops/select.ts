// Sorting and top-k selection (ops.md §7).
import { GgmlType } from "../types.js";
import { Tensor, type Shape4 } from "../tensor.js";
import { SortOrder } from "./spec.js";
import { check, checkTensor, checkType, node, shapeStr } from "./define.js";
import { view } from "./layout.js";

export function argsort(a: Tensor, order: SortOrder = SortOrder.ASC): Tensor {
  checkTensor("argsort", "a", a);
  checkType("argsort", "a", a, GgmlType.F32);
  check(order === SortOrder.ASC || order === SortOrder.DESC, "argsort", () => `order must be 0 (asc) or 1 (desc)`);
  return node("ARGSORT", GgmlType.I32, [...a.ne] as Shape4, [a], { order });
}

/** Indices of the k largest values per row, in no particular order. */
export function topK(a: Tensor, k: number): Tensor {
  checkTensor("topK", "a", a);
  checkType("topK", "a", a, GgmlType.F32);
  check(Number.isInteger(k) && k >= 1 && k <= a.ne[0], "topK", () => `k=${k} must be in 1..${a.ne[0]} for a ${shapeStr(a)}`);
  return node("TOP_K", GgmlType.I32, [k, a.ne[1], a.ne[2], a.ne[3]], [a], { k });
}

/** DESC argsort then a view of the first k columns (the MoE selection in llama.cpp). */
export function argsortTopK(a: Tensor, k: number): Tensor {
  check(Number.isInteger(k) && k >= 1 && k <= a.ne[0], "argsortTopK", () => `k=${k} must be in 1..${a.ne[0]}`);
  const s = argsort(a, SortOrder.DESC);
  return view(s, [k, s.ne[1], s.ne[2], s.ne[3]], [s.nb[1], s.nb[2], s.nb[3]], 0);
}
