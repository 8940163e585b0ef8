// Elementwise ops (ops.md §3): binary with tile broadcast, unary math, SCALE, CLAMP, the GLU family.
import typedBase from "typed-function";
import { GgmlType } from "../types.js";
import { Tensor, type Shape4 } from "../tensor.js";
import type { OpName } from "./spec.js";
import { GluOp } from "./spec.js";
import { check, checkTensor, checkType, checkCanRepeat, checkSameShape, node, shapeStr } from "./define.js";

const typed = typedBase.create();
typed.addType({ name: "Tensor", test: (x: unknown) => x instanceof Tensor });

function binary(op: "ADD" | "SUB" | "MUL" | "DIV", a: Tensor, b: Tensor): Tensor {
  const name = op.toLowerCase();
  checkType(name, "a", a, GgmlType.F32);
  checkType(name, "b", b, GgmlType.F32);
  checkCanRepeat(name, a, b);
  return node(op, GgmlType.F32, [...a.ne] as Shape4, [a, b]);
}

/** x·s + b */
export function scale(a: Tensor, s: number, b = 0): Tensor {
  checkTensor("scale", "a", a);
  checkType("scale", "a", a, GgmlType.F32);
  check(Number.isFinite(s) && Number.isFinite(b), "scale", () => `s and b must be finite, got ${s}, ${b}`);
  return node("SCALE", GgmlType.F32, [...a.ne] as Shape4, [a], { s, b });
}

type Bin = ((a: Tensor, b: Tensor | number) => Tensor);

// Number operands lower to SCALE, which every backend has, instead of a materialised constant.
export const add: Bin = typed("add", {
  "Tensor, Tensor": (a: Tensor, b: Tensor) => binary("ADD", a, b),
  "Tensor, number": (a: Tensor, b: number) => scale(a, 1, b),
});
export const sub: Bin = typed("sub", {
  "Tensor, Tensor": (a: Tensor, b: Tensor) => binary("SUB", a, b),
  "Tensor, number": (a: Tensor, b: number) => scale(a, 1, -b),
});
export const mul: Bin = typed("mul", {
  "Tensor, Tensor": (a: Tensor, b: Tensor) => binary("MUL", a, b),
  "Tensor, number": (a: Tensor, b: number) => scale(a, b),
});
export const div: Bin = typed("div", {
  "Tensor, Tensor": (a: Tensor, b: Tensor) => binary("DIV", a, b),
  "Tensor, number": (a: Tensor, b: number) => scale(a, 1 / b),
});

export function clamp(a: Tensor, min: number, max: number): Tensor {
  checkTensor("clamp", "a", a);
  checkType("clamp", "a", a, GgmlType.F32);
  check(!(min > max), "clamp", () => `min ${min} must be <= max ${max}`);
  return node("CLAMP", GgmlType.F32, [...a.ne] as Shape4, [a], { min, max });
}

const unary = (op: OpName) => (a: Tensor): Tensor => {
  const name = op.toLowerCase();
  checkTensor(name, "a", a);
  checkType(name, "a", a, GgmlType.F32);
  return node(op, GgmlType.F32, [...a.ne] as Shape4, [a]);
};

export const neg = unary("NEG"), abs = unary("ABS"), sqr = unary("SQR"), sqrt = unary("SQRT");
export const log = unary("LOG"), exp = unary("EXP"), sin = unary("SIN"), cos = unary("COS");
export const tanh = unary("TANH"), relu = unary("RELU"), sigmoid = unary("SIGMOID"), silu = unary("SILU");
export const softplus = unary("SOFTPLUS"), gelu = unary("GELU"), geluErf = unary("GELU_ERF");

/**
 * GLU family. Fused form glu(a, op): act(first half of ne0) ⊙ second half (swapped exchanges them).
 * Split form glu(a, b, op): act(a) ⊙ b.
 */
export function glu(a: Tensor, op: GluOp, swapped?: boolean): Tensor;
export function glu(a: Tensor, b: Tensor, op: GluOp): Tensor;
export function glu(a: Tensor, x: Tensor | GluOp, y?: GluOp | boolean): Tensor {
  checkTensor("glu", "a", a);
  checkType("glu", "a", a, GgmlType.F32);
  if (x instanceof Tensor) {
    const op = y as GluOp;
    check(op in GluOp, "glu", () => `unknown GLU op ${op}`);
    checkType("glu", "b", x, GgmlType.F32);
    checkSameShape("glu", a, x);
    return node("GLU", GgmlType.F32, [...a.ne] as Shape4, [a, x], { op, swapped: 0 });
  }
  check(x in GluOp, "glu", () => `unknown GLU op ${x}`);
  check(a.ne[0] % 2 === 0, "glu", () => `a ${shapeStr(a)} must have an even ne0 for the fused form`);
  check(a.nb[0] === 4, "glu", () => `a rows must be contiguous`);
  return node("GLU", GgmlType.F32, [a.ne[0] / 2, a.ne[1], a.ne[2], a.ne[3]], [a], { op: x, swapped: y ? 1 : 0 });
}

export const swiglu = (a: Tensor, b?: Tensor) => (b ? glu(a, b, GluOp.SWIGLU) : glu(a, GluOp.SWIGLU));
export const geglu = (a: Tensor, b?: Tensor) => (b ? glu(a, b, GluOp.GEGLU) : glu(a, GluOp.GEGLU));
export const reglu = (a: Tensor, b?: Tensor) => (b ? glu(a, b, GluOp.REGLU) : glu(a, GluOp.REGLU));
