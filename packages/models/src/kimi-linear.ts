// Kimi-Linear: KDA (gated delta rule, per-channel gate) layers, MLA layers in the absorbed form with a K-only
// cache and no RoPE, a dense first FFN and sigmoid-routed MoE with shared experts (models.md §5.2, §5.4, §5.7).
import * as G from "@ggts/tensor";
import type { Tensor } from "@ggts/tensor";
import type { ArchGraph } from "./arch.js";
import type { KimiHParams } from "./hparams.js";
import type { LayerMemorySpec } from "./memory.js";
import type { UBatch } from "./ubatch.js";
import type { WeightLoader } from "./weights.js";
import { attention, causalConv, decoder, deltaNet, moe, readableCache, rmsNormW, swigluFfn, type MoeWeights } from "./layers.js";

interface KdaWeights {
  wq: Tensor; wk: Tensor; wv: Tensor;
  convQ: Tensor; convK: Tensor; convV: Tensor;
  fA: Tensor; fB: Tensor; beta: Tensor; a: Tensor; dtBias: Tensor;
  gA: Tensor; gB: Tensor; norm: Tensor; wo: Tensor;
}
interface MlaWeights { wq: Tensor; kvA: Tensor; kvANorm: Tensor; kB: Tensor; vB: Tensor; wo: Tensor }
interface FfnWeights { gate: Tensor; up: Tensor; down: Tensor }
interface Layer {
  attnNorm: Tensor; ffnNorm: Tensor;
  kda: KdaWeights | null; mla: MlaWeights | null;
  dense: FfnWeights | null;
  moe: MoeWeights | null; shared: FfnWeights | null;
}

export class KimiLinearGraph implements ArchGraph {
  private readonly tokEmbd: Tensor;
  private readonly outNorm: Tensor;
  private readonly output: Tensor;
  private readonly layers: Layer[];

  constructor(readonly hparams: KimiHParams, w: WeightLoader) {
    const hp = hparams;
    const { nEmbd: E, nVocab: V, nHead: H, kdaHeadDim: D, dConv: K } = hp;
    const HD = H * D;
    if (hp.gatingFunc !== 1 && hp.gatingFunc !== 2) throw new Error(`kimi-linear: expert_gating_func ${hp.gatingFunc} is not 1 (softmax) or 2 (sigmoid)`);
    this.tokEmbd = w.get("token_embd.weight", [E, V]);
    this.outNorm = w.f32("output_norm.weight", [E]);
    this.output = w.get("output.weight", [E, V]);
    this.layers = hp.isAttn.map((isAttn, il) => {
      const n = (s: string) => `blk.${il}.${s}`;
      const conv = (s: string) => G.reshape(w.f32(n(s), [K, 1, HD, 1], [[K, 1, HD]]), [K, HD]);
      const R = hp.kvLoraRank, nope = hp.qkNope, rope = hp.qkRope, vh = hp.vHeadMla;
      const layer: Layer = {
        attnNorm: w.f32(n("attn_norm.weight"), [E]),
        ffnNorm: w.f32(n("ffn_norm.weight"), [E]),
        kda: isAttn ? null : {
          wq: w.get(n("attn_q.weight"), [E, HD]), wk: w.get(n("attn_k.weight"), [E, HD]), wv: w.get(n("attn_v.weight"), [E, HD]),
          convQ: conv("ssm_conv1d_q.weight"), convK: conv("ssm_conv1d_k.weight"), convV: conv("ssm_conv1d_v.weight"),
          fA: w.get(n("ssm_f_a.weight"), [E, D]), fB: w.get(n("ssm_f_b.weight"), [D, HD]),
          beta: w.get(n("ssm_beta.weight"), [E, H]),
          a: G.reshape(w.f32(n("ssm_a"), [1, H, 1, 1], [[1, H]]), [1, H, 1, 1]),
          dtBias: w.f32(n("ssm_dt.bias"), [HD]),
          gA: w.get(n("ssm_g_a.weight"), [E, D]), gB: w.get(n("ssm_g_b.weight"), [D, HD]),
          norm: w.f32(n("ssm_norm.weight"), [D]),
          wo: w.get(n("attn_output.weight"), [HD, E]),
        },
        mla: !isAttn ? null : {
          wq: w.get(n("attn_q.weight"), [E, H * (nope + rope)]),
          kvA: w.get(n("attn_kv_a_mqa.weight"), [E, R + rope]),
          kvANorm: w.f32(n("attn_kv_a_norm.weight"), [R]),
          kB: w.get(n("attn_k_b.weight"), [nope, R, H]),
          vB: w.get(n("attn_v_b.weight"), [R, vh, H]),
          wo: w.get(n("attn_output.weight"), [H * vh, E]),
        },
        dense: null, moe: null, shared: null,
      };
      if (il < hp.nLayerDenseLead) {
        layer.dense = {
          gate: w.get(n("ffn_gate.weight"), [E, hp.nFf]), up: w.get(n("ffn_up.weight"), [E, hp.nFf]),
          down: w.get(n("ffn_down.weight"), [hp.nFf, E]),
        };
      } else {
        const X = hp.nExpert, F = hp.nFfExp;
        layer.moe = {
          gateInp: w.get(n("ffn_gate_inp.weight"), [E, X]),
          gateExps: w.get(n("ffn_gate_exps.weight"), [E, F, X]), upExps: w.get(n("ffn_up_exps.weight"), [E, F, X]),
          downExps: w.get(n("ffn_down_exps.weight"), [F, E, X]),
          probsBias: w.f32(n("exp_probs_b.bias"), [X]),
        };
        const Fs = F * Math.max(hp.nExpertShared, 1);
        if (hp.nExpertShared > 0) {
          layer.shared = {
            gate: w.get(n("ffn_gate_shexp.weight"), [E, Fs]), up: w.get(n("ffn_up_shexp.weight"), [E, Fs]),
            down: w.get(n("ffn_down_shexp.weight"), [Fs, E]),
          };
        }
      }
      return layer;
    });
  }

