// Reference kernels: data movement, elementwise, reductions. Dense float64 in, dense float64 out.
import type { Tensor } from "../tensor.js";
import { typeTraits } from "../types.js";
import { GluOp } from "../ops/spec.js";
import { at, type Dense } from "./dense.js";

export type RefKernel = (node: Tensor, src: Dense[]) => Float64Array;

const sameShape = (n: Tensor) => new Float64Array(n.nElements);

/** Visits every (i0..i3) of ne in dense order. */
export function forEach4(ne: readonly number[], f: (i0: number, i1: number, i2: number, i3: number, k: number) => void) {
  let k = 0;
  for (let i3 = 0; i3 < ne[3]; i3++) for (let i2 = 0; i2 < ne[2]; i2++)
    for (let i1 = 0; i1 < ne[1]; i1++) for (let i0 = 0; i0 < ne[0]; i0++) f(i0, i1, i2, i3, k++);
}

const binary = (f: (a: number, b: number) => number): RefKernel => (n, [a, b]) => {
  const out = sameShape(n);
  const nb = b.ne;
  forEach4(n.ne, (i0, i1, i2, i3, k) => {
    out[k] = f(a.v[k], b.v[at(nb, i0 % nb[0], i1 % nb[1], i2 % nb[2], i3 % nb[3])]);
  });
  return out;
};
const unary = (f: (x: number) => number): RefKernel => (_n, [a]) => a.v.map(f);

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const GELU_C = Math.sqrt(2 / Math.PI);
const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
// erf by Abramowitz–Stegun 7.1.26 is too coarse for an oracle; use a series/continued fraction pair.
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = x, term = x;
    const x2 = x * x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz) for large |x|.
  let f = ax, C = ax, D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = ax + an * D; D = D === 0 ? 1e-300 : 1 / D;
    C = ax + an / C; if (C === 0) C = 1e-300;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}
const geluErf = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

const gluAct = (op: number): ((x: number) => number) => {
  switch (op) {
    case GluOp.REGLU: return (x) => Math.max(x, 0);
    case GluOp.GEGLU: return gelu;
    case GluOp.SWIGLU: return (x) => x * sigmoid(x);
    case GluOp.GEGLU_ERF: return geluErf;
    default: throw new Error(`GLU: unknown op ${op}`);
  }
};

/** Runs f over every row of a dense array with shape ne, writing rows of width outW. */
function rows(ne: readonly number[], v: Float64Array, outW: number, f: (row: Float64Array, out: Float64Array) => void) {
  const n0 = ne[0], nr = v.length / Math.max(n0, 1);
  const out = new Float64Array(nr * outW);
  for (let r = 0; r < nr; r++) f(v.subarray(r * n0, (r + 1) * n0), out.subarray(r * outW, (r + 1) * outW));
  return out;
}

