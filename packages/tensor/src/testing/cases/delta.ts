// Delta-net building-block cases: TRI, FILL, DIAG, SOLVE_TRI, SSM_CONV, GATED_DELTA_NET (GDN, KDA, GVA,
// non-contiguous q/k/v, a 64-token chunk).
import { GgmlType } from "../../types.js";
import type { Tensor } from "../../tensor.js";
import { tri, fill, diag, solveTri, ssmConv, gatedDeltaNet } from "../../ops/delta.js";
import { l2Norm } from "../../ops/reduce.js";
import { permute } from "../../ops/layout.js";
import { TriType } from "../../ops/spec.js";
import { defineCase, type CaseBuilder, type OpCase } from "../case.js";
import { uniform, lowerTriangular } from "../init.js";
import { permutedInput } from "./util.js";
import { deltaRuleChunked, deltaRuleRecurrent } from "../../nn/delta-rule.js";

const F32 = GgmlType.F32;

/** q/k of logical shape [S,H,T,N], L2-normalised like the models do; `perm` makes them non-contiguous. */
function normed(b: CaseBuilder, S: number, H: number, T: number, N: number, perm: boolean): Tensor {
  if (!perm) return l2Norm(b.input(F32, [S, H, T, N]), 1e-6);
  return permute(l2Norm(b.input(F32, [S, T, H, N]), 1e-6), 0, 2, 1, 3);
}

export interface GdnParams { H: number; S: number; T: number; N: number; r?: number; kda?: boolean; perm?: boolean }

/** The GATED_DELTA_NET case graph (ops.md §9 initialisation); returns [output, state]. */
export function buildGdn(b: CaseBuilder, { H, S, T, N, r = 1, kda = false, perm = false }: GdnParams,
                         form: "fused" | "chunked" | "recurrent" = "fused", chunkSize = 64): Tensor[] {
  const Hk = H, Hv = H * r;
  const q = normed(b, S, Hk, T, N, perm), k = normed(b, S, Hk, T, N, perm);
  const v = perm ? permute(b.input(F32, [S, T, Hv, N], uniform(-0.3, 5)), 0, 2, 1, 3) : b.input(F32, [S, Hv, T, N], uniform(-0.3, 5));
  const g = b.input(F32, [kda ? S : 1, Hv, T, N], uniform(-20, -1e-4));
  const beta = b.input(F32, [1, Hv, T, N], uniform(0, 1));
  const state = b.input(F32, [S, S, Hv, N]);
  const res = form === "fused" ? gatedDeltaNet(q, k, v, g, beta, state)
    : form === "chunked" ? deltaRuleChunked(q, k, v, g, beta, state, { chunkSize })
    : deltaRuleRecurrent(q, k, v, g, beta, state);
  return [res.output, res.state];
}

export const gdnFlops = ({ H, S, T, N, r = 1 }: GdnParams) => 8 * H * r * S * S * T * N;

