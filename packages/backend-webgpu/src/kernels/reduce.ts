// Row reductions and norms, one 64-thread workgroup per row (ne0): SUM, SUM_ROWS, MEAN, ARGMAX, COUNT_EQUAL,
// CUMSUM, RMS_NORM, NORM, L2_NORM. Accumulation is f32 with a tree reduction in workgroup memory.
import type { KernelBuilder, KernelSpec } from "./spec.js";

export const WG = 64;
// Two barriers and no barrier inside a loop: llvmpipe compiles looped barriers very slowly.
export const REDUCE_HELPERS = `
var<workgroup> RED: array<f32, ${WG}>;
fn wg_sum(v: f32, lid: u32) -> f32 {
  RED[lid] = v;
  workgroupBarrier();
  var s = 0.0;
  for (var k = 0u; k < ${WG}u; k++) { s += RED[k]; }
  workgroupBarrier();
  return s;
}
fn wg_max(v: f32, lid: u32) -> f32 {
  RED[lid] = v;
  workgroupBarrier();
  var s = RED[0];
  for (var k = 1u; k < ${WG}u; k++) { s = max(s, RED[k]); }
  workgroupBarrier();
  return s;
}
`;

/** A kernel with one workgroup per row of src0; the body sees row coordinates r (vec4, x = 0). */
export const perRow = (key: string, rows: number, body: string, bind: number[], params: number[] = [], helpers = ""): KernelSpec => ({
  key, wg: WG, groups: rows, bind, params, helpers: REDUCE_HELPERS + helpers,
  body: `  let r = unravel(wid * ne_s0().x, ne_s0());\n  let n0 = ne_s0().x;\n` + body,
});

const rowSum = (mean: boolean): KernelBuilder => (n) => perRow(`sumrows:${mean}`, n.src[0].nRows, `
  var acc = 0.0;
  for (var k = lid; k < n0; k += ${WG}u) { acc += get_s0(k, r.y, r.z, r.w); }
  let s = wg_sum(acc, lid);
  if (lid == 0u) { st_d(at_d(0u, r.y, r.z, r.w), s${mean ? " / f32(n0)" : ""}); }
`, [0]);

const sumAll: KernelBuilder = (n) => ({
  key: "sum", wg: WG, groups: 1, bind: [0], helpers: REDUCE_HELPERS, body: `
  let ne = ne_s0();
  let total = ne.x * ne.y * ne.z * ne.w;
  var acc = 0.0;
  for (var k = lid; k < total; k += ${WG}u) { let i = unravel(k, ne); acc += get_s0(i.x, i.y, i.z, i.w); }
  let s = wg_sum(acc, lid);
  if (lid == 0u) { st_d(off_d(), s); }
`,
});

const countEqual: KernelBuilder = () => ({
  key: "count_equal", wg: WG, groups: 1, bind: [0, 1], helpers: REDUCE_HELPERS, body: `
  let ne = ne_s0();
  let total = ne.x * ne.y * ne.z * ne.w;
  var acc = 0.0;
  for (var k = lid; k < total; k += ${WG}u) {
    let i = unravel(k, ne);
    if (rd_s0(at_s0(i.x, i.y, i.z, i.w) >> 2u) == rd_s1(at_s1(i.x, i.y, i.z, i.w) >> 2u)) { acc += 1.0; }
  }
  let s = wg_sum(acc, lid);
  if (lid == 0u) { sw_d(off_d() >> 2u, u32(s)); sw_d((off_d() >> 2u) + 1u, 0u); }
`,
});

