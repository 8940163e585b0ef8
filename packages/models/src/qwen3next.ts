// Qwen3-Next: Gated DeltaNet layers (scalar gate, GVA), gated full attention with q/k norms and partial NEOX
// RoPE, softmax-routed MoE with a sigmoid-gated shared expert (models.md §5.5–§5.7).
import * as G from "@ggts/tensor";
import { RopeMode, type Tensor } from "@ggts/tensor";
import type { ArchGraph } from "./arch.js";
import type { Qwen3NextHParams } from "./hparams.js";
import type { LayerMemorySpec } from "./memory.js";
import type { UBatch } from "./ubatch.js";
import type { WeightLoader } from "./weights.js";
import { attention, causalConv, decoder, deltaNet, moe, readableCache, rmsNormW, swigluFfn, type MoeWeights } from "./layers.js";

interface GdnWeights {
  qkv: Tensor; gate: Tensor; ba: Tensor; conv: Tensor; dtBias: Tensor; a: Tensor; norm: Tensor; out: Tensor;
}
interface AttnWeights { wq: Tensor; wk: Tensor; wv: Tensor; qNorm: Tensor; kNorm: Tensor; wo: Tensor }
interface Layer {
  attnNorm: Tensor; postNorm: Tensor;
  gdn: GdnWeights | null; attn: AttnWeights | null;
  moe: MoeWeights;
  shared: { gate: Tensor; up: Tensor; down: Tensor; inp: Tensor } | null;
}

export class Qwen3NextGraph implements ArchGraph {
  private readonly tokEmbd: Tensor;
  private readonly outNorm: Tensor;
  private readonly output: Tensor;
  private readonly layers: Layer[];
  private readonly dims: { nk: number; nv: number; dk: number; dv: number; keyDim: number; valueDim: number; convDim: number };

  constructor(readonly hparams: Qwen3NextHParams, w: WeightLoader) {
    const hp = hparams;
    const { nEmbd: E, nVocab: V, dConv: K } = hp;
    const nk = hp.ssmNGroup, nv = hp.ssmDtRank, dk = hp.ssmDState, dv = hp.ssmDInner / nv;
    if (!Number.isInteger(dv) || dv !== dk) throw new Error(`qwen3next: ssm.inner_size ${hp.ssmDInner} / time_step_rank ${nv} must equal ssm.state_size ${dk}`);
    if (nv % nk !== 0) throw new Error(`qwen3next: value heads ${nv} must be a multiple of key heads ${nk}`);
    const keyDim = nk * dk, valueDim = nv * dv, convDim = 2 * keyDim + valueDim;
    this.dims = { nk, nv, dk, dv, keyDim, valueDim, convDim };
    this.tokEmbd = w.get("token_embd.weight", [E, V]);
    this.outNorm = w.f32("output_norm.weight", [E]);
    this.output = w.has("output.weight") ? w.get("output.weight", [E, V]) : this.tokEmbd;
    const { nHead: H, nHeadKv: Hkv, headDim: hd } = hp;
    this.layers = hp.isAttn.map((isAttn, il) => {
      const n = (s: string) => `blk.${il}.${s}`;
      const X = hp.nExpert, F = hp.nFfExp, Fs = hp.nFfShexp;
      if (!w.has(n("attn_qkv.weight")) && w.has(n("ssm_in.weight")) && !isAttn) {
        throw new Error(`qwen3next: legacy ${n("ssm_in.weight")} (interleaved qkvz) is not supported; reconvert with attn_qkv/attn_gate`);
      }
      return {
        attnNorm: w.f32(n("attn_norm.weight"), [E]),
        postNorm: w.f32(n("post_attention_norm.weight"), [E]),
        gdn: isAttn ? null : {
          qkv: w.get(n("attn_qkv.weight"), [E, convDim]),
          gate: w.get(n("attn_gate.weight"), [E, valueDim]),
          ba: w.get(n("ssm_ba.weight"), [E, 2 * nv]),
          conv: G.reshape(w.f32(n("ssm_conv1d.weight"), [K, convDim], [[K, 1, convDim], [K, 1, convDim, 1]]), [K, convDim]),
          dtBias: w.f32(n("ssm_dt.bias"), [nv]),
          a: G.reshape(w.f32(n("ssm_a"), [nv], [[1, nv], [1, nv, 1, 1]]), [nv]),
          norm: w.f32(n("ssm_norm.weight"), [dv]),
          out: w.get(n("ssm_out.weight"), [valueDim, E]),
        },
        attn: !isAttn ? null : {
          wq: w.get(n("attn_q.weight"), [E, hd * H * 2]),
          wk: w.get(n("attn_k.weight"), [E, hd * Hkv]), wv: w.get(n("attn_v.weight"), [E, hd * Hkv]),
          qNorm: w.f32(n("attn_q_norm.weight"), [hd]), kNorm: w.f32(n("attn_k_norm.weight"), [hd]),
          wo: w.get(n("attn_output.weight"), [hd * H, E]),
        },
        moe: {
          gateInp: w.get(n("ffn_gate_inp.weight"), [E, X]),
          gateExps: w.get(n("ffn_gate_exps.weight"), [E, F, X]), upExps: w.get(n("ffn_up_exps.weight"), [E, F, X]),
          downExps: w.get(n("ffn_down_exps.weight"), [F, E, X]),
        },
        shared: Fs > 0 ? {
          gate: w.get(n("ffn_gate_shexp.weight"), [E, Fs]), up: w.get(n("ffn_up_shexp.weight"), [E, Fs]),
          down: w.get(n("ffn_down_shexp.weight"), [Fs, E]),
          inp: G.reshape(w.get(n("ffn_gate_inp_shexp.weight"), [E], { alt: [[E, 1]] }), [E, 1]),
        } : null,
      };
    });
  }

