// Products: MUL_MAT (a of any float/quant type, dequantised in the shader), MUL_MAT_ID, OUT_PROD.
// A thread owns a TN×TM block of outputs, so each a element is decoded once per TM outputs and each b element
// read once per TN (register blocking beats workgroup tiling on llvmpipe, where barriers are expensive).
import { GgmlType, typeTraits, type Tensor } from "@ggts/tensor";
import { DEQUANT_TYPES, dequantSubFn } from "./quant-read.js";
import { DEFAULT_CONTEXT, F16_CHUNK, count, guard, type BuildContext, type KernelBuilder, type KernelSpec } from "./spec.js";
import { REDUCE_HELPERS, WG } from "./reduce.js";

/** b column counts up to this use the matrix-vector kernel. */
export const MATVEC_MAX_COLS = 2;
const PLAIN_A = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);
/** Types whose sub-block decode has no additive term (x = q·scale). */
const NO_OFFSET = new Set([GgmlType.Q8_0, GgmlType.IQ4_NL, GgmlType.Q3_K, GgmlType.Q6_K, GgmlType.IQ4_XS]);
const readableA = (t: GgmlType) => PLAIN_A.has(t) || DEQUANT_TYPES.has(t);
/** f16 weights and quantized weights multiply in f16; f32 and bf16 weights keep f32 math. */
const f16Math = (t: GgmlType, ctx: BuildContext) => ctx.f16 && (t === GgmlType.F16 || DEQUANT_TYPES.has(t));

/**
 * WGSL, f16 arithmetic: acc[i*TM+c] += a_i[k]·b_c[k] where weights are dequantised to f16 (q·d + m in f16),
 * b is rounded to f16, and products are summed in f16 over one sub-block (≤ F16_CHUNK elements) before the
 * partial sum is added to the f32 accumulator (ggml's CUDA/Vulkan f16 paths accumulate in f32 likewise).
 * ar(i): byte address of row i of a; bc[c]: byte address of column c of b; sub: sub-block size expression.
 */
function f16Loop(a: Tensor, tn: number, tm: number, ar: (i: number) => string, sub: string): string {
  const tr = typeTraits(a.type);
  const R = Array.from({ length: tn }, (_, i) => i), C = Array.from({ length: tm }, (_, c) => c);
  const N = tn * tm;
  const fma = (av: (i: number) => string) =>
    R.map((i) => C.map((c) => `part[${i * tm + c}] += ${av(i)} * b${c};`).join(" ")).join("\n        ");
  const flush = `for (var x = 0u; x < ${N}u; x++) { acc[x] += f32(part[x]); }`;
  const loadB = (kk: string) => C.map((c) => `let b${c} = f16(ld_s1(bc[${c}] + ${kk}));`).join(" ");
  if (tr.blockSize === 1) {
    return `
  for (var k0 = 0u; k0 < K; k0 += ${F16_CHUNK}u) {
    var part = array<f16, ${N}>();
    for (var k = k0; k < min(K, k0 + ${F16_CHUNK}u); k++) {
      ${loadB("k * nbb")}
      ${R.map((i) => `let a${i} = hh_s0(${ar(i)} + k * nba);`).join(" ")}
      ${fma((i) => `a${i}`)}
    }
    ${flush}
  }`;
  }
  const hasSub = dequantSubFn(a.type, "s0") !== null;
  return `
  for (var blk = 0u; blk < K / ${tr.blockSize}u; blk++) {
    ${R.map((i) => `let ba${i} = ${ar(i)} + blk * ${tr.typeSize}u;`).join(" ")}
    for (var s = 0u; s < ${tr.blockSize}u / ${sub}; s++) {
      ${hasSub ? R.map((i) => `let m${i} = vec2<f16>(dqs_s0(ba${i}, s));`).join(" ") : ""}
      var part = array<f16, ${N}>();
      for (var j = s * ${sub}; j < (s + 1u) * ${sub}; j++) {
        ${loadB(`(blk * ${tr.blockSize}u + j) * nbb`)}
        ${R.map((i) => hasSub ? `let q${i} = f16(dqq_s0(ba${i}, j)) * m${i}.x + m${i}.y;` : `let q${i} = f16(dq_s0(ba${i}, j));`).join(" ")}
        ${fma((i) => `q${i}`)}
      }
      ${flush}
    }
  }`;
}