  memorySpecs(): LayerMemorySpec[] {
    const hp = this.hparams;
    const HD = hp.nHead * hp.kdaHeadDim;
    return hp.isAttn.map((a) => a
      ? { kRow: hp.kvLoraRank + hp.qkRope }
      : { conv: [hp.dConv - 1, HD, 3], ssm: [hp.kdaHeadDim, hp.kdaHeadDim, hp.nHead] });
  }

  build(ub: UBatch): G.Tensor | null {
    const hp = this.hparams;
    return decoder(ub, {
      tokEmbd: this.tokEmbd, outNorm: this.outNorm, output: this.output, rmsEps: hp.rmsEps, nLayers: this.layers.length,
      norms: (il) => [this.layers[il].attnNorm, this.layers[il].ffnNorm],
      mixer: (il, h) => { const L = this.layers[il]; return L.kda ? this.kda(ub, il, L.kda, h) : this.mla(ub, il, L.mla!, h); },
      ffn: (il, f) => {
        const L = this.layers[il];
        if (L.dense) return swigluFfn(f, L.dense.gate, L.dense.up, L.dense.down);
        const routed = moe(f, L.moe!, {
          nUsed: hp.nExpertUsed, gating: hp.gatingFunc === 2 ? "sigmoid" : "softmax", normalize: true,
          scale: hp.expertWeightsScale,
        });
        return L.shared ? G.add(routed, swigluFfn(f, L.shared.gate, L.shared.up, L.shared.down)) : routed;
      },
    });
  }

