// The gated delta rule (models.md §5.3) built from primitive ops, with GATED_DELTA_NET's argument layout:
// q, k [S, Hk, T, N]; v [S, Hv, T, N]; g [1|S, Hv, T, N] (1: GDN scalar gate, S: KDA per-key gate);
// beta [1, Hv, T, N]; state [S, S, Hv, N] with the key index contiguous. Value head h reads key head
// ⌊h/(Hv/Hk)⌋. q is scaled by 1/sqrt(S) here. Any backend that has the primitives can run these graphs.
import type { Tensor } from "../tensor.js";
import { check } from "../ops/define.js";
import { add, sub, mul, scale, exp } from "../ops/elementwise.js";
import { cumsum } from "../ops/reduce.js";
import { mulMat } from "../ops/matmul.js";
import { tri, fill, diag, solveTri, checkDeltaRuleArgs, type DeltaRuleDims } from "../ops/delta.js";
import { TriType } from "../ops/spec.js";
import { view, reshape, permute, transpose, cont, concat, concatAll, pad, repeat } from "../ops/layout.js";

export interface DeltaRuleResult {
  /** Attention output [S, Hv, T, N]. */
  output: Tensor;
  /** New state [S, S, Hv, N], key index contiguous. */
  state: Tensor;
}

export interface DeltaRuleChunkedOptions {
  /** Tokens per chunk (64 in llama.cpp); the sequence is zero-padded to a multiple of it. */
  chunkSize?: number;
}

type Dims = DeltaRuleDims;

function validate(op: string, q: Tensor, k: Tensor, v: Tensor, g: Tensor, beta: Tensor, state: Tensor): Dims {
  const d = checkDeltaRuleArgs(op, q, k, v, g, beta, state);
  check(d.T >= 1, op, () => `no tokens (T = 0)`);
  return d;
}

/** Views below assume element-contiguous rows. */
const rowsContiguous = (t: Tensor) => (t.nb[0] === 4 ? t : cont(t));

/**
 * Token-by-token form (llama.cpp's path for one-token micro-batches): per token, decay the state,
 * compute δ = β(v − Sᵀk), add k δᵀ, read o = Sᵀq/√S. Heads and sequences are batched in every product;
 * GVA uses MUL_MAT's interleaved head broadcast, so q/k are never repeated.
 */
export function deltaRuleRecurrent(q: Tensor, k: Tensor, v: Tensor, g: Tensor, beta: Tensor, state: Tensor): DeltaRuleResult {
  const { S, Hk, Hv, T, N, kda } = validate("deltaRuleRecurrent", q, k, v, g, beta, state);
  q = rowsContiguous(q); k = rowsContiguous(k); v = rowsContiguous(v); g = rowsContiguous(g);
  const Sg = kda ? S : 1;
  let st = state;
  const outs: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    // Token t as matrices whose batch dims are (head, sequence).
    const qt = view(q, [S, 1, Hk, N], [q.nb[1], q.nb[1], q.nb[3]], t * q.nb[2]);
    const kt = view(k, [S, 1, Hk, N], [k.nb[1], k.nb[1], k.nb[3]], t * k.nb[2]);
    const ktCol = view(k, [1, S, Hk, N], [4, k.nb[1], k.nb[3]], t * k.nb[2]);
    const vt = view(v, [1, S, Hv, N], [4, v.nb[1], v.nb[3]], t * v.nb[2]);
    const gt = view(g, [Sg, 1, Hv, N], [g.nb[1], g.nb[1], g.nb[3]], t * g.nb[2]);
    const bt = view(beta, [1, 1, Hv, N], [beta.nb[1], beta.nb[1], beta.nb[3]], t * beta.nb[2]);
    st = mul(st, exp(gt));                           // row d of S scaled by exp(g[d]) (or exp(g))
    const sk = mulMat(kt, st);                       // [1, S(e), Hv, N] = Sᵀk
    const delta = mul(sub(vt, sk), bt);
    st = add(st, mulMat(ktCol, delta));              // k δᵀ as a K = 1 product: [S(d), S(e), Hv, N]
    const o = scale(mulMat(qt, st), 1 / Math.sqrt(S));
    outs.push(reshape(o, [S, Hv, 1, N]));
  }
  return { output: concatAll(outs, 2), state: st };
}