  memorySpecs(): LayerMemorySpec[] {
    const hp = this.hparams, d = this.dims;
    return hp.isAttn.map((a) => a
      ? { kRow: hp.headDim * hp.nHeadKv, vRow: hp.headDim * hp.nHeadKv }
      : { conv: [hp.dConv - 1, d.convDim, 1], ssm: [d.dk, d.dv, d.nv] });
  }

  build(ub: UBatch): G.Tensor | null {
    const hp = this.hparams;
    return decoder(ub, {
      tokEmbd: this.tokEmbd, outNorm: this.outNorm, output: this.output, rmsEps: hp.rmsEps, nLayers: this.layers.length,
      norms: (il) => [this.layers[il].attnNorm, this.layers[il].postNorm],
      mixer: (il, h) => { const L = this.layers[il]; return L.gdn ? this.gdn(ub, il, L.gdn, h) : this.attn(ub, il, L.attn!, h); },
      ffn: (il, f) => {
        const L = this.layers[il];
        const routed = moe(f, L.moe, { nUsed: hp.nExpertUsed, gating: "softmax", normalize: true, scale: 1 });
        if (!L.shared) return routed;
        const sh = swigluFfn(f, L.shared.gate, L.shared.up, L.shared.down);
        return G.add(routed, G.mul(sh, G.sigmoid(G.mulMat(L.shared.inp, f))));
      },
    });
  }