const argmax: KernelBuilder = (n) => perRow("argmax", n.src[0].nRows, `
  var best = neg_inf(); var bi = 0u; var has = false;
  for (var k = lid; k < n0; k += ${WG}u) {
    let v = get_s0(k, r.y, r.z, r.w);
    if (!has || v >= best) { best = v; bi = k; has = true; }
  }
  AV[lid] = best; AI[lid] = select(0u, bi, has); AH[lid] = u32(has);
  workgroupBarrier();
  if (lid == 0u) {
    var bv = AV[0]; var bj = AI[0]; var bh = AH[0];
    for (var t = 1u; t < ${WG}u; t++) {
      if (AH[t] != 0u && (bh == 0u || AV[t] > bv || (AV[t] == bv && AI[t] > bj))) { bv = AV[t]; bj = AI[t]; bh = 1u; }
    }
    sw_d(at_d(r.y, 0u, 0u, 0u) >> 2u, bj);
  }
`, [0], [], `var<workgroup> AV: array<f32, ${WG}>;\nvar<workgroup> AI: array<u32, ${WG}>;\nvar<workgroup> AH: array<u32, ${WG}>;\n`);

const cumsum: KernelBuilder = (n) => perRow("cumsum", n.src[0].nRows, `
  // Each thread owns a contiguous chunk; chunk totals are scanned in workgroup memory.
  let per = (n0 + ${WG - 1}u) / ${WG}u;
  let k0 = min(lid * per, n0); let k1 = min(k0 + per, n0);
  var acc = 0.0;
  for (var k = k0; k < k1; k++) { acc += get_s0(k, r.y, r.z, r.w); }
  RED[lid] = acc;
  workgroupBarrier();
  if (lid == 0u) { var run = 0.0; for (var t = 0u; t < ${WG}u; t++) { let x = RED[t]; RED[t] = run; run += x; } }
  workgroupBarrier();
  var s = RED[lid];
  for (var k = k0; k < k1; k++) { s += get_s0(k, r.y, r.z, r.w); st_d(at_d(k, r.y, r.z, r.w), s); }
`, [0]);

const norms: KernelBuilder = (n) => {
  const eps = [n.params.eps];
  switch (n.op) {
    case "RMS_NORM": return perRow("rms_norm", n.src[0].nRows, `
  var acc = 0.0;
  for (var k = lid; k < n0; k += ${WG}u) { let x = get_s0(k, r.y, r.z, r.w); acc += x * x; }
  let sc = 1.0 / sqrt(wg_sum(acc, lid) / f32(n0) + pf(0u));
  for (var k = lid; k < n0; k += ${WG}u) { st_d(at_d(k, r.y, r.z, r.w), get_s0(k, r.y, r.z, r.w) * sc); }
`, [0], eps);
    case "NORM": return perRow("norm", n.src[0].nRows, `
  var acc = 0.0;
  for (var k = lid; k < n0; k += ${WG}u) { acc += get_s0(k, r.y, r.z, r.w); }
  let mu = wg_sum(acc, lid) / f32(n0);
  var v = 0.0;
  for (var k = lid; k < n0; k += ${WG}u) { let x = get_s0(k, r.y, r.z, r.w) - mu; v += x * x; }
  let sc = 1.0 / sqrt(wg_sum(v, lid) / f32(n0) + pf(0u));
  for (var k = lid; k < n0; k += ${WG}u) { st_d(at_d(k, r.y, r.z, r.w), (get_s0(k, r.y, r.z, r.w) - mu) * sc); }
`, [0], eps);
    default: return perRow("l2_norm", n.src[0].nRows, `
  var acc = 0.0;
  for (var k = lid; k < n0; k += ${WG}u) { let x = get_s0(k, r.y, r.z, r.w); acc += x * x; }
  let sc = 1.0 / max(sqrt(wg_sum(acc, lid)), pf(0u));
  for (var k = lid; k < n0; k += ${WG}u) { st_d(at_d(k, r.y, r.z, r.w), get_s0(k, r.y, r.z, r.w) * sc); }
`, [0], eps);
  }
};

export const reduceKernels: Record<string, KernelBuilder> = {
  SUM: sumAll, SUM_ROWS: rowSum(false), MEAN: rowSum(true), ARGMAX: argmax, COUNT_EQUAL: countEqual,
  CUMSUM: cumsum, RMS_NORM: norms, NORM: norms, L2_NORM: norms,
};