/** Value head h of the result reads head ⌊h/r⌋ of x [S, H, T, N] (repeat-interleave along dim 1). */
function repeatHeads(x: Tensor, r: number): Tensor {
  if (r === 1) return x;
  const [S, H, T, N] = x.ne;
  const c = x.isContiguous ? x : cont(x);
  return reshape(repeat(reshape(c, [S, 1, H, T * N]), [S, r, H, T * N]), [S, r * H, T, N]);
}

/** [X, H, T, N] → zero-padded to Tp tokens → [X, C, H, nc·N] contiguous (chunk-minor batch index). */
function toChunks(x: Tensor, Tp: number, C: number): Tensor {
  const [X, H, T, N] = x.ne;
  const p = Tp > T ? pad(x, 0, 0, Tp - T) : x.isContiguous ? x : cont(x);
  return cont(permute(reshape(p, [X, H, C, (Tp / C) * N]), 0, 2, 1, 3));
}

/**
 * Chunked form (llama.cpp's path for prompts), chunk size C: all chunks of all heads and sequences are
 * processed together with batched 4-D products; only the state hand-over between chunks is sequential.
 * Per chunk (rows r, columns c, G = in-chunk cumsum of g, Γ(r,c) = exp(G_r − G_c) for c ≤ r):
 *   A = β_r Σ_d k_r k_c Γ (c < r);  (I + A)·[U | W] = [β·V | β·K·e^G];  KQ = Σ_d q_r k_c Γ (c ≤ r);
 *   V' = U − W·S;  O = (Q·e^G)·S + KQ·V';  S ← e^{G_last}·S + (K·e^{G_last−G})ᵀ·V'.
 * Only non-positive exponents are ever evaluated (the upper triangle is zeroed before exp).
 */
