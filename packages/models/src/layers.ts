// Layer helpers shared by the architectures: norms, FFN/MoE, causal conv with carried state, the delta rule
// (fused or decomposed) and attention over a per-sequence KV cache.
import * as G from "@ggts/tensor";
import { GgmlType, Tensor, tensor } from "@ggts/tensor";
import type { UBatch } from "./ubatch.js";

export const rmsNormW = (x: Tensor, w: Tensor, eps: number) => G.mul(G.rmsNorm(x, eps), w);

/** down · (silu(gate·x) ⊙ up·x) */
export function swigluFfn(x: Tensor, gate: Tensor, up: Tensor, down: Tensor): Tensor {
  return G.mulMat(down, G.swiglu(G.mulMat(gate, x), G.mulMat(up, x)));
}

export interface MoeWeights {
  gateInp: Tensor;
  gateExps: Tensor;
  upExps: Tensor;
  downExps: Tensor;
  probsBias?: Tensor | null;
}

export interface MoeOptions {
  nUsed: number;
  gating: "softmax" | "sigmoid";
  normalize: boolean;
  scale: number;
}

/** Routed experts (llama.cpp build_moe_ffn): x [E,T] → [E,T]. */
export function moe(x: Tensor, w: MoeWeights, o: MoeOptions): Tensor {
  const [E, T] = [x.ne[0], x.ne[1]];
  const nExp = w.gateInp.ne[1];
  const logits = G.mulMat(w.gateInp, x); // [nExp, T]
  const probs = o.gating === "sigmoid" ? G.sigmoid(logits) : G.softMax(logits);
  const selScores = w.probsBias ? G.add(probs, w.probsBias) : probs;
  const selected = G.argsortTopK(selScores, o.nUsed); // [k, T] i32
  let weights = G.getRows(G.reshape(probs, [1, nExp, T]), selected); // [1, k, T]
  if (o.normalize) {
    const w2 = G.reshape(weights, [o.nUsed, T]);
    const sum = G.clamp(G.sumRows(w2), 6.103515625e-5, Infinity); // [1, T]
    weights = G.reshape(G.div(w2, sum), [1, o.nUsed, T]);
  }
  if (o.scale !== 1) weights = G.scale(weights, o.scale);
  const xe = G.reshape(x, [E, 1, T]);
  const gate = G.mulMatId(w.gateExps, xe, selected); // [ff, k, T]
  const up = G.mulMatId(w.upExps, xe, selected);
  const experts = G.mul(G.mulMatId(w.downExps, G.swiglu(gate, up), selected), weights); // [E, k, T]
  let out: Tensor | null = null;
  for (let i = 0; i < o.nUsed; i++) {
    const v = G.view(experts, [E, T], [experts.nb[2]], i * experts.nb[1]);
    out = out ? G.add(out, v) : G.cont(v);
  }
  return out!;
}

/**
 * Causal depthwise conv with carried state: x [C, nst·ns] (already projected), state views per sequence
 * [K−1, C, 1] each. Returns [C, nst, ns] before activation and records the state write-back.
 */
export function causalConv(ub: UBatch, x: Tensor, w: Tensor, states: readonly Tensor[]): Tensor {
  const C = x.ne[0], nst = ub.nSeqTokens, ns = ub.nSeqs;
  const K = w.ne[0];
  const st = G.concatAll(states, 2);
  const sx = G.concat(st, G.transpose(G.reshape(x, [C, nst, ns])), 0); // [K−1+nst, C, ns]
  for (let s = 0; s < ns; s++) {
    const last = G.view(sx, [K - 1, C, 1], [sx.nb[1], sx.nb[2]], nst * sx.nb[0] + s * sx.nb[2]);
    ub.earlyWrites.push(G.cpy(last, states[s])); // the state's only reader, the concat, is a source of the copy
  }
  return G.ssmConv(sx, w);
}

/** The delta rule over [S,H,nst,ns] inputs; state views per sequence [S,S,Hv,1]; records the state write-back. */
export function deltaNet(ub: UBatch, q: Tensor, k: Tensor, v: Tensor, g: Tensor, beta: Tensor,
                         states: readonly Tensor[]): Tensor {
  const st = G.concatAll(states, 3);
  const r = runDeltaRule(ub, q, k, v, g, beta, st);
  for (let s = 0; s < ub.nSeqs; s++) {
    const nb = r.state.nb;
    const one = G.view(r.state, [r.state.ne[0], r.state.ne[1], r.state.ne[2], 1], [nb[1], nb[2], nb[3]], s * nb[3]);
    // The fused op is the state's only reader; the decomposed graphs read it in nodes the copy does not follow.
    (ub.opts.deltaNet === "fused" ? ub.earlyWrites : ub.writes).push(G.cpy(one, states[s]));
  }
  return r.output;
}

