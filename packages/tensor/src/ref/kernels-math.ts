// Reference kernels: products, attention, RoPE, selection and the delta-net family.
import { at, type Dense } from "./dense.js";
import { forEach4, type RefKernel } from "./kernels-basic.js";
import { RopeMode, SortOrder, TriType } from "../ops/spec.js";

/** ALiBi slope for head h of H heads (1 when maxBias is 0). */
export function alibiSlope(maxBias: number, h: number, H: number): number {
  if (maxBias <= 0) return 1;
  const nh2 = 2 ** Math.floor(Math.log2(H));
  const m0 = 2 ** (-maxBias / nh2), m1 = 2 ** (-maxBias / 2 / nh2);
  return h < nh2 ? m0 ** (h + 1) : m1 ** (2 * (h - nh2) + 1);
}

function softmaxInPlace(s: Float64Array): void {
  let mx = -Infinity;
  for (const x of s) mx = Math.max(mx, x);
  let sum = 0;
  for (let i = 0; i < s.length; i++) { s[i] = s[i] === -Infinity ? 0 : Math.exp(s[i] - mx); sum += s[i]; }
  for (let i = 0; i < s.length; i++) s[i] /= sum;
}

function ropeCorrDims(nDims: number, nCtxOrig: number, base: number, betaFast: number, betaSlow: number): [number, number] {
  const corr = (nRot: number) => (nDims * Math.log(nCtxOrig / (nRot * 2 * Math.PI))) / (2 * Math.log(base));
  return [Math.max(0, Math.floor(corr(betaFast))), Math.min(nDims - 1, Math.ceil(corr(betaSlow)))];
}

