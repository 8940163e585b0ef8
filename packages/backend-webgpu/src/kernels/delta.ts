// Delta-net kernels: SOLVE_TRI (forward substitution, one thread per right-hand column), SSM_CONV (depthwise
// causal conv) and the fused GATED_DELTA_NET, where each thread owns one state column S[:, e] of one head:
// every step of the recurrence only mixes values within a column, so columns run independently.
import { count, guard, type KernelBuilder } from "./spec.js";

const solveTri: KernelBuilder = (n) => {
  const B = n.src[1];
  return {
    key: "solve_tri", wg: 64, threads: B.ne[0] * B.ne[2] * B.ne[3], bind: [0, 1],
    body: guard("ne_s1().x * ne_s1().z * ne_s1().w") + `
  let kk = ne_s1().x; let nn = ne_s0().x;
  let j = gid % kk; let b2 = (gid / kk) % ne_s1().z; let b3 = gid / (kk * ne_s1().z);
  for (var r = 0u; r < nn; r++) {
    var s = get_s1(j, r, b2, b3);
    for (var t = 0u; t < r; t++) { s -= get_s0(t, r, b2, b3) * ld_d(at_d(j, t, b2, b3)); }
    st_d(at_d(j, r, b2, b3), s / get_s0(r, r, b2, b3));
  }
`,
  };
};

const ssmConv: KernelBuilder = (n) => ({
  key: "ssm_conv", wg: 64, threads: n.nElements, bind: [0, 1],
  body: guard(count("d")) + `
  let i = unravel(gid, ne_d());
  let ch = i.x; let t = i.y; let s = i.z;
  var acc = 0.0;
  for (var j = 0u; j < ne_s1().x; j++) { acc += get_s0(t + j, ch, s, 0u) * get_s1(j, ch, 0u, 0u); }
  st_d(at_d(ch, t, s, 0u), acc);
`,
});

const MAX_S = 256;
const gatedDeltaNet: KernelBuilder = (n) => {
  const [q, , v, g] = n.src;
  const S = q.ne[0];
  if (S > MAX_S) return null;
  const kda = g.ne[0] !== 1;
  return {
    key: `gdn:${kda ? 1 : 0}`, wg: 64, threads: S * v.ne[1] * q.ne[3], bind: [0, 1, 2, 3, 4, 5], params: [1 / Math.sqrt(S)],
    helpers: `var<private> COL: array<f32, ${MAX_S}>;\n`,
    body: guard("ne_s0().x * ne_s2().y * ne_s0().w") + `
  let S = ne_s0().x; let Hv = ne_s2().y; let T = ne_s0().z; let N = ne_s0().w;
  let e = gid % S; let h = (gid / S) % Hv; let ns = gid / (S * Hv);
  let hk = h / (Hv / ne_s0().y);
  for (var d = 0u; d < S; d++) { COL[d] = get_s5(d, e, h, ns); }
  let ob = off_d() >> 2u;
  for (var t = 0u; t < T; t++) {
    ${kda ? "for (var d = 0u; d < S; d++) { COL[d] *= exp(get_s3(d, h, t, ns)); }"
          : "let gt = exp(get_s3(0u, h, t, ns)); for (var d = 0u; d < S; d++) { COL[d] *= gt; }"}
    var sk = 0.0;
    for (var d = 0u; d < S; d++) { sk += COL[d] * get_s1(d, hk, t, ns); }
    let delta = get_s4(0u, h, t, ns) * (get_s2(e, h, t, ns) - sk);
    var o = 0.0;
    for (var d = 0u; d < S; d++) { COL[d] += get_s1(d, hk, t, ns) * delta; o += COL[d] * get_s0(d, hk, t, ns); }
    sw_d(ob + e + S * (h + Hv * (t + T * ns)), bitcast<u32>(o * pf(0u)));
  }
  let so = ob + S * Hv * T * N + S * S * (h + Hv * ns) + e * S;
  for (var d = 0u; d < S; d++) { sw_d(so + d, bitcast<u32>(COL[d])); }
`,
  };
};

export const deltaKernels: Record<string, KernelBuilder> = { SOLVE_TRI: solveTri, SSM_CONV: ssmConv, GATED_DELTA_NET: gatedDeltaNet };