  private gdn(ub: UBatch, il: number, w: GdnWeights, x: Tensor): Tensor {
    const hp = this.hparams, { nk, nv, dk, dv, keyDim, valueDim, convDim } = this.dims;
    const nst = ub.nSeqTokens, ns = ub.nSeqs, T = ub.nTokens, r = nv / nk;
    const qkv = G.mulMat(w.qkv, x); // [convDim, T]
    const z = G.mulMat(w.gate, x); // [valueDim, T]
    const ba = G.reshape(G.mulMat(w.ba, x), [2 * r, nk, T]);
    const b = G.cont(G.view(ba, [r, nk, T], [ba.nb[1], ba.nb[2]], 0), [nv, T]);
    const a = G.cont(G.view(ba, [r, nk, T], [ba.nb[1], ba.nb[2]], r * 4), [nv, T]);
    const beta = G.reshape(G.sigmoid(b), [1, nv, nst, ns]);
    const g = G.reshape(G.mul(G.softplus(G.add(a, w.dtBias)), w.a), [1, nv, nst, ns]);
    const K = hp.dConv;
    const states = ub.seqs.map((s) => G.view(s.layers[il].conv!, [K - 1, convDim, 1]));
    const conv = G.silu(causalConv(ub, qkv, w.conv, states)); // [convDim, nst, ns]
    const part = (n: number, h: number, off: number) =>
      G.view(conv, [n, h, nst, ns], [n * 4, conv.nb[1], conv.nb[2]], off * 4);
    const q = G.l2Norm(part(dk, nk, 0), hp.rmsEps);
    const k = G.l2Norm(part(dk, nk, keyDim), hp.rmsEps);
    const v = G.cont(part(dv, nv, 2 * keyDim));
    const out = deltaNet(ub, q, k, v, g, beta, ub.seqs.map((s) => s.layers[il].ssm!)); // [dv, nv, nst, ns]
    const o = G.mul(rmsNormW(out, w.norm, hp.rmsEps), G.silu(G.reshape(z, [dv, nv, nst, ns])));
    return G.mulMat(w.out, G.reshape(o, [valueDim, T]));
  }

  private attn(ub: UBatch, il: number, w: AttnWeights, x: Tensor): Tensor {
    const hp = this.hparams;
    const { nHead: H, nHeadKv: Hkv, headDim: hd } = hp;
    const T = ub.nTokens, nst = ub.nSeqTokens;
    const qg = G.reshape(G.mulMat(w.wq, x), [2 * hd, H, T]);
    const gate = G.cont(G.view(qg, [hd, H, T], [qg.nb[1], qg.nb[2]], hd * 4), [hd * H, T]);
    const ropeOpts = { nDims: hp.nRot, mode: RopeMode.NEOX, freqBase: hp.ropeBase };
    const pos = ub.positions();
    const q = G.rope(rmsNormW(G.view(qg, [hd, H, T], [qg.nb[1], qg.nb[2]], 0), w.qNorm, hp.rmsEps), pos, ropeOpts);
    const k = G.rope(rmsNormW(G.reshape(G.mulMat(w.wk, x), [hd, Hkv, T]), w.kNorm, hp.rmsEps), pos, ropeOpts);
    const v = G.mulMat(w.wv, x); // [hd·Hkv, T]
    const k2 = G.reshape(k, [hd * Hkv, T]);
    const outs: Tensor[] = [];
    ub.seqs.forEach((seq, s) => {
      const mem = seq.layers[il];
      const nKv = ub.kvLen(s), rows = ub.cacheRows(s);
      const slice = (t: Tensor) => G.view(t, [t.ne[0], nst], [t.nb[1]], s * nst * t.nb[1]);
      const ku = G.setRows(mem.k!, slice(k2), rows);
      const vu = G.setRows(mem.v!, slice(v), rows);
      ub.writes.push(ku, vu);
      const kc = readableCache(ku, nKv), vc = readableCache(vu, nKv);
      const heads = (c: Tensor) => G.view(c, [hd, nKv, Hkv], [c.nb[1], hd * c.nb[0]]);
      const qs = G.view(q, [hd, H, nst], [q.nb[1], q.nb[2]], s * nst * q.nb[2]);
      outs.push(attention(ub, s, qs, heads(kc), heads(vc), 1 / Math.sqrt(hd), ub.opts.attnScoreLimit));
    });
    const o = G.concatAll(outs, 2); // [hd, H, T]
    const gated = G.mul(G.reshape(o, [hd * H, T]), G.sigmoid(gate));
    return G.mulMat(w.wo, gated);
  }
}
