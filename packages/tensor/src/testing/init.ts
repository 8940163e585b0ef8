// Input initialisers for op cases (ops.md §10): uniform by default, domain-specific where an op needs it.
// Each returns the tensor's logical values (ne0 fastest); the harness converts them to the leaf's type.
import type { Tensor } from "../tensor.js";
import type { Rng } from "./rng.js";

export type InitFn = (rng: Rng, t: Tensor) => Float64Array;

export const uniform = (lo = -1, hi = 1): InitFn => (rng, t) => {
  const v = new Float64Array(t.nElements);
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(lo, hi);
  return v;
};

export const constant = (c: number): InitFn => (_rng, t) => new Float64Array(t.nElements).fill(c);

/** Uniform integers in [0, n): indices of rows that exist (GET_ROWS, MUL_MAT_ID ids). */
export const indices = (n: number): InitFn => (rng, t) => {
  const v = new Float64Array(t.nElements);
  for (let i = 0; i < v.length; i++) v[i] = rng.int(n);
  return v;
};

/** Per row of ne0 entries, distinct integers from [0, n) (SET_ROWS targets: duplicates are undefined). */
export const distinctIndices = (n: number): InitFn => (rng, t) => {
  const n0 = t.ne[0];
  if (n0 > n) throw new Error(`distinctIndices: ${n0} distinct values from ${n} is impossible`);
  const v = new Float64Array(t.nElements);
  const all = Array.from({ length: n }, (_, i) => i);
  for (let r = 0; r < t.nElements / n0; r++) {
    rng.shuffle(all);
    for (let i = 0; i < n0; i++) v[r * n0 + i] = all[i];
  }
  return v;
};

/** Per row, a shuffle of distinct, well separated values (ARGMAX / ARGSORT / TOP_K: no ties). */
export const distinctRows = (): InitFn => (rng, t) => {
  const n0 = t.ne[0];
  const v = new Float64Array(t.nElements);
  const vals = Array.from({ length: n0 }, (_, i) => i);
  for (let r = 0; r < t.nElements / n0; r++) {
    rng.shuffle(vals);
    const off = rng.uniform(-1, 1);
    for (let i = 0; i < n0; i++) v[r * n0 + i] = (vals[i] - n0 / 2) / n0 + off;
  }
  return v;
};

/** Lower-triangular square matrices with entries in U[lo, hi] and zeros above (SOLVE_TRI's A). */
export const lowerTriangular = (lo = 0.1, hi = 1): InitFn => (rng, t) => {
  const [n0, n1] = t.ne;
  const v = new Float64Array(t.nElements);
  for (let k = 0; k < v.length; k++) {
    const i0 = k % n0, i1 = Math.floor(k / n0) % n1;
    v[k] = i0 <= i1 ? rng.uniform(lo, hi) : 0;
  }
  return v;
};

/** A causal attention mask [n_kv, n_q]: query i sees keys 0..n_kv-n_q+i. */
export const causalMask = (): InitFn => (_rng, t) => {
  const [nkv, nq] = t.ne;
  const v = new Float64Array(t.nElements);
  for (let k = 0; k < v.length; k++) {
    const j = k % nkv, i = Math.floor(k / nkv) % nq;
    v[k] = j <= nkv - nq + i ? 0 : -Infinity;
  }
  return v;
};

/** Random attention mask: each entry −inf with probability p, but the first key is always visible. */
export const randomMask = (p = 0.3): InitFn => (rng, t) => {
  const nkv = t.ne[0];
  const v = new Float64Array(t.nElements);
  for (let k = 0; k < v.length; k++) v[k] = k % nkv !== 0 && rng.next() < p ? -Infinity : rng.uniform(-1, 1);
  return v;
};

/** Positions 0..T-1 shifted by a random offset (ROPE). */
export const positions = (maxStart = 100): InitFn => (rng, t) => {
  const start = rng.int(maxStart);
  return Float64Array.from({ length: t.nElements }, (_, i) => start + i);
};
