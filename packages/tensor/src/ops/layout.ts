// Views and data movement: VIEW, RESHAPE, PERMUTE, TRANSPOSE, CPY, CONT, DUP, CONCAT, PAD, SET, REPEAT,
// GET_ROWS, SET_ROWS (ggml semantics, ops.md §2).
import { GgmlType, typeTraits } from "../types.js";
import { Tensor, contiguousStrides, toShape4, nBytesOf, type Shape4 } from "../tensor.js";
import { check, checkTensor, checkType, checkContiguous, checkInt, node, viewNode, shapeStr } from "./define.js";

/** view(a, ne, nb1..nb3, offset): nb0 is the element size; nb defaults to a's (contiguous) strides. */
export function view(a: Tensor, shape: readonly number[], nb?: readonly number[], offset = 0): Tensor {
  checkTensor("view", "a", a);
  const ne = toShape4(shape, "view");
  const tr = typeTraits(a.type);
  const strides: Shape4 = [tr.typeSize, 0, 0, 0];
  const cs = contiguousStrides(a.type, ne);
  for (let i = 1; i < 4; i++) strides[i] = nb?.[i - 1] ?? cs[i];
  checkInt("view", "offset", offset, 0);
  const bytes = nBytesOf(a.type, ne, strides);
  const avail = a.root.nBytes - a.viewOffset;
  check(offset + bytes <= avail, "view", () =>
    `view [${ne.join(",")}] at offset ${offset} spans ${bytes} bytes, beyond the ${avail} bytes of ${a}`);
  return viewNode("VIEW", a, ne, strides, offset, [a]);
}

export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  checkTensor("reshape", "a", a);
  const ne = toShape4(shape, "reshape");
  checkContiguous("reshape", "a", a);
  check(ne[0] * ne[1] * ne[2] * ne[3] === a.nElements, "reshape", () =>
    `cannot reshape ${shapeStr(a)} (${a.nElements} elements) to [${shape.join(",")}]`);
  return viewNode("RESHAPE", a, ne, contiguousStrides(a.type, ne), 0, [a]);
}

/** Source dim i moves to position axes[i] (ggml_permute). */
export function permute(a: Tensor, ax0: number, ax1: number, ax2 = 2, ax3 = 3): Tensor {
  checkTensor("permute", "a", a);
  const axes = [ax0, ax1, ax2, ax3];
  check(axes.every((x) => Number.isInteger(x) && x >= 0 && x < 4) && new Set(axes).size === 4, "permute", () =>
    `axes (${axes.join(",")}) must be a permutation of 0..3`);
  const ne = [0, 0, 0, 0] as Shape4, nb = [0, 0, 0, 0] as Shape4;
  for (let i = 0; i < 4; i++) { ne[axes[i]] = a.ne[i]; nb[axes[i]] = a.nb[i]; }
  return viewNode("PERMUTE", a, ne, nb, 0, [a], { ax0, ax1, ax2, ax3 });
}

export function transpose(a: Tensor): Tensor {
  checkTensor("transpose", "a", a);
  const ne: Shape4 = [a.ne[1], a.ne[0], a.ne[2], a.ne[3]];
  const nb: Shape4 = [a.nb[1], a.nb[0], a.nb[2], a.nb[3]];
  return viewNode("TRANSPOSE", a, ne, nb, 0, [a]);
}

/** Writes a's elements into b in logical order, converting types; the result is a view of b. */
export function cpy(a: Tensor, b: Tensor): Tensor {
  checkTensor("cpy", "a", a); checkTensor("cpy", "b", b);
  check(a.nElements === b.nElements, "cpy", () =>
    `a ${shapeStr(a)} and b ${shapeStr(b)} must have the same number of elements`);
  if (typeTraits(b.type).quantized) checkContiguous("cpy", "b (quantized)", b);
  return viewNode("CPY", b, [...b.ne] as Shape4, [...b.nb] as Shape4, 0, [a, b]);
}

/** A contiguous copy, optionally reshaped (ggml_cont_2d/3d/4d). */
export function cont(a: Tensor, shape?: readonly number[]): Tensor {
  checkTensor("cont", "a", a);
  const ne = shape ? toShape4(shape, "cont") : ([...a.ne] as Shape4);
  check(ne[0] * ne[1] * ne[2] * ne[3] === a.nElements, "cont", () =>
    `cannot make ${shapeStr(a)} contiguous as [${ne.join(",")}]`);
  check(!typeTraits(a.type).quantized || a.isContiguous, "cont", () => `quantized ${a} must already be contiguous`);
  return node("CONT", a.type, ne, [a]);
}

export function dup(a: Tensor): Tensor {
  checkTensor("dup", "a", a);
  return node("DUP", a.type, [...a.ne] as Shape4, [a]);
}

export function concat(a: Tensor, b: Tensor, dim: number): Tensor {
  checkTensor("concat", "a", a); checkTensor("concat", "b", b);
  check(Number.isInteger(dim) && dim >= 0 && dim < 4, "concat", () => `dim must be 0..3, got ${dim}`);
  check(a.type === b.type, "concat", () => `a is ${a.typeName} but b is ${b.typeName}`);
  check(!typeTraits(a.type).quantized, "concat", () => `quantized type ${a.typeName} is not supported`);
  check(a.ne.every((v, i) => i === dim || v === b.ne[i]), "concat", () =>
    `a ${shapeStr(a)} and b ${shapeStr(b)} must agree on every dim but ${dim}`);
  const ne = [...a.ne] as Shape4;
  ne[dim] += b.ne[dim];
  return node("CONCAT", a.type, ne, [a, b], { dim });
}

