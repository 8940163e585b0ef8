// Reductions, norms, products, attention, RoPE, selection and the delta-net family on WebGPU vs the reference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as T from "@ggts/tensor";
import { GgmlType as G, RopeMode, SortOrder, tensor } from "@ggts/tensor";
import { defineCases, f32, gpuOrReason, i32, rand, typed, uniform, type Case } from "./helpers.js";
import type { WebGpuBackend } from "../src/index.js";

const probe = await gpuOrReason();
let gpu: WebGpuBackend | null = null;

/** Rows of distinct shuffled values (ARGMAX/ARGSORT inputs must not tie). */
function distinctRows(n0: number, nr: number): T.Tensor {
  const v = new Float32Array(n0 * nr);
  for (let r = 0; r < nr; r++) {
    const p = Array.from({ length: n0 }, (_, i) => i);
    for (let i = n0 - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [p[i], p[j]] = [p[j], p[i]]; }
    p.forEach((x, i) => { v[r * n0 + i] = (x - n0 / 2) * 0.37; });
  }
  return tensor(G.F32, [n0, nr], v);
}
const MM = 5e-4;
const MATMUL_TYPES = [G.F32, G.F16, G.BF16, G.Q4_0, G.Q4_1, G.Q5_0, G.Q5_1, G.Q8_0, G.Q2_K, G.Q3_K, G.Q4_K, G.Q5_K,
  G.Q6_K, G.IQ4_NL, G.IQ4_XS];
const mask = (nkv: number, nq: number, type = G.F32, m2 = 1) => {
  const v = new Float32Array(nkv * nq * m2);
  for (let h = 0; h < m2; h++) for (let q = 0; q < nq; q++) for (let j = 0; j < nkv; j++) {
    v[(h * nq + q) * nkv + j] = j > q + nkv - nq ? -Infinity : uniform(1)[0];
  }
  return type === G.F32 ? tensor(G.F32, [nkv, nq, m2], v) : tensor(type, [nkv, nq, m2], T.quantize(type, v));
};
const logDecay = (shape: number[]) => tensor(G.F32, shape, uniform(shape.reduce((a, b) => a * b, 1), -2, -1e-4));

