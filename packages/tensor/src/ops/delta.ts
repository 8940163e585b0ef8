// Building blocks of the chunked delta rule and the fused GATED_DELTA_NET (ops.md §8, §9).
import { GgmlType } from "../types.js";
import { Tensor, type Shape4 } from "../tensor.js";
import { TriType } from "./spec.js";
import { check, checkTensor, checkType, checkContiguous, node, shapeStr } from "./define.js";
import { view } from "./layout.js";

/** Keeps the (column i0, row i1) triangle chosen by type, zeroing the rest; a must be square in dims 0, 1. */
export function tri(a: Tensor, type: TriType): Tensor {
  checkTensor("tri", "a", a);
  checkType("tri", "a", a, GgmlType.F32);
  check(a.ne[0] === a.ne[1], "tri", () => `a ${shapeStr(a)} must be square in dims 0 and 1`);
  check(type in TriType, "tri", () => `unknown tri type ${type}`);
  return node("TRI", GgmlType.F32, [...a.ne] as Shape4, [a], { type });
}

/** A tensor of a's shape filled with c. */
export function fill(a: Tensor, c: number): Tensor {
  checkTensor("fill", "a", a);
  checkType("fill", "a", a, GgmlType.F32);
  check(!Number.isNaN(c), "fill", () => `c must be a number`);
  return node("FILL", GgmlType.F32, [...a.ne] as Shape4, [a], { c });
}

/** a [n,1,B2,B3] → diagonal matrices [n,n,B2,B3]. */
export function diag(a: Tensor): Tensor {
  checkTensor("diag", "a", a);
  checkType("diag", "a", a, GgmlType.F32);
  check(a.ne[1] === 1, "diag", () => `a ${shapeStr(a)} must have ne[1] = 1`);
  return node("DIAG", GgmlType.F32, [a.ne[0], a.ne[0], a.ne[2], a.ne[3]], [a]);
}

/** Solves A·X = B by forward substitution; A [n,n,B2,B3] lower triangular, B [k,n,B2,B3]. */
export function solveTri(A: Tensor, B: Tensor, left = true, lower = true, uni = false): Tensor {
  const op = "solveTri";
  checkTensor(op, "A", A); checkTensor(op, "B", B);
  checkType(op, "A", A, GgmlType.F32); checkType(op, "B", B, GgmlType.F32);
  check(left && lower && !uni, op, () => `only left=true, lower=true, uni=false is supported`);
  checkContiguous(op, "A", A); checkContiguous(op, "B", B);
  check(A.ne[0] === A.ne[1], op, () => `A ${shapeStr(A)} must be square`);
  check(B.ne[1] === A.ne[0] && B.ne[2] === A.ne[2] && B.ne[3] === A.ne[3], op, () =>
    `B ${shapeStr(B)} must be [k, ${A.ne[0]}, ${A.ne[2]}, ${A.ne[3]}] for A ${shapeStr(A)}`);
  return node("SOLVE_TRI", GgmlType.F32, [...B.ne] as Shape4, [A, B], { left: 1, lower: 1, uni: 0 });
}

/** Depthwise causal conv: sx [K−1+T, C, S], c [K, C] → [C, T, S] (channel fastest). */
export function ssmConv(sx: Tensor, c: Tensor): Tensor {
  const op = "ssmConv";
  checkTensor(op, "sx", sx); checkTensor(op, "c", c);
  checkType(op, "sx", sx, GgmlType.F32); checkType(op, "c", c, GgmlType.F32);
  check(c.ne[2] === 1 && c.ne[3] === 1 && sx.ne[3] === 1, op, () => `c ${shapeStr(c)} must be 2-D and sx ${shapeStr(sx)} 3-D`);
  check(sx.ne[1] === c.ne[1], op, () => `sx channels ${sx.ne[1]} must equal c channels ${c.ne[1]}`);
  check(sx.ne[0] >= c.ne[0], op, () => `sx length ${sx.ne[0]} must be >= kernel ${c.ne[0]}`);
  check(c.nb[0] === 4 && sx.nb[0] === 4, op, () => `sx and c rows must be contiguous`);
  const T = sx.ne[0] - c.ne[0] + 1;
  return node("SSM_CONV", GgmlType.F32, [c.ne[1], T, sx.ne[2], 1], [sx, c]);
}