/** Sub-block size used by f16Loop for a's type (a divisor of the block, at most F16_CHUNK). */
const f16Sub = (t: GgmlType) => dequantSubFn(t, "s0")?.[0] ?? Math.min(typeTraits(t).blockSize, F16_CHUNK);

/** WGSL: accumulates acc[c] += a[k] * b_c[k] over the row at byte address ar, for TM columns at bc[c]. */
function dotLoop(a: Tensor, tm: number): string {
  const tr = typeTraits(a.type);
  const inner = (av: string, k: string) =>
    Array.from({ length: tm }, (_, c) => `acc[${c}] += ${av} * ld_s1(bc[${c}] + (${k}) * nbb);`).join(" ");
  if (tr.blockSize === 1) {
    return `
  for (var k = 0u; k < K; k++) {
    let av = ld_s0(ar + k * nba);
    ${inner("av", "k")}
  }`;
  }
  const sub = dequantSubFn(a.type, "s0");
  if (sub) {
    const sb = sub[0];
    const off = !NO_OFFSET.has(a.type);
    const cols = Array.from({ length: tm }, (_, c) => c);
    return `
  for (var blk = 0u; blk < K / ${tr.blockSize}u; blk++) {
    let ba = ar + blk * ${tr.typeSize}u;
    for (var s = 0u; s < ${tr.blockSize / sb}u; s++) {
      let m = dqs_s0(ba, s);
      var part = array<f32, ${tm}>();
      ${off ? `var bs = array<f32, ${tm}>();` : ""}
      for (var j = s * ${sb}u; j < (s + 1u) * ${sb}u; j++) {
        let qv = dqq_s0(ba, j);
        let kk = (blk * ${tr.blockSize}u + j) * nbb;
        ${cols.map((c) => `let b${c} = ld_s1(bc[${c}] + kk); part[${c}] += qv * b${c};${off ? ` bs[${c}] += b${c};` : ""}`).join("\n        ")}
      }
      ${cols.map((c) => `acc[${c}] += part[${c}] * m.x${off ? ` + bs[${c}] * m.y` : ""};`).join(" ")}
    }
  }`;
  }
  return `
  for (var blk = 0u; blk < K / ${tr.blockSize}u; blk++) {
    let ba = ar + blk * ${tr.typeSize}u;
    for (var j = 0u; j < ${tr.blockSize}u; j++) {
      let av = dq_s0(ba, j);
      ${inner("av", `blk * ${tr.blockSize}u + j`)}
    }
  }`;
}

/**
 * Matrix-vector form (few columns of b): one workgroup per output element, lanes stride along K so that
 * neighbouring lanes read neighbouring bytes of the a row, then a workgroup sum.
 */
