// Reductions and normalisations along ne0 (ops.md §4).
import { GgmlType } from "../types.js";
import { Tensor, type Shape4 } from "../tensor.js";
import { check, checkTensor, checkType, checkSameShape, node, shapeStr } from "./define.js";

const f32In = (op: string, a: Tensor) => { checkTensor(op, "a", a); checkType(op, "a", a, GgmlType.F32); };

export function sum(a: Tensor): Tensor { f32In("sum", a); return node("SUM", GgmlType.F32, [1, 1, 1, 1], [a]); }
export function sumRows(a: Tensor): Tensor {
  f32In("sumRows", a); return node("SUM_ROWS", GgmlType.F32, [1, a.ne[1], a.ne[2], a.ne[3]], [a]);
}
export function mean(a: Tensor): Tensor {
  f32In("mean", a); return node("MEAN", GgmlType.F32, [1, a.ne[1], a.ne[2], a.ne[3]], [a]);
}
/** Index of each row's maximum (the last one on ties, like ggml-cpu); a must be 2-D. */
export function argmax(a: Tensor): Tensor {
  f32In("argmax", a);
  check(a.ne[2] === 1 && a.ne[3] === 1, "argmax", () => `a ${shapeStr(a)} must be 2-D`);
  return node("ARGMAX", GgmlType.I32, [a.ne[1], 1, 1, 1], [a]);
}
/** Number of equal elements of two i32 tensors, as an i64 scalar. */
export function countEqual(a: Tensor, b: Tensor): Tensor {
  checkTensor("countEqual", "a", a); checkTensor("countEqual", "b", b);
  checkType("countEqual", "a", a, GgmlType.I32); checkType("countEqual", "b", b, GgmlType.I32);
  checkSameShape("countEqual", a, b);
  return node("COUNT_EQUAL", GgmlType.I64, [1, 1, 1, 1], [a, b]);
}
/** Inclusive prefix sum along ne0. */
export function cumsum(a: Tensor): Tensor { f32In("cumsum", a); return node("CUMSUM", GgmlType.F32, [...a.ne] as Shape4, [a]); }

const norm_ = (op: "RMS_NORM" | "NORM" | "L2_NORM", name: string) => (a: Tensor, eps: number): Tensor => {
  f32In(name, a);
  check(Number.isFinite(eps) && eps >= 0, name, () => `eps must be finite and >= 0, got ${eps}`);
  return node(op, GgmlType.F32, [...a.ne] as Shape4, [a], { eps });
};
/** x / sqrt(mean(x²) + eps) */
export const rmsNorm = norm_("RMS_NORM", "rmsNorm");
/** (x − μ) / sqrt(σ² + eps) */
export const norm = norm_("NORM", "norm");
/** x / max(‖x‖₂, eps) */
export const l2Norm = norm_("L2_NORM", "l2Norm");
