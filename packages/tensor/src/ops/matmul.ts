// Matrix products (ops.md §5).
import { GgmlType, typeTraits } from "../types.js";
import { Tensor } from "../tensor.js";
import { check, checkTensor, checkType, node, shapeStr } from "./define.js";

/** out[n,m,i2,i3] = Σ_k a[k,n,⌊i2/(B2/A2)⌋,⌊i3/(B3/A3)⌋]·b[k,m,i2,i3]  (aᵀ·b, interleaved batch broadcast). */
export function mulMat(a: Tensor, b: Tensor): Tensor {
  checkTensor("mulMat", "a", a); checkTensor("mulMat", "b", b);
  checkType("mulMat", "b", b, GgmlType.F32);
  check(a.ne[0] === b.ne[0], "mulMat", () => `a.ne[0]=${a.ne[0]} must equal b.ne[0]=${b.ne[0]} (a ${shapeStr(a)}, b ${shapeStr(b)})`);
  check(b.ne[2] % a.ne[2] === 0 && b.ne[3] % a.ne[3] === 0, "mulMat", () =>
    `batch dims of b ${shapeStr(b)} must be multiples of a ${shapeStr(a)}'s`);
  check(a.nb[0] === typeTraits(a.type).typeSize, "mulMat", () => `a ${shapeStr(a)} must not be transposed`);
  check(a.type !== GgmlType.I32 && a.type !== GgmlType.I64 && a.type !== GgmlType.I8 && a.type !== GgmlType.I16,
    "mulMat", () => `a has integer type ${a.typeName}`);
  return node("MUL_MAT", GgmlType.F32, [a.ne[1], b.ne[1], b.ne[2], b.ne[3]], [a, b]);
}

/** MoE: out[:,s,t] = as[:,:,ids[s,t]]ᵀ · b[:, s mod nb, t]. as [K,N,E], b [K,nb,T], ids i32 [k,T] → [N,k,T]. */
export function mulMatId(as: Tensor, b: Tensor, ids: Tensor): Tensor {
  checkTensor("mulMatId", "as", as); checkTensor("mulMatId", "b", b); checkTensor("mulMatId", "ids", ids);
  checkType("mulMatId", "b", b, GgmlType.F32);
  checkType("mulMatId", "ids", ids, GgmlType.I32);
  check(as.ne[3] === 1 && b.ne[3] === 1 && ids.ne[2] === 1 && ids.ne[3] === 1, "mulMatId", () =>
    `as ${shapeStr(as)} and b ${shapeStr(b)} must be 3-D, ids ${shapeStr(ids)} 2-D`);
  check(as.ne[0] === b.ne[0], "mulMatId", () => `as.ne[0]=${as.ne[0]} must equal b.ne[0]=${b.ne[0]}`);
  check(ids.ne[1] === b.ne[2], "mulMatId", () => `ids ${shapeStr(ids)} must have ne[1] = b.ne[2] = ${b.ne[2]}`);
  check(ids.ne[0] % b.ne[1] === 0, "mulMatId", () => `b.ne[1]=${b.ne[1]} must divide ids.ne[0]=${ids.ne[0]}`);
  check(as.nb[0] === typeTraits(as.type).typeSize, "mulMatId", () => `as must not be transposed`);
  return node("MUL_MAT_ID", GgmlType.F32, [as.ne[1], ids.ne[0], b.ne[2], 1], [as, b, ids]);
}

/** out[i,j,…] = Σ_k a[i,k,…]·b[j,k,…]  (a·bᵀ), with b's batch dims a multiple of a's. */
export function outProd(a: Tensor, b: Tensor): Tensor {
  checkTensor("outProd", "a", a); checkTensor("outProd", "b", b);
  checkType("outProd", "a", a, GgmlType.F32); checkType("outProd", "b", b, GgmlType.F32);
  check(a.ne[1] === b.ne[1], "outProd", () => `a.ne[1]=${a.ne[1]} must equal b.ne[1]=${b.ne[1]}`);
  check(b.ne[2] % a.ne[2] === 0 && b.ne[3] % a.ne[3] === 0, "outProd", () =>
    `batch dims of b ${shapeStr(b)} must be multiples of a ${shapeStr(a)}'s`);
  return node("OUT_PROD", GgmlType.F32, [a.ne[0], b.ne[0], b.ne[2], b.ne[3]], [a, b]);
}