export const mathKernels: Record<string, RefKernel> = {
  MUL_MAT: (n, [a, b]) => {
    const out = new Float64Array(n.nElements);
    const K = a.ne[0];
    const r2 = b.ne[2] / a.ne[2], r3 = b.ne[3] / a.ne[3];
    forEach4(n.ne, (i0, i1, i2, i3, k) => {
      const ao = at(a.ne, 0, i0, Math.floor(i2 / r2), Math.floor(i3 / r3)), bo = at(b.ne, 0, i1, i2, i3);
      let s = 0;
      for (let j = 0; j < K; j++) s += a.v[ao + j] * b.v[bo + j];
      out[k] = s;
    });
    return out;
  },
  MUL_MAT_ID: (n, [as, b, ids]) => {
    const out = new Float64Array(n.nElements);
    const K = as.ne[0], E = as.ne[2];
    forEach4(n.ne, (i0, s, t, _i3, k) => {
      const e = ids.v[at(ids.ne, s, t)];
      if (e < 0 || e >= E) throw new Error(`MUL_MAT_ID: expert id ${e} out of range [0, ${E})`);
      const ao = at(as.ne, 0, i0, e), bo = at(b.ne, 0, s % b.ne[1], t);
      let acc = 0;
      for (let j = 0; j < K; j++) acc += as.v[ao + j] * b.v[bo + j];
      out[k] = acc;
    });
    return out;
  },
  OUT_PROD: (n, [a, b]) => {
    const out = new Float64Array(n.nElements);
    const K = a.ne[1];
    const r2 = b.ne[2] / a.ne[2], r3 = b.ne[3] / a.ne[3];
    forEach4(n.ne, (i0, i1, i2, i3, k) => {
      let s = 0;
      for (let j = 0; j < K; j++) s += a.v[at(a.ne, i0, j, Math.floor(i2 / r2), Math.floor(i3 / r3))] * b.v[at(b.ne, i1, j, i2, i3)];
      out[k] = s;
    });
    return out;
  },
  SOFT_MAX: (n, [a, mask]) => {
    const { scale, max_bias } = n.params;
    const out = new Float64Array(n.nElements);
    const [n0, n1, n2, n3] = a.ne;
    const row = new Float64Array(n0);
    for (let i3 = 0; i3 < n3; i3++) for (let i2 = 0; i2 < n2; i2++) for (let i1 = 0; i1 < n1; i1++) {
      const slope = alibiSlope(max_bias, i2, n2);
      const o = at(a.ne, 0, i1, i2, i3);
      for (let i0 = 0; i0 < n0; i0++) {
        const m = mask ? mask.v[at(mask.ne, i0, i1, i2 % mask.ne[2], i3 % mask.ne[3])] : 0;
        row[i0] = a.v[o + i0] * scale + slope * m;
      }
      softmaxInPlace(row);
      out.set(row, o);
    }
    return out;
  },
  FLASH_ATTN_EXT: (n, [q, k, v, mask]) => {
    const { scale, max_bias, logit_softcap } = n.params;
    const [Dk, nq, H, B] = q.ne;
    const [Dv, nkv, Hkv] = v.ne;
    const out = new Float64Array(n.nElements);
    const s = new Float64Array(nkv);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let iq = 0; iq < nq; iq++) {
      const hk = Math.floor(h / (H / Hkv));
      const slope = alibiSlope(max_bias, h, H);
      const qo = at(q.ne, 0, iq, h, b);
      for (let j = 0; j < nkv; j++) {
        const ko = at(k.ne, 0, j, hk, b);
        let d = 0;
        for (let i = 0; i < Dk; i++) d += q.v[qo + i] * k.v[ko + i];
        d *= scale;
        if (logit_softcap !== 0) d = logit_softcap * Math.tanh(d / logit_softcap);
        if (mask) d += slope * mask.v[at(mask.ne, j, iq, h % mask.ne[2], b % mask.ne[3])];
        s[j] = d;
      }
      softmaxInPlace(s);
      const oo = at(n.ne, 0, h, iq, b);
      for (let j = 0; j < nkv; j++) {
        if (s[j] === 0) continue;
        const vo = at(v.ne, 0, j, hk, b);
        for (let e = 0; e < Dv; e++) out[oo + e] += s[j] * v.v[vo + e];
      }
    }
    return out;
  },
  ROPE: (n, [a, pos, ff]) => {
    const p = n.params;
    const nd = p.n_dims, neox = p.mode === RopeMode.NEOX;
    const out = a.v.slice();
    const [D, H, T, B] = a.ne;
    const corr = ropeCorrDims(nd, p.n_ctx_orig, p.freq_base, p.beta_fast, p.beta_slow);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      const position = pos.v[t];
      for (let i = 0; i < nd / 2; i++) {
        const i0 = 2 * i;
        const thetaExtrap = (position * p.freq_base ** (-i0 / nd)) / (ff ? ff.v[i] : 1);
        const thetaInterp = p.freq_scale * thetaExtrap;
        let theta = thetaInterp, mscale = p.attn_factor;
        if (p.ext_factor !== 0) {
          const y = (i0 / 2 - corr[0]) / Math.max(0.001, corr[1] - corr[0]);
          const mix = (1 - Math.min(1, Math.max(0, y))) * p.ext_factor;
          theta = thetaInterp * (1 - mix) + thetaExtrap * mix;
          mscale *= 1 + 0.1 * Math.log(1 / p.freq_scale);
        }
        const c = Math.cos(theta) * mscale, s = Math.sin(theta) * mscale;
        for (let h = 0; h < H; h++) {
          const o = at(a.ne, 0, h, t, b);
          const ia = neox ? i : i0, ib = neox ? i + nd / 2 : i0 + 1;
          const xa = a.v[o + ia], xb = a.v[o + ib];
          out[o + ia] = xa * c - xb * s;
          out[o + ib] = xa * s + xb * c;
        }
      }
      void D;
    }
    return out;
  },
  ARGSORT: (n, [a]) => {
    const n0 = a.ne[0];
    const out = new Float64Array(n.nElements);
    const desc = n.params.order === SortOrder.DESC;
    for (let r = 0; r < a.v.length / n0; r++) {
      const row = a.v.subarray(r * n0, (r + 1) * n0);
      const idx = Array.from({ length: n0 }, (_, i) => i).sort((x, y) => (desc ? row[y] - row[x] : row[x] - row[y]));
      out.set(idx, r * n0);
    }
    return out;
  },
  TOP_K: (n, [a]) => {
    const n0 = a.ne[0], k = n.params.k;
    const out = new Float64Array(n.nElements);
    for (let r = 0; r < a.v.length / n0; r++) {
      const row = a.v.subarray(r * n0, (r + 1) * n0);
      const idx = Array.from({ length: n0 }, (_, i) => i).sort((x, y) => row[y] - row[x]);
      out.set(idx.slice(0, k), r * k);
    }
    return out;
  },
  TRI: (n, [a]) => {
    const t = n.params.type;
    const keep = (c: number, r: number) =>
      t === TriType.LOWER ? c < r : t === TriType.LOWER_DIAG ? c <= r : t === TriType.UPPER ? c > r : c >= r;
    const out = new Float64Array(n.nElements);
    forEach4(n.ne, (i0, i1, _i2, _i3, k) => { out[k] = keep(i0, i1) ? a.v[k] : 0; });
    return out;
  },
  FILL: (n) => new Float64Array(n.nElements).fill(n.params.c),
  DIAG: (n, [a]) => {
    const out = new Float64Array(n.nElements);
    forEach4(n.ne, (i0, i1, i2, i3, k) => { if (i0 === i1) out[k] = a.v[at(a.ne, i0, 0, i2, i3)]; });
    return out;
  },
  SOLVE_TRI: (n, [A, Bm]) => {
    const nn = A.ne[0], kk = Bm.ne[0];
    const X = new Float64Array(n.nElements);
    for (let b3 = 0; b3 < A.ne[3]; b3++) for (let b2 = 0; b2 < A.ne[2]; b2++) {
      const ao = at(A.ne, 0, 0, b2, b3), bo = at(Bm.ne, 0, 0, b2, b3);
      for (let j = 0; j < kk; j++) for (let r = 0; r < nn; r++) {
        let s = Bm.v[bo + j + r * kk];
        for (let t = 0; t < r; t++) s -= A.v[ao + t + r * nn] * X[bo + j + t * kk];
        X[bo + j + r * kk] = s / A.v[ao + r + r * nn];
      }
    }
    return X;
  },
  SSM_CONV: (n, [sx, c]) => {
    const [C, T, S] = n.ne;
    const K = c.ne[0];
    const out = new Float64Array(n.nElements);
    for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let ch = 0; ch < C; ch++) {
      let acc = 0;
      for (let j = 0; j < K; j++) acc += sx.v[at(sx.ne, t + j, ch, s)] * c.v[at(c.ne, j, ch)];
      out[at(n.ne, ch, t, s)] = acc;
    }
    return out;
  },
  GATED_DELTA_NET: (n, [q, k, v, g, beta, state]) => gatedDeltaNetRef(q, k, v, g, beta, state, n.nElements),
};

