// SOFT_MAX (with mask and ALiBi), FLASH_ATTN_EXT (online softmax, one thread per query row and head) and
// ROPE (normal and NeoX, YaRN ramp, optional frequency factors; one thread per rotated pair).
import { GgmlType, RopeMode, type Tensor } from "@ggts/tensor";
import { DEFAULT_CONTEXT, F16_CHUNK, guard, type KernelBuilder } from "./spec.js";
import { perRow, WG } from "./reduce.js";

/** ALiBi slope parameters [m0, m1, nh2] for H heads. */
function alibi(maxBias: number, H: number): number[] {
  if (maxBias <= 0) return [1, 1, 1 << 30];
  const nh2 = 2 ** Math.floor(Math.log2(H));
  return [2 ** (-maxBias / nh2), 2 ** (-maxBias / 2 / nh2), nh2];
}
const SLOPE = `
fn slope(h: u32, m0: f32, m1: f32, nh2: u32) -> f32 {
  if (h < nh2) { return pow(m0, f32(h + 1u)); }
  return pow(m1, f32(2u * (h - nh2) + 1u));
}
`;

const softMax: KernelBuilder = (n) => {
  const [a, mask] = n.src;
  const { scale, max_bias } = n.params;
  const [m0, m1, nh2] = alibi(max_bias, a.ne[2]);
  const m = mask ? `sl * get_s1(k, r.y, r.z % ne_s1().z, r.w % ne_s1().w)` : "0.0";
  return perRow(`soft_max:${mask ? 1 : 0}`, a.nRows, `
  let sl = select(1.0, slope(r.z, pf(1u), pf(2u), u32(pf(3u))), pf(4u) > 0.0);
  var mx = neg_inf();
  for (var k = lid; k < n0; k += ${WG}u) { mx = max(mx, get_s0(k, r.y, r.z, r.w) * pf(0u) + ${m}); }
  mx = wg_max(mx, lid);
  var acc = 0.0;
  for (var k = lid; k < n0; k += ${WG}u) { acc += exp(get_s0(k, r.y, r.z, r.w) * pf(0u) + ${m} - mx); }
  let inv = 1.0 / wg_sum(acc, lid);
  for (var k = lid; k < n0; k += ${WG}u) {
    st_d(at_d(k, r.y, r.z, r.w), exp(get_s0(k, r.y, r.z, r.w) * pf(0u) + ${m} - mx) * inv);
  }
`, mask ? [0, 1] : [0], [scale, m0, m1, nh2, max_bias], SLOPE);
};

const MAX_DV = 512;
const flashAttn: KernelBuilder = (n, ctx = DEFAULT_CONTEXT) => {
  const [q, k, v, mask] = n.src;
  if (v.ne[0] > MAX_DV || q.type !== GgmlType.F32) return null;
  // f16 K/V with shader-f16: q·k and p·v products in f16 (q·k summed in f16 over F16_CHUNK dims, then f32).
  const h = ctx.f16 && k.type === GgmlType.F16 && v.type === GgmlType.F16;
  const dot = h ? `
    for (var d0 = 0u; d0 < Dk; d0 += ${F16_CHUNK}u) {
      var ph = 0.0h;
      for (var d = d0; d < min(Dk, d0 + ${F16_CHUNK}u); d++) { ph += f16(get_s0(d, iq, h, b)) * hh_s1(at_s1(d, j, hk, b)); }
      s += f32(ph);
    }` : `
    for (var d = 0u; d < Dk; d++) { s += get_s0(d, iq, h, b) * get_s1(d, j, hk, b); }`;
  const pv = h ? `let p16 = f16(p);
    for (var e = 0u; e < Dv; e++) { ACC[e] = ACC[e] * c + f32(p16 * hh_s2(at_s2(e, j, hk, b))); }`
    : `for (var e = 0u; e < Dv; e++) { ACC[e] = ACC[e] * c + p * get_s2(e, j, hk, b); }`;
  const { scale, max_bias, logit_softcap } = n.params;
  const [m0, m1, nh2] = alibi(max_bias, q.ne[2]);
  const rows = q.ne[1] * q.ne[2] * q.ne[3];
  return {
    key: `flash_attn:${mask ? 1 : 0}${h ? ":f16" : ""}`, f16: h, wg: 64, threads: rows, bind: mask ? [0, 1, 2, 3] : [0, 1, 2], params: [scale, m0, m1, nh2, max_bias, logit_softcap],
    helpers: SLOPE + `var<private> ACC: array<f32, ${MAX_DV}>;\n` + `fn tanh_s(x: f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }\n`,
    body: guard(`ne_s0().y * ne_s0().z * ne_s0().w`) + `
  let nq = ne_s0();
  let iq = gid % nq.y; let h = (gid / nq.y) % nq.z; let b = gid / (nq.y * nq.z);
  let Dk = nq.x; let Dv = ne_s2().x; let nkv = ne_s1().y;
  let hk = h / (nq.z / ne_s1().z);
  let sl = select(1.0, slope(h, pf(1u), pf(2u), u32(pf(3u))), pf(4u) > 0.0);
  for (var e = 0u; e < Dv; e++) { ACC[e] = 0.0; }
  var mx = neg_inf();
  var sum = 0.0;
  for (var j = 0u; j < nkv; j++) {
    var s = 0.0;${dot}
    s *= pf(0u);
    if (pf(5u) != 0.0) { s = pf(5u) * tanh_s(s / pf(5u)); }
    ${mask ? "s += sl * get_s3(j, iq, h % ne_s3().z, b % ne_s3().w);" : ""}
    if (s < -3.0e38) { continue; }
    let mn = max(mx, s);
    let c = exp(mx - mn);
    let p = exp(s - mn);
    sum = sum * c + p;
    ${pv}
    mx = mn;
  }
  let inv = 1.0 / sum;
  for (var e = 0u; e < Dv; e++) { st_d(at_d(e, h, iq, b), ACC[e] * inv); }
`,
  };
};