function mulMatVec(n: Tensor, ctx: BuildContext): KernelSpec {
  const a = n.src[0];
  const tr = typeTraits(a.type);
  const h = f16Math(a.type, ctx);
  const sub = tr.blockSize > 1 ? dequantSubFn(a.type, "s0") : null;
  const sb = sub ? sub[0] : 1;
  const loop = h ? matVecF16Loop(a) : tr.blockSize === 1
    ? `for (var k = lid; k < K; k += ${WG}u) { acc += ld_s0(ar + k * nb_s0().x) * ld_s1(bc + k * nbb); }`
    : sub ? `for (var u = lid; u < K / ${sb}u; u += ${WG}u) {
    let e0 = u * ${sb}u;
    let ba = ar + (e0 / ${tr.blockSize}u) * ${tr.typeSize}u;
    let i0 = e0 % ${tr.blockSize}u;
    let m = dqs_s0(ba, i0 / ${sb}u);
    var p = 0.0; var bsum = 0.0;
    for (var j = 0u; j < ${sb}u; j++) { let bv = ld_s1(bc + (e0 + j) * nbb); p += dqq_s0(ba, i0 + j) * bv; bsum += bv; }
    acc += p * m.x + bsum * m.y;
  }`
    : `for (var k = lid; k < K; k += ${WG}u) {
    acc += dq_s0(ar + (k / ${tr.blockSize}u) * ${tr.typeSize}u, k % ${tr.blockSize}u) * ld_s1(bc + k * nbb);
  }`;
  return {
    key: `mul_mat_vec${h ? ":f16" : ""}`, f16: h, wg: WG, groups: n.nElements, bind: [0, 1], rowChunked: true, helpers: REDUCE_HELPERS + (sub?.[1] ?? ""),
    body: `
  let i = unravel(wid, ne_d());
  let na = ne_s0(); let nbv = ne_s1();
  let i2a = i.z / (nbv.z / na.z); let i3a = i.w / (nbv.w / na.w);
  let flat = i.x + na.y * (i2a + na.z * i3a);
  if (flat < pu(22u) || flat >= pu(23u)) { return; }
  let K = na.x; let nbb = nb_s1().x;
  let ar = at_s0(0u, i.x, i2a, i3a);
  let bc = at_s1(0u, i.y, i.z, i.w);
  var acc = 0.0;
  ${loop}
  let s = wg_sum(acc, lid);
  if (lid == 0u) { st_d(at_d(i.x, i.y, i.z, i.w), s); }
`,
  };
}

/** matVec lane loop in f16: each lane takes whole F16_CHUNK runs (plain) or sub-blocks (quantized). */
function matVecF16Loop(a: Tensor): string {
  const tr = typeTraits(a.type);
  if (tr.blockSize === 1) {
    return `for (var k0 = lid * ${F16_CHUNK}u; k0 < K; k0 += ${WG * F16_CHUNK}u) {
    var p = 0.0h;
    for (var k = k0; k < min(K, k0 + ${F16_CHUNK}u); k++) { p += hh_s0(ar + k * nb_s0().x) * f16(ld_s1(bc + k * nbb)); }
    acc += f32(p);
  }`;
  }
  const sub = dequantSubFn(a.type, "s0");
  const sb = f16Sub(a.type);
  const val = sub ? `f16(dqq_s0(ba, i0 + j)) * mh.x + mh.y` : `f16(dq_s0(ba, i0 + j))`;
  return `for (var u = lid; u < K / ${sb}u; u += ${WG}u) {
    let e0 = u * ${sb}u;
    let ba = ar + (e0 / ${tr.blockSize}u) * ${tr.typeSize}u;
    let i0 = e0 % ${tr.blockSize}u;
    ${sub ? `let mh = vec2<f16>(dqs_s0(ba, i0 / ${sb}u));` : ""}
    var p = 0.0h;
    for (var j = 0u; j < ${sb}u; j++) { p += (${val}) * f16(ld_s1(bc + (e0 + j) * nbb)); }
    acc += f32(p);
  }`;
}