const cases: Case[] = [
  { name: "sum", build: () => [T.sum(f32([10, 5, 3]))] },
  { name: "sum_rows non-contiguous", build: () => [T.sumRows(T.transpose(f32([6, 70])))] },
  { name: "mean", build: () => [T.mean(f32([130, 5]))] },
  { name: "argmax", build: () => [T.argmax(distinctRows(300, 7))], tol: 0 },
  { name: "count_equal", build: () => [T.countEqual(i32([6], [1, 2, 3, 4, 5, 6]), i32([6], [1, 0, 3, 4, 0, 6]))], tol: 0 },
  ...[10, 127, 1023, 2048].map((n): Case => ({ name: `cumsum ${n}`, build: () => [T.cumsum(f32([n, 3]))], tol: 1e-6 })),
  { name: "rms_norm", build: () => [T.rmsNorm(f32([300, 4]), 1e-6)] },
  { name: "norm", build: () => [T.norm(f32([300, 4]), 1e-5)] },
  ...[0, 1e-6, 0.1].flatMap((eps): Case[] => [
    { name: `l2_norm eps ${eps}`, build: () => [T.l2Norm(f32([64, 3]), eps)] },
    { name: `l2_norm non-contiguous eps ${eps}`, build: () => [T.l2Norm(T.permute(f32([3, 65, 2]), 1, 0, 2), eps)] },
  ]),
  ...MATMUL_TYPES.map((t): Case =>
    ({ name: `mul_mat ${T.typeName(t)} m=6`, build: () => [T.mulMat(typed(t, [256, 9]), f32([256, 6]))], tol: MM })),
  ...[G.F16, G.Q8_0, G.Q4_K, G.Q6_K].map((t): Case =>
    ({ name: `mul_mat ${T.typeName(t)} vec`, build: () => [T.mulMat(typed(t, [512, 17]), f32([512, 1]))], tol: MM })),
  { name: "mul_mat batch broadcast", build: () => [T.mulMat(f32([32, 7, 2, 1]), f32([32, 5, 4, 3]))], tol: MM },
  { name: "mul_mat non-contiguous b", build: () => [T.mulMat(typed(G.F16, [16, 7]), T.transpose(f32([5, 16])))], tol: MM },
  { name: "mul_mat_id q4_K", build: () => [T.mulMatId(typed(G.Q4_K, [256, 6, 4]), f32([256, 2, 3]), i32([2, 3], [3, 0, 1, 1, 2, 3]))], tol: MM },
  { name: "mul_mat_id f32 broadcast b", build: () => [T.mulMatId(f32([32, 6, 5]), f32([32, 1, 3]), i32([2, 3], [4, 0, 1, 2, 2, 3]))], tol: MM },
  { name: "out_prod", build: () => [T.outProd(f32([7, 5, 2]), f32([6, 5, 4]))], tol: MM },
  { name: "soft_max", build: () => [T.softMax(f32([33, 5, 3]), { scale: 0.7 })], tol: 1e-6 },
  { name: "soft_max mask f16 alibi", build: () => [T.softMax(f32([16, 4, 6]), { mask: mask(16, 4, G.F16), scale: 0.5, maxBias: 8 })], tol: 1e-6 },
  { name: "soft_max mask f32 per head", build: () => [T.softMax(f32([16, 4, 6]), { mask: mask(16, 4, G.F32, 3) })], tol: 1e-6 },
  { name: "flash_attn f16 kv gqa mask", build: () => [T.flashAttnExt(f32([64, 3, 4, 1]), typed(G.F16, [64, 10, 2, 1]), typed(G.F16, [64, 10, 2, 1]), { mask: mask(10, 3, G.F16), scale: 0.125 })], tol: MM },
  { name: "flash_attn f32 softcap alibi", build: () => [T.flashAttnExt(f32([32, 2, 4, 2]), f32([32, 7, 4, 2]), f32([48, 7, 4, 2]), { scale: 0.2, maxBias: 4, logitSoftcap: 20 })], tol: MM },
  { name: "flash_attn q8_0 kv", build: () => [T.flashAttnExt(f32([64, 2, 2, 1]), typed(G.Q8_0, [64, 6, 2, 1]), typed(G.Q8_0, [64, 6, 2, 1]), { scale: 0.125 })], tol: MM },
  ...[RopeMode.NORMAL, RopeMode.NEOX].flatMap((mode): Case[] => [
    { name: `rope mode ${mode}`, build: () => [T.rope(f32([64, 4, 5]), i32([5], [0, 1, 7, 100, 513]), { nDims: 64, mode, freqBase: 10000 })] },
    { name: `rope mode ${mode} partial yarn freq factors`, build: () => [T.rope(f32([64, 2, 3]), i32([3], [3, 40, 900]), {
      nDims: 32, mode, freqBase: 1e6, freqScale: 0.25, nCtxOrig: 4096, extFactor: 1, attnFactor: 1, betaFast: 32, betaSlow: 1,
      freqFactors: f32([16], 1, 4) })] },
  ]),
  { name: "rope in place after add", build: () => [T.rope(T.add(f32([16, 2, 3]), f32([16, 2, 3])), i32([3], [1, 2, 3]), { nDims: 16 })] },
  { name: "argsort asc", build: () => [T.argsort(distinctRows(37, 4), SortOrder.ASC)], tol: 0 },
  { name: "argsort desc", build: () => [T.argsort(distinctRows(37, 4), SortOrder.DESC)], tol: 0 },
  { name: "top_k", build: () => [T.topK(distinctRows(64, 5), 8)], tol: 0 },
  { name: "solve_tri", build: () => {
    const n = 10, v = new Float32Array(n * n * 12);
    for (let b = 0; b < 12; b++) for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++) v[b * n * n + r * n + c] = 0.1 + 0.9 * rand();
    return [T.solveTri(tensor(G.F32, [n, n, 4, 3], v), f32([3, n, 4, 3]))];
  }, tol: 1e-6 },
  { name: "ssm_conv", build: () => [T.ssmConv(f32([3 + 5, 24, 2]), f32([4, 24]))] },
  { name: "gated_delta_net scalar gate", build: () => {
    const [S, Hk, Hv, Tn, N] = [16, 2, 4, 3, 2];
    const r = T.gatedDeltaNet(T.l2Norm(f32([S, Hk, Tn, N]), 1e-6), T.l2Norm(f32([S, Hk, Tn, N]), 1e-6), f32([S, Hv, Tn, N]),
      logDecay([1, Hv, Tn, N]), f32([1, Hv, Tn, N], 0, 1), f32([S, S, Hv, N]));
    return [r.output, r.state];
  }, tol: 1e-6 },
  { name: "gated_delta_net per-channel gate (KDA)", build: () => {
    const [S, H, Tn, N] = [32, 2, 4, 1];
    const r = T.gatedDeltaNet(T.l2Norm(f32([S, H, Tn, N]), 1e-6), T.l2Norm(f32([S, H, Tn, N]), 1e-6), f32([S, H, Tn, N]),
      logDecay([S, H, Tn, N]), f32([1, H, Tn, N], 0, 1), f32([S, S, H, N]));
    return [r.output, r.state];
  }, tol: 1e-6 },
];

describe.skipIf(!probe.gpu)(`webgpu math ${probe.reason}`, () => {
  beforeAll(() => { gpu = probe.gpu; });
  afterAll(() => gpu?.dispose());
  defineCases(it, () => gpu, cases, expect);
});
if (!probe.gpu) it.skip(`webgpu unavailable: ${probe.reason}`, () => { /* skipped with the reason */ });