export function deltaRuleChunked(q: Tensor, k: Tensor, v: Tensor, g: Tensor, beta: Tensor, state: Tensor,
                                 opts: DeltaRuleChunkedOptions = {}): DeltaRuleResult {
  const op = "deltaRuleChunked";
  const { S, Hk, Hv: H, T, N, kda } = validate(op, q, k, v, g, beta, state);
  const C = opts.chunkSize ?? 64;
  check(Number.isInteger(C) && C >= 1, op, () => `chunkSize must be a positive integer, got ${C}`);
  const nc = Math.ceil(T / C), Tp = nc * C, J = nc * N;
  const r = H / Hk;

  const Q = toChunks(scale(repeatHeads(q, r), 1 / Math.sqrt(S)), Tp, C);   // [S, C, H, J]
  const K = toChunks(repeatHeads(k, r), Tp, C);                          // [S, C, H, J]
  const V = toChunks(v, Tp, C);                                          // [S, C, H, J]
  const B = toChunks(beta, Tp, C);                                       // [1, C, H, J]
  // Inclusive in-chunk cumsum of g, time on ne0 for CUMSUM.
  let Gt: Tensor;                                                        // [C, Sg, H, J]
  if (kda) Gt = cumsum(cont(transpose(toChunks(g, Tp, C))));
  else Gt = cumsum(reshape(toChunks(g, Tp, C), [C, 1, H, J]));
  // G with time on ne1, like K: [Sg, C, H, J].
  const G = kda ? cont(transpose(Gt)) : reshape(Gt, [1, C, H, J]);
  const eG = exp(G);

  // causal[c, r] = 1 for c ≤ r: masks differences before and after exp.
  // (FILL only takes its operand's shape; a small repeat provides a [C, C] one.)
  const ones = fill(repeat(view(Gt, [C, 1, 1, 1]), [C, C, 1, 1]), 1);
  const causal = tri(ones, TriType.LOWER_DIAG);                          // [C(c), C(r)]

  let A: Tensor, KQ: Tensor;                                             // [C(c), C(r), H, J]
  if (kda) {
    // Γ[d, c, r] for every key channel; contract over d with batched mat-vecs.
    const HJ = H * J;
    const Gr = reshape(G, [S, 1, C, HJ]), Gc = reshape(G, [S, C, 1, HJ]);
    const mask = reshape(causal, [1, C, C, 1]);
    const diff = mul(sub(repeat(Gr, [S, C, C, HJ]), Gc), mask);         // G_r − G_c, zero where c > r
    const gamma = mul(exp(diff), mask);
    const X = mul(gamma, reshape(K, [S, C, 1, HJ]));                     // k_c[d]·Γ[d,c,r]
    A = reshape(mulMat(X, reshape(K, [S, 1, C, HJ])), [C, C, H, J]);
    KQ = reshape(mulMat(X, reshape(Q, [S, 1, C, HJ])), [C, C, H, J]);
  } else {
    const Gc = Gt;                                                       // [C, 1, H, J]
    const Gr = reshape(Gt, [1, C, H, J]);
    const diff = tri(sub(repeat(Gr, [C, C, H, J]), Gc), TriType.LOWER_DIAG);
    const D = tri(exp(diff), TriType.LOWER_DIAG);
    A = mul(mulMat(K, K), D);
    KQ = mul(mulMat(K, Q), D);
  }
  A = tri(mul(A, B), TriType.LOWER);                                     // β_r scales row r; strictly lower

  // (I + A)·[U | W] = [β·V | β·K·e^G] in one triangular solve.
  const I = diag(fill(view(Gt, [C, 1, H, J], [Gt.nb[1], Gt.nb[2], Gt.nb[3]], 0), 1));
  const rhs = concat(mul(V, B), mul(mul(K, eG), B), 0);                 // [2S, C, H, J]
  const UW = solveTri(add(A, I), rhs);
  const U = cont(view(UW, [S, C, H, J], [UW.nb[1], UW.nb[2], UW.nb[3]], 0));
  const W = cont(view(UW, [S, C, H, J], [UW.nb[1], UW.nb[2], UW.nb[3]], S * 4));
  const Qg = mul(Q, eG);                                                 // [S, C, H, J]

  // Per-chunk decays: e^{G_last} for the state and K·e^{G_last − G} for the update (exponents <= 0).
  const Sg = kda ? S : 1;
  const Glast = cont(view(G, [Sg, 1, H, J], [G.nb[1], G.nb[2], G.nb[3]], (C - 1) * G.nb[1]));
  const eGlast = exp(Glast);                                             // [Sg, 1, H, J]
  const KdT = cont(transpose(mul(K, exp(scale(sub(G, Glast), -1)))));    // [C, S, H, J]

  const chunk = (x: Tensor, i: number) => view(x, [x.ne[0], x.ne[1], H, N], [x.nb[1], x.nb[2], x.nb[3] * nc], i * x.nb[3]);
  let st = state;
  const outs: Tensor[] = [];
  for (let i = 0; i < nc; i++) {
    const Vp = sub(chunk(U, i), mulMat(st, chunk(W, i)));                // [S(e), C(r), H, N]
    const VpT = cont(transpose(Vp));                                     // [C, S(e), H, N]
    outs.push(add(mulMat(st, chunk(Qg, i)), mulMat(VpT, chunk(KQ, i)))); // [S(e), C(r), H, N]
    st = add(mul(st, chunk(eGlast, i)), mulMat(chunk(KdT, i), VpT));     // [S(d), S(e), H, N]
  }
  const o = permute(concatAll(outs, 1), 0, 2, 1, 3);                     // [S, H, Tp, N]
  const output = Tp === T ? cont(o) : cont(view(o, [S, H, T, N], [o.nb[1], o.nb[2], o.nb[3]], 0));
  return { output, state: st };
}