export interface DeltaRuleDims { S: number; Hk: number; Hv: number; T: number; N: number; kda: boolean }

/** Argument checks shared by the fused op and the decomposed delta-rule graphs (nn/delta-rule.ts). */
export function checkDeltaRuleArgs(op: string, q: Tensor, k: Tensor, v: Tensor, g: Tensor, beta: Tensor,
                                   state: Tensor): DeltaRuleDims {
  for (const [n, t] of [["q", q], ["k", k], ["v", v], ["g", g], ["beta", beta], ["state", state]] as const) {
    checkTensor(op, n, t);
    checkType(op, n, t, GgmlType.F32);
  }
  const [S, Hk, T, N] = q.ne;
  const Hv = v.ne[1];
  check(k.ne.every((x, i) => x === q.ne[i]), op, () => `k ${shapeStr(k)} must equal q ${shapeStr(q)}`);
  check(v.ne[0] === S && v.ne[2] === T && v.ne[3] === N, op, () =>
    `v ${shapeStr(v)} must be [${S}, H_v, ${T}, ${N}] for q ${shapeStr(q)}`);
  check(Hv % Hk === 0, op, () => `value heads ${Hv} must be a multiple of key heads ${Hk}`);
  check((g.ne[0] === 1 || g.ne[0] === S) && g.ne[1] === Hv && g.ne[2] === T && g.ne[3] === N, op, () =>
    `g ${shapeStr(g)} must be [1 or ${S}, ${Hv}, ${T}, ${N}]`);
  check(beta.ne[0] === 1 && beta.ne[1] === Hv && beta.ne[2] === T && beta.ne[3] === N, op, () =>
    `beta ${shapeStr(beta)} must be [1, ${Hv}, ${T}, ${N}]`);
  check(state.ne[0] === S && state.ne[1] === S && state.ne[2] === Hv && state.ne[3] === N, op, () =>
    `state ${shapeStr(state)} must be [${S}, ${S}, ${Hv}, ${N}]`);
  return { S, Hk, Hv, T, N, kda: g.ne[0] !== 1 };
}

export interface GatedDeltaNetResult {
  /** Raw result: [S_v·H_v·T·N + S_v·S_v·H_v·N] floats. */
  node: Tensor;
  /** Attention output [S_v, H_v, T, N]. */
  output: Tensor;
  /** New state [S_k, S_v, H_v, N], key index contiguous. */
  state: Tensor;
}

/**
 * The whole delta rule for a micro-batch. q, k [S, H_k, T, N] (L2-normalised, q not pre-scaled),
 * v [S, H_v, T, N], g [1|S, H_v, T, N] log-decay (scalar gate or per key channel), beta [1, H_v, T, N],
 * state [S, S, H_v, N]. Value head h reads q/k head ⌊h/(H_v/H_k)⌋.
 */
export function gatedDeltaNet(q: Tensor, k: Tensor, v: Tensor, g: Tensor, beta: Tensor, state: Tensor): GatedDeltaNetResult {
  const { S, Hv, T, N } = checkDeltaRuleArgs("gatedDeltaNet", q, k, v, g, beta, state);
  const nOut = S * Hv * T * N;
  const raw = node("GATED_DELTA_NET", GgmlType.F32, [nOut + S * S * Hv * N, 1, 1, 1], [q, k, v, g, beta, state]);
  const output = view(raw, [S, Hv, T, N]);
  const newState = view(raw, [S, S, Hv, N], undefined, nOut * 4);
  return { node: raw, output, state: newState };
}