export function deltaCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const [name, type] of [["UPPER_DIAG", TriType.UPPER_DIAG], ["UPPER", TriType.UPPER], ["LOWER_DIAG", TriType.LOWER_DIAG], ["LOWER", TriType.LOWER]] as const) {
    out.push(defineCase("TRI", { type: "f32", ne: [10, 10, 4, 3], tri: name }, 1e-7, (b) => tri(b.input(F32, [10, 10, 4, 3]), type)));
  }
  out.push(defineCase("TRI", { type: "f32", ne: [10, 10, 4, 3], tri: "LOWER", permute: [0, 2, 1, 3] }, 1e-7,
    (b) => tri(permutedInput(b, F32, [10, 10, 4, 3], [0, 1, 3, 2]), TriType.LOWER)));
  for (const c of [0, -1.5, 3]) {
    out.push(defineCase("FILL", { type: "f32", ne: [10, 10, 4, 3], c }, 1e-7, (b) => fill(b.input(F32, [10, 10, 4, 3]), c)));
  }
  out.push(defineCase("FILL", { type: "f32", ne: [2048, 512, 2, 2], c: 2 }, 1e-7, (b) => fill(b.input(F32, [2048, 512, 2, 2]), 2), { only: "perf" }));
  out.push(defineCase("DIAG", { type: "f32", ne: [79, 1, 19, 13] }, 1e-7, (b) => diag(b.input(F32, [79, 1, 19, 13]))));
  out.push(defineCase("DIAG", { type: "f32", ne: [5, 1, 2, 1] }, 1e-7, (b) => diag(b.input(F32, [5, 1, 2, 1]))));
  out.push(defineCase("DIAG", { type: "f32", ne: [256, 1, 8, 16] }, 1e-7, (b) => diag(b.input(F32, [256, 1, 8, 16])), { only: "perf" }));
  // SOLVE_TRI: A [n,n,B2,B3] lower U[0.1,1], B [k,n,B2,B3].
  const st: [number, number, number, number, "perf"?][] = [
    [10, 3, 4, 3], [64, 32, 2, 2], [128, 5, 1, 1], [33, 17, 2, 1], [16, 417, 1, 1], [8, 5, 8, 8],
    [64, 32, 4, 4, "perf"], [128, 128, 4, 2, "perf"], [64, 64, 8, 32, "perf"], [128, 128, 4, 32, "perf"], [256, 128, 4, 2, "perf"],
  ];
  for (const [n, k, B2, B3, only] of st) {
    out.push(defineCase("SOLVE_TRI", { type: "f32", ne_lhs: [n, n, B2, B3], ne_rhs: [k, n, B2, B3] }, 1e-7,
      (b) => solveTri(b.input(F32, [n, n, B2, B3], lowerTriangular()), b.input(F32, [k, n, B2, B3])),
      { flops: n * n * k * B2 * B3, only }));
  }
  // SSM_CONV: sx [d_conv−1+T, d_inner, n_s], c [d_conv, d_inner].
  for (const dConv of [3, 4, 9]) for (const dInner of [1024, 1536, 2048]) for (const [T, S] of [[1, 1], [dConv + 1, 1], [2, 4]]) {
    out.push(defineCase("SSM_CONV", { type: "f32", d_conv: dConv, d_inner: dInner, n_t: T, n_s: S }, 5e-4,
      (b) => ssmConv(b.input(F32, [dConv - 1 + T, dInner, S]), b.input(F32, [dConv, dInner])),
      { flops: 2 * dConv * dInner * T * S }));
  }
  for (const T of [515, 1]) {
    out.push(defineCase("SSM_CONV", { type: "f32", d_conv: 4, d_inner: 3328, n_t: T, n_s: 1, size: "perf" }, 5e-4,
      (b) => ssmConv(b.input(F32, [3 + T, 3328, 1]), b.input(F32, [4, 3328])), { flops: 8 * 3328 * T, only: "perf" }));
  }
  const gdn: GdnParams[] = [
    { H: 32, S: 128, T: 1, N: 1 }, { H: 16, S: 64, T: 1, N: 2 }, { H: 4, S: 64, T: 4, N: 2 }, { H: 8, S: 32, T: 4, N: 2, r: 2 },
    { H: 32, S: 128, T: 1, N: 1, kda: true }, { H: 16, S: 64, T: 1, N: 2, kda: true }, { H: 4, S: 64, T: 4, N: 2, kda: true },
    { H: 8, S: 32, T: 4, N: 2, r: 2, kda: true }, { H: 4, S: 32, T: 4, N: 2, perm: true }, { H: 4, S: 32, T: 3, N: 1, r: 2, kda: true, perm: true },
    { H: 2, S: 64, T: 64, N: 1 }, { H: 2, S: 64, T: 64, N: 1, kda: true },
  ];
  for (const p of gdn) {
    const vars = { heads: p.H, head_size: p.S, n_seq_tokens: p.T, n_seqs: p.N, v_repeat: p.r ?? 1, kda: !!p.kda, permuted: !!p.perm };
    out.push(defineCase("GATED_DELTA_NET", vars, 1e-7, (b) => buildGdn(b, p), { flops: gdnFlops(p) }));
  }
  for (const p of [{ H: 32, S: 128, T: 64, N: 1 }, { H: 32, S: 128, T: 1, N: 4, kda: true }] as GdnParams[]) {
    const vars = { heads: p.H, head_size: p.S, n_seq_tokens: p.T, n_seqs: p.N, kda: !!p.kda, size: "perf" };
    out.push(defineCase("GATED_DELTA_NET", vars, 1e-7, (b) => buildGdn(b, p), { flops: gdnFlops(p), only: "perf" }));
  }
  // The decomposed delta rule (nn/delta-rule.ts) as composite "DELTA_RULE" cases: what a backend without a
  // fused kernel runs. f32 intermediates (solve, decay products) justify a looser bound than one op.
  const composite: [GdnParams, "chunked" | "recurrent", number][] = [
    [{ H: 2, S: 32, T: 20, N: 2, r: 2 }, "chunked", 8], [{ H: 2, S: 32, T: 20, N: 2, r: 2, kda: true }, "chunked", 8],
    [{ H: 2, S: 16, T: 70, N: 1, kda: true }, "chunked", 64], [{ H: 2, S: 32, T: 3, N: 2, r: 2, kda: true, perm: true }, "recurrent", 0],
    [{ H: 4, S: 32, T: 1, N: 1 }, "recurrent", 0],
  ];
  for (const kda of [false, true]) {
    const p: GdnParams = { H: 16, S: 128, T: 256, N: 1, kda };
    composite.push([p, "chunked", 64]);
  }
  for (const [p, form, cs] of composite) {
    const perfOnly = p.T >= 256;
    const vars = { form, chunk: cs || undefined, heads: p.H, head_size: p.S, n_seq_tokens: p.T, n_seqs: p.N, v_repeat: p.r ?? 1, kda: !!p.kda, permuted: !!p.perm };
    out.push(defineCase("DELTA_RULE", { ...vars, size: perfOnly ? "perf" : undefined }, 1e-6, (b) => buildGdn(b, p, form, cs),
      { flops: gdnFlops(p), only: perfOnly ? "perf" : undefined }));
  }
  return out;
}