  private kda(ub: UBatch, il: number, w: KdaWeights, x: Tensor): Tensor {
    const hp = this.hparams;
    const H = hp.nHead, D = hp.kdaHeadDim, HD = H * D, K = hp.dConv;
    const nst = ub.nSeqTokens, ns = ub.nSeqs, T = ub.nTokens;
    const convStates = (i: number) => ub.seqs.map((s) => {
      const c = s.layers[il].conv!;
      return G.view(c, [K - 1, HD, 1], undefined, i * (K - 1) * HD * 4);
    });
    const branch = (W: Tensor, cw: Tensor, i: number) =>
      G.reshape(G.silu(causalConv(ub, G.mulMat(W, x), cw, convStates(i))), [D, H, nst, ns]);
    const q = G.l2Norm(branch(w.wq, w.convQ, 0), hp.rmsEps);
    const k = G.l2Norm(branch(w.wk, w.convK, 1), hp.rmsEps);
    const v = branch(w.wv, w.convV, 2);
    const gRaw = G.softplus(G.add(G.mulMat(w.fB, G.mulMat(w.fA, x)), w.dtBias)); // [HD, T]
    const g = G.reshape(G.mul(G.reshape(gRaw, [D, H, T, 1]), w.a), [D, H, nst, ns]);
    const beta = G.reshape(G.sigmoid(G.mulMat(w.beta, x)), [1, H, nst, ns]);
    const out = deltaNet(ub, q, k, v, g, beta, ub.seqs.map((s) => s.layers[il].ssm!));
    const o = rmsNormW(out, w.norm, hp.rmsEps); // [D, H, nst, ns]
    const gate = G.sigmoid(G.reshape(G.mulMat(w.gB, G.mulMat(w.gA, x)), [D, H, nst, ns]));
    return G.mulMat(w.wo, G.reshape(G.mul(o, gate), [HD, T]));
  }

  private mla(ub: UBatch, il: number, w: MlaWeights, x: Tensor): Tensor {
    const hp = this.hparams;
    const H = hp.nHead, R = hp.kvLoraRank, nope = hp.qkNope, rope = hp.qkRope, T = ub.nTokens, nst = ub.nSeqTokens;
    const dq = nope + rope;
    const q = G.reshape(G.mulMat(w.wq, x), [dq, H, T]);
    const qNope = G.view(q, [nope, H, T], [q.nb[1], q.nb[2]], 0);
    const qPe = G.view(q, [rope, H, T], [q.nb[1], q.nb[2]], nope * 4);
    const kv = G.mulMat(w.kvA, x); // [R+rope, T]
    const c = rmsNormW(G.view(kv, [R, T], [kv.nb[1]], 0), w.kvANorm, hp.rmsEps);
    const kPe = G.view(kv, [rope, T], [kv.nb[1]], R * 4);
    // Absorb k_b into q: [nope,H,T] → [R,H,T]
    const qAbs = G.permute(G.mulMat(w.kB, G.cont(G.permute(qNope, 0, 2, 1, 3))), 0, 2, 1, 3);
    const Q = G.concat(G.cont(qAbs), G.cont(qPe), 0); // [R+rope, H, T]
    const Kt = G.concat(c, G.cont(kPe), 0); // [R+rope, T]
    const scale = 1 / Math.sqrt(dq);
    const outs: Tensor[] = [];
    ub.seqs.forEach((seq, s) => {
      const cache = seq.layers[il].k!;
      const nKv = ub.kvLen(s);
      const upd = G.setRows(cache, G.view(Kt, [R + rope, nst], [Kt.nb[1]], s * nst * Kt.nb[1]), ub.cacheRows(s));
      ub.writes.push(upd);
      const kc = readableCache(upd, nKv);
      const kView = G.view(kc, [R + rope, nKv, 1], [kc.nb[1], kc.nb[1] * nKv]);
      const vView = G.view(kc, [R, nKv, 1], [kc.nb[1], kc.nb[1] * nKv]);
      const qs = G.view(Q, [R + rope, H, nst], [Q.nb[1], Q.nb[2]], s * nst * Q.nb[2]);
      outs.push(attention(ub, s, qs, kView, vView, scale, ub.opts.attnScoreLimit)); // [R,H,nst]
    });
    const oc = G.concatAll(outs, 2); // [R,H,T]
    const o = G.mulMat(w.vB, G.cont(G.permute(oc, 0, 2, 1, 3))); // [v,T,H]
    return G.mulMat(w.wo, G.cont(G.permute(o, 0, 2, 1, 3), [hp.vHeadMla * H, T]));
  }
}