export const basicKernels: Record<string, RefKernel> = {
  CPY: (_n, [a]) => a.v.slice(),
  CONT: (_n, [a]) => a.v.slice(),
  DUP: (_n, [a]) => a.v.slice(),
  CONCAT: (n, [a, b]) => {
    const dim = n.params.dim;
    const out = sameShape(n);
    forEach4(n.ne, (i0, i1, i2, i3, k) => {
      const i = [i0, i1, i2, i3];
      if (i[dim] < a.ne[dim]) out[k] = a.v[at(a.ne, i0, i1, i2, i3)];
      else { i[dim] -= a.ne[dim]; out[k] = b.v[at(b.ne, i[0], i[1], i[2], i[3])]; }
    });
    return out;
  },
  PAD: (n, [a]) => {
    const p = n.params;
    const lp = [p.lp0, p.lp1, p.lp2, p.lp3];
    const out = sameShape(n);
    forEach4(n.ne, (i0, i1, i2, i3, k) => {
      const j = [i0 - lp[0], i1 - lp[1], i2 - lp[2], i3 - lp[3]];
      out[k] = j.every((x, d) => x >= 0 && x < a.ne[d]) ? a.v[at(a.ne, j[0], j[1], j[2], j[3])] : 0;
    });
    return out;
  },
  SET: (n, [a, b]) => {
    const out = a.v.slice();
    const esz = typeTraits(n.type).typeSize;
    const { nb1, nb2, nb3, offset } = n.params;
    forEach4(b.ne, (i0, i1, i2, i3, k) => {
      out[(offset + i0 * esz + i1 * nb1 + i2 * nb2 + i3 * nb3) / esz] = b.v[k];
    });
    return out;
  },
  REPEAT: (n, [a]) => {
    const out = sameShape(n);
    forEach4(n.ne, (i0, i1, i2, i3, k) => {
      out[k] = a.v[at(a.ne, i0 % a.ne[0], i1 % a.ne[1], i2 % a.ne[2], i3 % a.ne[3])];
    });
    return out;
  },
  GET_ROWS: (n, [a, idx]) => {
    const out = sameShape(n);
    forEach4(n.ne, (i0, j, b2, b3, k) => {
      const r = idx.v[at(idx.ne, j, b2, b3)];
      if (r < 0 || r >= a.ne[1]) throw new Error(`GET_ROWS: index ${r} out of range [0, ${a.ne[1]})`);
      out[k] = a.v[at(a.ne, i0, r, b2, b3)];
    });
    return out;
  },
  SET_ROWS: (_n, [dst, src, idx]) => {
    const out = dst.v.slice();
    forEach4(src.ne, (i0, j, b2, b3, k) => {
      const r = idx.v[at(idx.ne, j, b2 % idx.ne[1], b3 % idx.ne[2])];
      if (r < 0 || r >= dst.ne[1]) throw new Error(`SET_ROWS: index ${r} out of range [0, ${dst.ne[1]})`);
      out[at(dst.ne, i0, r, b2, b3)] = src.v[k];
    });
    return out;
  },
  ADD: binary((a, b) => a + b),
  SUB: binary((a, b) => a - b),
  MUL: binary((a, b) => a * b),
  DIV: binary((a, b) => a / b),
  SCALE: (n, [a]) => a.v.map((x) => x * n.params.s + n.params.b),
  CLAMP: (n, [a]) => a.v.map((x) => Math.min(Math.max(x, n.params.min), n.params.max)),
  NEG: unary((x) => -x),
  ABS: unary(Math.abs),
  SQR: unary((x) => x * x),
  SQRT: unary(Math.sqrt),
  LOG: unary(Math.log),
  EXP: unary(Math.exp),
  SIN: unary(Math.sin),
  COS: unary(Math.cos),
  TANH: unary(Math.tanh),
  RELU: unary((x) => Math.max(x, 0)),
  SIGMOID: unary(sigmoid),
  SILU: unary((x) => x * sigmoid(x)),
  SOFTPLUS: unary((x) => (x > 20 ? x : Math.log1p(Math.exp(x)))),
  GELU: unary(gelu),
  GELU_ERF: unary(geluErf),
  GLU: (n, [a, b]) => {
    const act = gluAct(n.params.op);
    if (b) return a.v.map((x, k) => act(x) * b.v[k]);
    const h = n.ne[0], sw = n.params.swapped;
    return rows(a.ne, a.v, h, (row, out) => {
      for (let i = 0; i < h; i++) {
        const x = sw ? row[h + i] : row[i], g = sw ? row[i] : row[h + i];
        out[i] = act(x) * g;
      }
    });
  },
  SUM: (_n, [a]) => Float64Array.of(a.v.reduce((s, x) => s + x, 0)),
  SUM_ROWS: (_n, [a]) => rows(a.ne, a.v, 1, (r, o) => { o[0] = r.reduce((s, x) => s + x, 0); }),
  MEAN: (_n, [a]) => rows(a.ne, a.v, 1, (r, o) => { o[0] = r.reduce((s, x) => s + x, 0) / r.length; }),
  ARGMAX: (_n, [a]) => rows(a.ne, a.v, 1, (r, o) => {
    let best = 0;
    for (let i = 1; i < r.length; i++) if (r[i] >= r[best]) best = i;
    o[0] = best;
  }),
  COUNT_EQUAL: (_n, [a, b]) => Float64Array.of(a.v.reduce((s, x, i) => s + (x === b.v[i] ? 1 : 0), 0)),
  CUMSUM: (_n, [a]) => rows(a.ne, a.v, a.ne[0], (r, o) => { let s = 0; r.forEach((x, i) => { s += x; o[i] = s; }); }),
  RMS_NORM: (n, [a]) => rows(a.ne, a.v, a.ne[0], (r, o) => {
    const ms = r.reduce((s, x) => s + x * x, 0) / r.length;
    const k = 1 / Math.sqrt(ms + n.params.eps);
    r.forEach((x, i) => { o[i] = x * k; });
  }),
  NORM: (n, [a]) => rows(a.ne, a.v, a.ne[0], (r, o) => {
    const mu = r.reduce((s, x) => s + x, 0) / r.length;
    const va = r.reduce((s, x) => s + (x - mu) * (x - mu), 0) / r.length;
    const k = 1 / Math.sqrt(va + n.params.eps);
    r.forEach((x, i) => { o[i] = (x - mu) * k; });
  }),
  L2_NORM: (n, [a]) => rows(a.ne, a.v, a.ne[0], (r, o) => {
    const nrm = Math.sqrt(r.reduce((s, x) => s + x * x, 0));
    const k = 1 / Math.max(nrm, n.params.eps);
    r.forEach((x, i) => { o[i] = x * k; });
  }),
};
