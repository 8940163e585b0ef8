// Elementwise kernels, one thread per output element: binary ops with tile broadcast, unary math, SCALE,
// CLAMP, the GLU family, and the generators FILL, TRI, DIAG.
import { GgmlType, type Tensor } from "@ggts/tensor";
import { count, guard, type KernelBuilder, type KernelSpec } from "./spec.js";

export const MATH_HELPERS = `
fn tanh_s(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
fn sigmoid_f(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn gelu_f(x: f32) -> f32 { return 0.5 * x * (1.0 + tanh_s(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
fn erf_f(x: f32) -> f32 {
  // Abramowitz-Stegun 7.1.26 refined: |error| < 1.2e-7.
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.5 * ax);
  let y = t * exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return sign(x) * (1.0 - y);
}
fn gelu_erf_f(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_f(x * 0.7071067811865476)); }
fn softplus_f(x: f32) -> f32 { if (x > 20.0) { return x; } return log(1.0 + exp(x)); }
`;

const UNARY: Record<string, string> = {
  NEG: "-x", ABS: "abs(x)", SQR: "x * x", SQRT: "sqrt(x)", LOG: "log(x)", EXP: "exp(x)", SIN: "sin(x)",
  COS: "cos(x)", TANH: "tanh_s(x)", RELU: "max(x, 0.0)", SIGMOID: "sigmoid_f(x)", SILU: "x / (1.0 + exp(-x))",
  SOFTPLUS: "softplus_f(x)", GELU: "gelu_f(x)", GELU_ERF: "gelu_erf_f(x)",
  SCALE: "x * pf(0u) + pf(1u)", CLAMP: "min(max(x, pf(0u)), pf(1u))",
};

const perElement = (key: string, n: Tensor, body: string, bind: number[], params: number[] = [], helpers = MATH_HELPERS): KernelSpec => ({
  key, wg: 64, threads: n.nElements, bind, params, helpers,
  body: guard(count("d")) + `  let i = unravel(gid, ne_d());\n` + body,
});

const unary: KernelBuilder = (n) => {
  if (n.src[0].type !== GgmlType.F32) return null;
  const params = n.op === "SCALE" ? [n.params.s, n.params.b] : n.op === "CLAMP" ? [n.params.min, n.params.max] : [];
  return perElement(`unary:${n.op}`, n, `  let x = get_s0(i.x, i.y, i.z, i.w);\n  st_d(at_d(i.x, i.y, i.z, i.w), ${UNARY[n.op]});\n`, [0], params);
};

const BINARY: Record<string, string> = { ADD: "x + y", SUB: "x - y", MUL: "x * y", DIV: "x / y" };
const binary: KernelBuilder = (n) => perElement(`binary:${n.op}`, n, `
  let x = get_s0(i.x, i.y, i.z, i.w);
  let nb = ne_s1();
  let y = get_s1(i.x % nb.x, i.y % nb.y, i.z % nb.z, i.w % nb.w);
  st_d(at_d(i.x, i.y, i.z, i.w), ${BINARY[n.op]});
`, [0, 1]);

const GLU_ACT = ["max(x, 0.0)", "gelu_f(x)", "x / (1.0 + exp(-x))", "", "gelu_erf_f(x)"];
const glu: KernelBuilder = (n) => {
  const act = GLU_ACT[n.params.op];
  if (!act) return null;
  if (n.src.length === 2) {
    return perElement(`glu2:${n.params.op}`, n, `
  let x = get_s0(i.x, i.y, i.z, i.w);
  st_d(at_d(i.x, i.y, i.z, i.w), (${act}) * get_s1(i.x, i.y, i.z, i.w));
`, [0, 1]);
  }
  const h = "ne_d().x";
  const [xi, gi] = n.params.swapped ? [`i.x + ${h}`, "i.x"] : ["i.x", `i.x + ${h}`];
  return perElement(`glu1:${n.params.op}:${n.params.swapped}`, n, `
  let x = get_s0(${xi}, i.y, i.z, i.w);
  st_d(at_d(i.x, i.y, i.z, i.w), (${act}) * get_s0(${gi}, i.y, i.z, i.w));
`, [0]);
};

const fill: KernelBuilder = (n) => perElement("fill", n, `  st_d(at_d(i.x, i.y, i.z, i.w), pf(0u));\n`, [], [n.params.c]);

const TRI_KEEP = ["c >= r", "c > r", "c <= r", "c < r"];
const tri: KernelBuilder = (n) => perElement(`tri:${n.params.type}`, n, `
  let c = i.x; let r = i.y;
  var v = 0.0;
  if (${TRI_KEEP[n.params.type]}) { v = get_s0(i.x, i.y, i.z, i.w); }
  st_d(at_d(i.x, i.y, i.z, i.w), v);
`, [0]);

const diag: KernelBuilder = (n) => perElement("diag", n, `
  var v = 0.0;
  if (i.x == i.y) { v = get_s0(i.x, 0u, i.z, i.w); }
  st_d(at_d(i.x, i.y, i.z, i.w), v);
`, [0]);

export const elementwiseKernels: Record<string, KernelBuilder> = {
  ADD: binary, SUB: binary, MUL: binary, DIV: binary, GLU: glu, FILL: fill, TRI: tri, DIAG: diag,
  ...Object.fromEntries(Object.keys(UNARY).map((k) => [k, unary])),
};