/** Zero padding at the end of each dim. */
export function pad(a: Tensor, p0: number, p1 = 0, p2 = 0, p3 = 0): Tensor {
  return padExt(a, 0, p0, 0, p1, 0, p2, 0, p3);
}

/** Zero padding with (left, right) amounts per dim. */
export function padExt(a: Tensor, lp0: number, rp0: number, lp1 = 0, rp1 = 0, lp2 = 0, rp2 = 0, lp3 = 0, rp3 = 0): Tensor {
  checkTensor("pad", "a", a);
  checkType("pad", "a", a, GgmlType.F32);
  const p = [lp0, rp0, lp1, rp1, lp2, rp2, lp3, rp3];
  p.forEach((v, i) => checkInt("pad", `padding ${i}`, v, 0));
  const ne = a.ne.map((v, i) => v + p[2 * i] + p[2 * i + 1]) as Shape4;
  return node("PAD", a.type, ne, [a], { lp0, rp0, lp1, rp1, lp2, rp2, lp3, rp3 });
}

/** Copy of a with b written into the view (b.ne, strides nb1..nb3, byte offset). */
export function set(a: Tensor, b: Tensor, nb1: number, nb2: number, nb3: number, offset: number, inplace = false): Tensor {
  checkTensor("set", "a", a); checkTensor("set", "b", b);
  checkType("set", "a", a, GgmlType.F32, GgmlType.I32); checkType("set", "b", b, a.type);
  checkContiguous("set", "a", a);
  [nb1, nb2, nb3, offset].forEach((v, i) => checkInt("set", ["nb1", "nb2", "nb3", "offset"][i], v, 0));
  check(offset < 2 ** 30, "set", () => `offset ${offset} must be < 2^30`);
  const span = nBytesOf(a.type, b.ne, [typeTraits(a.type).typeSize, nb1, nb2, nb3]);
  check(offset + span <= a.nBytes, "set", () =>
    `b ${shapeStr(b)} with strides (${nb1},${nb2},${nb3}) at offset ${offset} does not fit in a ${shapeStr(a)}`);
  const params = { nb1, nb2, nb3, offset, inplace: inplace ? 1 : 0 };
  return inplace
    ? viewNode("SET", a, [...a.ne] as Shape4, [...a.nb] as Shape4, 0, [a, b], params)
    : node("SET", a.type, [...a.ne] as Shape4, [a, b], params);
}

/** Tile a to the shape of b (a tensor) or to an explicit shape (ggml_repeat_4d). */
export function repeat(a: Tensor, like: Tensor | readonly number[]): Tensor {
  checkTensor("repeat", "a", a);
  const ne = like instanceof Tensor ? ([...like.ne] as Shape4) : toShape4(like, "repeat");
  check(ne.every((v, i) => a.ne[i] > 0 && v % a.ne[i] === 0), "repeat", () =>
    `a ${shapeStr(a)} cannot be tiled to [${ne.join(",")}]`);
  return node("REPEAT", a.type, ne, [a]);
}

/** out[:, j, b2, b3] = a[:, idx[j, b2, b3], b2, b3]; dequantizes to f32 (i32 sources stay i32). */
export function getRows(a: Tensor, idx: Tensor): Tensor {
  checkTensor("getRows", "a", a); checkTensor("getRows", "idx", idx);
  checkType("getRows", "idx", idx, GgmlType.I32);
  check(idx.ne[3] === 1 && idx.ne[1] === a.ne[2] && idx.ne[2] === a.ne[3], "getRows", () =>
    `idx ${shapeStr(idx)} must be [m, ${a.ne[2]}, ${a.ne[3]}] for a ${shapeStr(a)}`);
  const type = a.type === GgmlType.I32 ? GgmlType.I32 : GgmlType.F32;
  return node("GET_ROWS", type, [a.ne[0], idx.ne[0], idx.ne[1], idx.ne[2]], [a, idx]);
}

/** dst[:, idx[j, b2 % I1, b3 % I2], b2, b3] = src[:, j, b2, b3]; the result is a view of dst. */
export function setRows(dst: Tensor, src: Tensor, idx: Tensor): Tensor {
  checkTensor("setRows", "dst", dst); checkTensor("setRows", "src", src); checkTensor("setRows", "idx", idx);
  checkType("setRows", "src", src, GgmlType.F32);
  checkType("setRows", "idx", idx, GgmlType.I32, GgmlType.I64);
  check(src.ne[0] === dst.ne[0] && src.ne[2] === dst.ne[2] && src.ne[3] === dst.ne[3], "setRows", () =>
    `src ${shapeStr(src)} must be [${dst.ne[0]}, m, ${dst.ne[2]}, ${dst.ne[3]}] for dst ${shapeStr(dst)}`);
  check(idx.ne[0] === src.ne[1] && idx.ne[3] === 1 && dst.ne[2] % idx.ne[1] === 0 && dst.ne[3] % idx.ne[2] === 0,
    "setRows", () => `idx ${shapeStr(idx)} must be [${src.ne[1]}, I1, I2] with I1 | ${dst.ne[2]} and I2 | ${dst.ne[3]}`);
  check(dst.nb[0] === typeTraits(dst.type).typeSize, "setRows", () => `dst rows must be contiguous`);
  return viewNode("SET_ROWS", dst, [...dst.ne] as Shape4, [...dst.nb] as Shape4, 0, [dst, src, idx]);
}

/** Concatenates many tensors along dim as a balanced tree (a chain would copy O(n²) bytes). */
export function concatAll(ts: readonly Tensor[], dim: number): Tensor {
  check(ts.length > 0, "concatAll", () => "no tensors given");
  if (ts.length === 1) return ts[0];
  const h = ts.length >> 1;
  return concat(concatAll(ts.slice(0, h), dim), concatAll(ts.slice(h), dim), dim);
}