function gatedDeltaNetRef(q: Dense, k: Dense, v: Dense, g: Dense, beta: Dense, state: Dense, total: number): Float64Array {
  const [S, Hk, T, N] = q.ne;
  const Hv = v.ne[1];
  const kda = g.ne[0] !== 1;
  const rep = Hv / Hk, scale = 1 / Math.sqrt(S);
  const out = new Float64Array(total);
  const nOut = S * Hv * T * N;
  const st = new Float64Array(S * S);
  const delta = new Float64Array(S);
  for (let ns = 0; ns < N; ns++) for (let h = 0; h < Hv; h++) {
    const hk = Math.floor(h / rep);
    st.set(state.v.subarray(at(state.ne, 0, 0, h, ns), at(state.ne, 0, 0, h, ns) + S * S)); // st[d + e*S] = S[d][e]
    for (let t = 0; t < T; t++) {
      const go = at(g.ne, 0, h, t, ns), qo = at(q.ne, 0, hk, t, ns), ko = at(k.ne, 0, hk, t, ns), vo = at(v.ne, 0, h, t, ns);
      const b = beta.v[at(beta.ne, 0, h, t, ns)];
      for (let e = 0; e < S; e++) for (let d = 0; d < S; d++) st[d + e * S] *= Math.exp(kda ? g.v[go + d] : g.v[go]);
      for (let e = 0; e < S; e++) {
        let sk = 0;
        for (let d = 0; d < S; d++) sk += st[d + e * S] * k.v[ko + d];
        delta[e] = b * (v.v[vo + e] - sk);
      }
      for (let e = 0; e < S; e++) for (let d = 0; d < S; d++) st[d + e * S] += k.v[ko + d] * delta[e];
      const oo = S * (h + Hv * (t + T * ns));
      for (let e = 0; e < S; e++) {
        let acc = 0;
        for (let d = 0; d < S; d++) acc += st[d + e * S] * q.v[qo + d];
        out[oo + e] = acc * scale;
      }
    }
    out.set(st, nOut + S * S * (h + Hv * ns));
  }
  return out;
}
