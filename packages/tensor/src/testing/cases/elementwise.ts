// Elementwise cases: binary ops with tile broadcast, unary math, SCALE, CLAMP and the GLU family.
import { GgmlType } from "../../types.js";
import type { Tensor } from "../../tensor.js";
import { add, sub, mul, div, scale, clamp, glu } from "../../ops/elementwise.js";
import * as E from "../../ops/elementwise.js";
import { GluOp } from "../../ops/spec.js";
import { defineCase, type OpCase } from "../case.js";
import { uniform, type InitFn } from "../init.js";
import { permutedInput, NO_PERM, type Perm } from "./util.js";

const F32 = GgmlType.F32;

const UNARY: [string, (a: Tensor) => Tensor, InitFn?][] = [
  ["NEG", E.neg], ["ABS", E.abs], ["SQR", E.sqr], ["SQRT", E.sqrt, uniform(0.01, 4)], ["LOG", E.log, uniform(0.01, 4)],
  ["EXP", E.exp, uniform(-5, 5)], ["SIN", E.sin, uniform(-6, 6)], ["COS", E.cos, uniform(-6, 6)], ["TANH", E.tanh, uniform(-4, 4)],
  ["RELU", E.relu], ["SIGMOID", E.sigmoid, uniform(-8, 8)], ["SILU", E.silu, uniform(-8, 8)],
  ["SOFTPLUS", E.softplus, uniform(-30, 30)], ["GELU", E.gelu, uniform(-6, 6)], ["GELU_ERF", E.geluErf, uniform(-6, 6)],
];

export function elementwiseCases(): OpCase[] {
  const out: OpCase[] = [];
  const bins: [string, (a: Tensor, b: Tensor) => Tensor][] = [["ADD", add], ["SUB", sub], ["MUL", mul], ["DIV", div]];
  const shapes: [number[], number[], Perm][] = [
    [[10, 5, 4, 3], [1, 1, 1, 1], NO_PERM], [[10, 5, 4, 3], [2, 1, 1, 1], NO_PERM], [[10, 5, 4, 3], [1, 2, 1, 1], NO_PERM],
    [[10, 5, 4, 3], [1, 1, 2, 1], NO_PERM], [[10, 5, 4, 3], [1, 1, 1, 2], NO_PERM], [[10, 5, 4, 3], [2, 2, 2, 2], NO_PERM],
    [[1, 5, 4, 3], [16, 1, 1, 1], NO_PERM], [[16, 5, 4, 3], [1, 1, 1, 1], [0, 2, 1, 3]],
  ];
  for (const [op, f] of bins) for (const [ne, nr, p] of shapes) {
    const neA = ne.map((v, i) => v * nr[i]);
    // Divisors stay away from zero so the NMSE is not dominated by a few huge quotients.
    const bInit = op === "DIV" ? uniform(0.5, 2) : undefined;
    out.push(defineCase(op, { type: "f32", ne: neA, ne_b: ne, permute_a: p }, 1e-7,
      (b) => f(permutedInput(b, F32, neA, p), b.input(F32, ne, bInit))));
  }
  // b itself non-contiguous.
  out.push(defineCase("ADD", { type: "f32", ne: [16, 5, 4, 3], ne_b: [16, 5, 4, 3], permute_b: [0, 2, 1, 3] }, 1e-7,
    (b) => add(b.input(F32, [16, 5, 4, 3]), permutedInput(b, F32, [16, 5, 4, 3], [0, 2, 1, 3]))));
  for (const [op, f, init] of UNARY) for (const [ne, p] of [[[128, 2, 2, 2], NO_PERM], [[7, 5, 3, 1], [0, 2, 1, 3]]] as [number[], Perm][]) {
    out.push(defineCase(op, { type: "f32", ne, permute: p }, 1e-7, (b) => f(permutedInput(b, F32, ne, p, init))));
  }
  for (const [s, bias] of [[2.5, 0], [0, 0], [-0.5, 1.25]]) {
    out.push(defineCase("SCALE", { type: "f32", ne: [10, 10, 10, 10], s, b: bias }, 1e-7,
      (b) => scale(b.input(F32, [10, 10, 10, 10]), s, bias)));
  }
  out.push(defineCase("SCALE", { type: "f32", ne: [10, 5, 4, 3], s: 3, b: 0, permute: [0, 2, 1, 3] }, 1e-7,
    (b) => scale(permutedInput(b, F32, [10, 5, 4, 3], [0, 2, 1, 3]), 3)));
  for (const [lo, hi] of [[-0.5, 0.5], [-Infinity, 0.25], [0, Infinity]]) {
    out.push(defineCase("CLAMP", { type: "f32", ne: [10, 5, 4, 3], min: lo, max: hi }, 1e-7,
      (b) => clamp(b.input(F32, [10, 5, 4, 3]), lo, hi)));
  }
  const gluOps: [string, GluOp][] = [["REGLU", GluOp.REGLU], ["GEGLU", GluOp.GEGLU], ["SWIGLU", GluOp.SWIGLU], ["GEGLU_ERF", GluOp.GEGLU_ERF]];
  for (const [name, op] of gluOps) {
    for (const swapped of [false, true]) {
      out.push(defineCase("GLU", { op: name, form: "fused", ne: [64, 5, 4, 3], swapped }, 1e-7,
        (b) => glu(b.input(F32, [64, 5, 4, 3], uniform(-4, 4)), op, swapped)));
    }
    out.push(defineCase("GLU", { op: name, form: "split", ne: [32, 5, 4, 3] }, 1e-7,
      (b) => glu(b.input(F32, [32, 5, 4, 3], uniform(-4, 4)), b.input(F32, [32, 5, 4, 3]), op)));
    out.push(defineCase("GLU", { op: name, form: "split", ne: [16, 5, 4, 3], permute: [0, 2, 1, 3] }, 1e-7,
      (b) => glu(permutedInput(b, F32, [16, 5, 4, 3], [0, 2, 1, 3], uniform(-4, 4)), permutedInput(b, F32, [16, 5, 4, 3], [0, 2, 1, 3]), op)));
  }
  // Perf-size elementwise traffic (~50 MB per instance).
  for (const [op, f] of bins.slice(0, 3)) {
    const ne = [4096, 1024, 1, 1];
    out.push(defineCase(op, { type: "f32", ne, ne_b: [4096, 1, 1, 1], size: "perf" }, 1e-7,
      (b) => f(b.input(F32, ne), b.input(F32, [4096, 1, 1, 1])), { only: "perf" }));
  }
  out.push(defineCase("SILU", { type: "f32", ne: [4096, 1024, 1, 1], size: "perf" }, 1e-7,
    (b) => E.silu(b.input(F32, [4096, 1024])), { only: "perf" }));
  return out;
}