/** WGSL: the TN×TM register block acc[i*TM+c] += a_i[k]·b_c[k] over rows at ar[i] and columns at bc[c]. */
function blockLoop(a: Tensor, tn: number, tm: number): string {
  const tr = typeTraits(a.type);
  const R = Array.from({ length: tn }, (_, i) => i), C = Array.from({ length: tm }, (_, c) => c);
  const fma = (av: (i: number) => string, acc: string) =>
    R.map((i) => C.map((c) => `${acc}[${i * tm + c}] += ${av(i)} * b${c};`).join(" ")).join("\n        ");
  if (tr.blockSize === 1) {
    return `
  for (var k = 0u; k < K; k++) {
    ${C.map((c) => `let b${c} = ld_s1(bc[${c}] + k * nbb);`).join(" ")}
    ${R.map((i) => `let a${i} = ld_s0(ar[${i}] + k * nba);`).join(" ")}
    ${fma((i) => `a${i}`, "acc")}
  }`;
  }
  const sub = dequantSubFn(a.type, "s0");
  if (!sub) {
    return `
  for (var blk = 0u; blk < K / ${tr.blockSize}u; blk++) {
    for (var j = 0u; j < pu(20u); j++) {
      let kk = (blk * ${tr.blockSize}u + j) * nbb;
      ${C.map((c) => `let b${c} = ld_s1(bc[${c}] + kk);`).join(" ")}
      ${R.map((i) => `let a${i} = dq_s0(ar[${i}] + blk * ${tr.typeSize}u, j);`).join(" ")}
      ${fma((i) => `a${i}`, "acc")}
    }
  }`;
  }
  const sb = sub[0];
  const off = !NO_OFFSET.has(a.type);
  return `
  for (var blk = 0u; blk < K / ${tr.blockSize}u; blk++) {
    ${R.map((i) => `let ba${i} = ar[${i}] + blk * ${tr.typeSize}u;`).join(" ")}
    for (var s = 0u; s < ${tr.blockSize}u / pu(20u); s++) {
      var part = array<f32, ${tn * tm}>();
      ${off ? `var bs = array<f32, ${tm}>();` : ""}
      for (var j = s * pu(20u); j < (s + 1u) * pu(20u); j++) {
        let kk = (blk * ${tr.blockSize}u + j) * nbb;
        ${C.map((c) => `let b${c} = ld_s1(bc[${c}] + kk);${off ? ` bs[${c}] += b${c};` : ""}`).join(" ")}
        ${R.map((i) => `let q${i} = dqq_s0(ba${i}, j);`).join(" ")}
        ${fma((i) => `q${i}`, "part")}
      }
      ${R.map((i) => `let m${i} = dqs_s0(ba${i}, s);`).join(" ")}
      ${R.map((i) => C.map((c) => `acc[${i * tm + c}] += part[${i * tm + c}] * m${i}.x${off ? ` + bs[${c}] * m${i}.y` : ""};`).join(" ")).join("\n      ")}
    }
  }`;
}

/** Kernel ints with the sub-block size at pu(20): a runtime loop bound keeps llvmpipe from unrolling (slow compiles). */
function subInts(a: Tensor, head: number[], f16: boolean): number[] {
  const ints = [...head];
  while (ints.length < 20) ints.push(0);
  const tr = typeTraits(a.type);
  ints.push(f16 ? f16Sub(a.type) : dequantSubFn(a.type, "s0")?.[0] ?? tr.blockSize);
  return ints;
}