function ropeCorrDims(nDims: number, nCtxOrig: number, base: number, betaFast: number, betaSlow: number): [number, number] {
  const corr = (nRot: number) => (nDims * Math.log(nCtxOrig / (nRot * 2 * Math.PI))) / (2 * Math.log(base));
  return [Math.max(0, Math.floor(corr(betaFast))), Math.min(nDims - 1, Math.ceil(corr(betaSlow)))];
}

const rope: KernelBuilder = (n: Tensor) => {
  const [a, , ff] = n.src;
  const p = n.params;
  const nd = p.n_dims, D = a.ne[0];
  const units = nd / 2 + (D - nd);
  const [c0, c1] = ropeCorrDims(nd, p.n_ctx_orig, p.freq_base, p.beta_fast, p.beta_slow);
  const neox = p.mode === RopeMode.NEOX;
  return {
    key: `rope:${neox ? 1 : 0}:${ff ? 1 : 0}`, wg: 64, threads: units * a.nRows, bind: ff ? [0, 1, 2] : [0, 1],
    params: [Math.log2(p.freq_base), p.freq_scale, p.ext_factor, p.attn_factor, c0, c1, 1 + 0.1 * Math.log(1 / p.freq_scale)],
    ints: [nd, units],
    body: guard(`pu(1u) * ne_s0().y * ne_s0().z * ne_s0().w`) + `
  let nd = pu(0u);
  let u = gid % pu(1u);
  let r = unravel(gid / pu(1u), vec4<u32>(ne_s0().y, ne_s0().z, ne_s0().w, 1u));
  let h = r.x; let t = r.y; let b = r.z;
  if (u >= nd / 2u) {
    let i0 = nd + (u - nd / 2u);
    st_d(at_d(i0, h, t, b), get_s0(i0, h, t, b));
    return;
  }
  let i = u;
  let pos = f32(bitcast<i32>(rd_s1(at_s1(t, 0u, 0u, 0u) >> 2u)));
  let i0 = 2u * i;
  var thetaExtrap = pos * exp2(-f32(i0) / f32(nd) * pf(0u));
  ${ff ? "thetaExtrap = thetaExtrap / get_s2(i, 0u, 0u, 0u);" : ""}
  let thetaInterp = pf(1u) * thetaExtrap;
  var theta = thetaInterp; var msc = pf(3u);
  if (pf(2u) != 0.0) {
    let y = (f32(i0) / 2.0 - pf(4u)) / max(0.001, pf(5u) - pf(4u));
    let mix = (1.0 - clamp(y, 0.0, 1.0)) * pf(2u);
    theta = thetaInterp * (1.0 - mix) + thetaExtrap * mix;
    msc = msc * pf(6u);
  }
  let c = cos(theta) * msc; let s = sin(theta) * msc;
  let ia = ${neox ? "i" : "i0"}; let ib = ${neox ? "i + nd / 2u" : "i0 + 1u"};
  let xa = get_s0(ia, h, t, b); let xb = get_s0(ib, h, t, b);
  st_d(at_d(ia, h, t, b), xa * c - xb * s);
  st_d(at_d(ib, h, t, b), xa * s + xb * c);
`,
  };
};

export const attentionKernels: Record<string, KernelBuilder> = { SOFT_MAX: softMax, FLASH_ATTN_EXT: flashAttn, ROPE: rope };
