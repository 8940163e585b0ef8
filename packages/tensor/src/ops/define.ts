// Node construction and argument checking shared by every op builder.
import { GgmlType, typeName } from "../types.js";
import { Tensor, contiguousStrides, type Shape4, type OpParams } from "../tensor.js";
import { OP_PARAMS, type OpName } from "./spec.js";

const shp = (t: Tensor) => `[${t.ne.join(",")}]`;

/** Throws `op: message` when cond is false. Messages name the argument and the shapes involved. */
export function check(cond: unknown, op: string, msg: () => string): asserts cond {
  if (!cond) throw new Error(`${op}: ${msg()}`);
}

export function checkTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  check(t instanceof Tensor, op, () => `argument ${name} must be a Tensor, got ${typeof t}`);
}

export function checkType(op: string, name: string, t: Tensor, ...types: GgmlType[]): void {
  check(types.includes(t.type), op, () =>
    `${name} must be ${types.map(typeName).join(" or ")}, got ${t.typeName} ${shp(t)}`);
}

export function checkSameShape(op: string, a: Tensor, b: Tensor, an = "a", bn = "b"): void {
  check(a.ne.every((v, i) => v === b.ne[i]), op, () => `${an} ${shp(a)} and ${bn} ${shp(b)} must have the same shape`);
}

/** Tile broadcast: every dim of a must be a multiple of b's. */
export function checkCanRepeat(op: string, a: Tensor, b: Tensor, an = "a", bn = "b"): void {
  check(b.ne.every((v, i) => v > 0 && a.ne[i] % v === 0), op, () =>
    `${bn} ${shp(b)} cannot be tiled to ${an} ${shp(a)} (each dim of ${an} must be a multiple of ${bn}'s)`);
}

export function checkContiguous(op: string, name: string, t: Tensor): void {
  check(t.isContiguous, op, () => `${name} ${shp(t)} must be contiguous`);
}

export function checkInt(op: string, name: string, v: number, min = -Infinity): void {
  check(Number.isSafeInteger(v) && v >= min, op, () => `${name} must be an integer >= ${min}, got ${v}`);
}

export { shp as shapeStr };

/** A freshly allocated (contiguous) result node. */
export function node(op: OpName, type: GgmlType, ne: Shape4, src: Tensor[], params: OpParams = {}): Tensor {
  checkParams(op, params);
  for (const v of ne) check(Number.isSafeInteger(v) && v >= 0, op, () => `bad result shape [${ne.join(",")}]`);
  return new Tensor(type, ne, contiguousStrides(type, ne), op, src, params);
}

/** A result that aliases `base`'s storage (views, CPY/SET_ROWS destinations, in-place ops). */
export function viewNode(op: OpName, base: Tensor, ne: Shape4, nb: Shape4, offset: number, src: Tensor[],
                         params: OpParams = {}, type: GgmlType = base.type): Tensor {
  checkParams(op, params);
  const t = new Tensor(type, ne, nb, op, src, params, base.root, base.viewOffset + offset);
  return t;
}

function checkParams(op: OpName, params: OpParams): void {
  const names = OP_PARAMS[op] as readonly string[];
  for (const k of Object.keys(params)) {
    if (!names.includes(k)) throw new Error(`${op}: unknown parameter "${k}"`);
    check(typeof params[k] === "number" && !Number.isNaN(params[k]), op, () => `parameter ${k} must be a number`);
  }
}