/** Register-blocked product: each thread owns TN rows of a and TM columns of b (llvmpipe: no barriers). */
const mulMat: KernelBuilder = (n, ctx = DEFAULT_CONTEXT) => {
  const [a, b] = n.src;
  if (!readableA(a.type) || b.type !== GgmlType.F32) return null;
  if (n.ne[1] <= MATVEC_MAX_COLS && ctx.matvec === "workgroup") return mulMatVec(n, ctx);
  const h = f16Math(a.type, ctx);
  const tm = n.ne[1] >= 4 ? 4 : 1;
  const tn = n.ne[1] >= 4 && n.ne[0] >= 4 ? 4 : 1;
  const ncb = Math.ceil(n.ne[1] / tm), nrb = Math.ceil(n.ne[0] / tn);
  return {
    key: `mul_mat:${tn}x${tm}${h ? ":f16" : ""}`, f16: h, wg: 64, helpers: dequantSubFn(a.type, "s0")?.[1], threads: nrb * ncb * n.ne[2] * n.ne[3],
    bind: [0, 1], ints: subInts(a, [ncb, nrb], h), rowChunked: true,
    body: guard(`pu(1u) * pu(0u) * ne_d().z * ne_d().w`) + `
  let nd = ne_d();
  let rb = gid % pu(1u); let t = gid / pu(1u);
  let cb = t % pu(0u); let t2 = t / pu(0u);
  let i2 = t2 % nd.z; let i3 = t2 / nd.z;
  let na = ne_s0(); let nbv = ne_s1();
  let i2a = i2 / (nbv.z / na.z); let i3a = i3 / (nbv.w / na.w);
  let K = na.x;
  let nba = nb_s0().x; let nbb = nb_s1().x;
  // Rows outside this dispatch's src0 range (or past N) read a valid row and are not stored.
  var ok: array<bool, ${tn}>;
  var ar: array<u32, ${tn}>;
  var first = 0xffffffffu;
  for (var i = 0u; i < ${tn}u; i++) {
    let row = rb * ${tn}u + i;
    let flat = row + na.y * (i2a + na.z * i3a);
    ok[i] = row < nd.x && flat >= pu(22u) && flat < pu(23u);
    if (ok[i] && first == 0xffffffffu) { first = row; }
  }
  if (first == 0xffffffffu) { return; }
  for (var i = 0u; i < ${tn}u; i++) { ar[i] = at_s0(0u, select(first, rb * ${tn}u + i, ok[i]), i2a, i3a); }
  var bc: array<u32, ${tm}>;
  var acc = array<f32, ${tn * tm}>();
  let c0 = cb * ${tm}u;
  for (var c = 0u; c < ${tm}u; c++) { bc[c] = at_s1(0u, min(c0 + c, nbv.y - 1u), i2, i3); }
${h ? f16Loop(a, tn, tm, (i) => `ar[${i}]`, "pu(20u)") : blockLoop(a, tn, tm)}
  for (var i = 0u; i < ${tn}u; i++) {
    if (!ok[i]) { continue; }
    for (var c = 0u; c < ${tm}u; c++) { if (c0 + c < nd.y) { st_d(at_d(rb * ${tn}u + i, c0 + c, i2, i3), acc[i * ${tm}u + c]); } }
  }
`,
  };
};

const mulMatId: KernelBuilder = (n, ctx = DEFAULT_CONTEXT) => {
  const [as, b] = n.src;
  if (!readableA(as.type) || b.type !== GgmlType.F32) return null;
  const h = f16Math(as.type, ctx);
  return {
    key: `mul_mat_id${h ? ":f16" : ""}`, f16: h, wg: 64, helpers: dequantSubFn(as.type, "s0")?.[1], threads: n.nElements, bind: [0, 1, 2], rowChunked: true,
    body: guard(count("d")) + `
  let i = unravel(gid, ne_d());
  let row = i.x; let s = i.y; let t = i.z;
  let e = rd_s2(at_s2(s, t, 0u, 0u) >> 2u);
  let na = ne_s0();
  let flat = row + na.y * e;
  if (flat < pu(22u) || flat >= pu(23u)) { return; }
  let K = na.x;
  let nba = nb_s0().x; let nbb = nb_s1().x;
  let ar = at_s0(0u, row, e, 0u);
  var bc: array<u32, 1>;
  var acc: array<f32, 1>;
  bc[0] = at_s1(0u, s % ne_s1().y, t, 0u); acc[0] = 0.0;
${h ? f16Loop(as, 1, 1, () => "ar", `${f16Sub(as.type)}u`) : dotLoop(as, 1)}
  st_d(at_d(row, s, t, 0u), acc[0]);
`,
  };
};

const outProd: KernelBuilder = (n) => ({
  key: "out_prod", wg: 64, threads: n.nElements, bind: [0, 1],
  body: guard(count("d")) + `
  let i = unravel(gid, ne_d());
  let na = ne_s0(); let nbv = ne_s1();
  let i2a = i.z / (nbv.z / na.z); let i3a = i.w / (nbv.w / na.w);
  var acc = 0.0;
  for (var j = 0u; j < na.y; j++) { acc += get_s0(i.x, j, i2a, i3a) * get_s1(i.y, j, i.z, i.w); }
  st_d(at_d(i.x, i.y, i.z, i.w), acc);
`,
});

export const matmulKernels: Record<string, KernelBuilder> = { MUL_MAT: mulMat, MUL_MAT_ID: mulMatId, OUT_PROD: outProd };