function runDeltaRule(ub: UBatch, q: Tensor, k: Tensor, v: Tensor, g: Tensor, beta: Tensor, state: Tensor) {
  if (ub.opts.deltaNet === "fused") return G.gatedDeltaNet(q, k, v, g, beta, state);
  // Decomposed like llama.cpp: chunked for prompts, the token recurrence for one-token ubatches.
  return ub.nSeqTokens > 1
    ? G.deltaRuleChunked(q, k, v, g, beta, state, { chunkSize: ub.opts.chunkSize })
    : G.deltaRuleRecurrent(q, k, v, g, beta, state);
}

/** A cache view as f32 when the cache is quantized (getRows dequantizes), else the view itself. */
export function readableCache(cache: Tensor, nKv: number): Tensor {
  if (cache.type === GgmlType.F32 || cache.type === GgmlType.F16) return cache;
  const idx = tensor(GgmlType.I32, [nKv], Int32Array.from({ length: nKv }, (_, i) => i), "kv_rows");
  return G.getRows(G.view(cache, [cache.ne[0], nKv], [cache.nb[1]]), idx);
}

/** Default bound on attention score elements (n_kv · queries · heads) per product; longer query runs are split. */
export const ATTN_SCORE_LIMIT = 1 << 24;

/**
 * Causal attention of sequence s of the ubatch: q [D,H,nq]; k [D,n_kv,Hkv] and v [Dv,n_kv,Hkv] are cache views
 * (any strides, n_kv = ub.kvLen(s)). Queries are processed in groups so the score matrix and the mask stay below
 * `limit` elements however long the context. Returns [Dv,H,nq] contiguous.
 */
export function attention(ub: UBatch, s: number, q: Tensor, k: Tensor, v: Tensor, scale: number,
                          limit = ATTN_SCORE_LIMIT): Tensor {
  const flash = ub.opts.flashAttn;
  const [, H, nq] = q.ne;
  const nKv = k.ne[1];
  const group = Math.max(1, Math.min(nq, Math.floor(limit / (nKv * H))));
  const vt = flash ? v : G.cont(G.permute(v, 1, 0, 2, 3)); // [n_kv, Dv, Hkv]
  const outs: Tensor[] = [];
  for (let i = 0; i < nq; i += group) {
    const n = Math.min(group, nq - i);
    const qi = n === nq ? q : G.view(q, [q.ne[0], H, n], [q.nb[1], q.nb[2]], i * q.nb[2]);
    const qp = G.cont(G.permute(qi, 0, 2, 1, 3)); // [D, n, H]
    const mask = ub.causalMask(s, nKv, i, n);
    if (flash) { outs.push(G.flashAttnExt(qp, k, v, { mask, scale })); continue; }
    const kq = G.softMax(G.mulMat(k, qp), { mask, scale }); // [n_kv, n, H]
    const kqv = G.mulMat(vt, kq); // [Dv, n, H]
    outs.push(G.cont(G.permute(kqv, 0, 2, 1, 3)));
  }
  return G.concatAll(outs, 2);
}

/** Concatenates along dim as a balanced tree (a chain would copy O(n²) bytes). */
/** Selects the rows to output (getRows over tokens) when not all are wanted. */
export function selectRows(x: Tensor, ub: UBatch): Tensor {
  if (ub.outRows.length === ub.nTokens && ub.outRows.every((r, i) => r === i)) return x;
  const idx = tensor(GgmlType.I32, [ub.outRows.length], Int32Array.from(ub.outRows), "inp_out_ids");
  return G.getRows(x, idx);
}


export interface DecoderParts {
  tokEmbd: Tensor;
  outNorm: Tensor;
  output: Tensor;
  rmsEps: number;
  nLayers: number;
  /** Pre-mixer norm weight and post-mixer (pre-FFN) norm weight of layer il. */
  norms(il: number): [Tensor, Tensor];
  mixer(il: number, h: Tensor): Tensor;
  ffn(il: number, h: Tensor): Tensor;
}

/**
 * The pre-norm residual skeleton both architectures share: embed, then per layer
 * h = x + mixer(norm(x)), x = h + ffn(norm(h)); logits of the rows the ubatch wants (null when it wants none).
 */
export function decoder(ub: UBatch, d: DecoderParts): Tensor | null {
  let x = G.getRows(d.tokEmbd, ub.tokenIds());
  for (let il = 0; il < d.nLayers; il++) {
    const [attnNorm, ffnNorm] = d.norms(il);
    let cur = d.mixer(il, rmsNormW(x, attnNorm, d.rmsEps));
    const last = il === d.nLayers - 1;
    // No logits wanted: the last layer only has to update its memory.
    if (last && ub.outRows.length === 0) return null;
    let res = x;
    if (last) { cur = selectRows(cur, ub); res = selectRows(res, ub); }
    const h = G.add(cur, res);
    x = G.add(d.ffn(il, rmsNormW(h, ffnNorm, d.rmsEps)), h);
  }
  return G.mulMat(d.output, rmsNormW(x, d.outNorm, d.rmsEps));
}
