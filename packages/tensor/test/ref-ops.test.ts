// Hand-checked reference kernels: tiny inputs whose results are worked out by hand or from closed forms.
import { describe, it, expect } from "vitest";
import {
  GgmlType, tensor, view, reshape, permute, transpose, cont, cpy, concat, pad, padExt, set, repeat, getRows, setRows,
  add, mul, sub, div, scale, clamp, glu, swiglu, geglu, reglu, sum, sumRows, mean, argmax, countEqual, cumsum, rmsNorm,
  norm, l2Norm, mulMat, mulMatId, outProd, softMax, flashAttnExt, rope, argsort, topK, argsortTopK, tri, fill, diag,
  solveTri, ssmConv, gatedDeltaNet, dup, silu, gelu, softplus, GluOp, RopeMode, SortOrder, TriType, ReferenceBackend,
  run, readI32, Graph, quantize, dequantize, type Tensor,
} from "@ggts/tensor";

const F32 = GgmlType.F32, I32 = GgmlType.I32;
const seq = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));
const ref = () => new ReferenceBackend();
async function one(t: Tensor): Promise<number[]> { return Array.from((await run(ref(), [t]))[0]); }
async function ints(t: Tensor): Promise<number[]> {
  const be = ref();
  await be.compute(new Graph([t]));
  return Array.from(await readI32(be, t));
}
const close = (got: number[], want: number[], digits = 5) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g, `element ${i}`).toBeCloseTo(want[i], digits));
};

describe("views and layout (ggml semantics)", () => {
  it("permute moves source dim i to position ax_i", async () => {
    const a = tensor(F32, [2, 3, 4], seq(24)); // a[i0,i1,i2] = i0 + 2 i1 + 6 i2
    const p = permute(a, 1, 2, 0, 3);           // ne' = [4, 2, 3]
    expect(p.ne).toEqual([4, 2, 3, 1]);
    const v = await one(cont(p));
    const want: number[] = [];
    for (let j2 = 0; j2 < 3; j2++) for (let j1 = 0; j1 < 2; j1++) for (let j0 = 0; j0 < 4; j0++) want.push(j1 + 2 * j2 + 6 * j0);
    expect(v).toEqual(want);
  });
  it("transpose, view with strides/offset, reshape and cont_2d", async () => {
    const a = tensor(F32, [3, 2], [1, 2, 3, 4, 5, 6]);
    expect(await one(cont(transpose(a)))).toEqual([1, 4, 2, 5, 3, 6]);
    // Column 1..2 of each row: ne [2,2], row stride 12 bytes, offset 4 bytes.
    expect(await one(cont(view(a, [2, 2], [12], 4)))).toEqual([2, 3, 5, 6]);
    expect(await one(cont(reshape(a, [2, 3])))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await one(cont(transpose(a), [6]))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(await one(dup(transpose(a)))).toEqual([1, 4, 2, 5, 3, 6]);
  });
  it("cpy writes in logical order into a strided view and converts to f16", async () => {
    const src = tensor(F32, [2, 2], [1, 2, 3, 4]);
    const dst = tensor(F32, [2, 2], [0, 0, 0, 0]);
    expect(await one(cpy(src, transpose(dst)))).toEqual([1, 2, 3, 4]); // the view reads back in its own order
    const d16 = tensor(GgmlType.F16, [3]);
    expect(await one(cpy(tensor(F32, [3], [1 / 3, 65504, -2.5]), d16))).toEqual([0.333251953125, 65504, -2.5]);
  });
  it("concat, pad, pad_ext, repeat", async () => {
    const a = tensor(F32, [2, 2], [1, 2, 3, 4]), b = tensor(F32, [1, 2], [5, 6]);
    expect(await one(concat(a, b, 0))).toEqual([1, 2, 5, 3, 4, 6]);
    expect(await one(concat(a, tensor(F32, [2, 1], [7, 8]), 1))).toEqual([1, 2, 3, 4, 7, 8]);
    expect(await one(pad(a, 1, 1))).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
    expect(await one(padExt(tensor(F32, [2], [1, 2]), 1, 2))).toEqual([0, 1, 2, 0, 0]);
    expect(await one(repeat(tensor(F32, [2, 1], [1, 2]), [4, 2]))).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
  });
  it("set copies a and writes b at a byte offset with given strides; i32 too", async () => {
    const a = tensor(F32, [3, 3], seq(9));
    const b = tensor(F32, [2, 2], [10, 11, 12, 13]);
    expect(await one(set(a, b, 12, 36, 36, 4))).toEqual([0, 10, 11, 3, 12, 13, 6, 7, 8]);
    expect(await one(set(a, b, 12, 36, 36, 4, true))).toEqual([0, 10, 11, 3, 12, 13, 6, 7, 8]);
    const ai = tensor(I32, [4], [1, 2, 3, 4]);
    expect(await ints(set(ai, tensor(I32, [2], [9, 9]), 16, 16, 16, 8))).toEqual([1, 2, 9, 9]);
  });
});

describe("rows: get_rows / set_rows, plain and quantized", () => {
  it("get_rows with batch dims", async () => {
    const a = tensor(F32, [2, 3, 2], seq(12)); // row r of batch b = [2(3b+r), 2(3b+r)+1]
    const idx = tensor(I32, [2, 2], [2, 0, 1, 1]);
    expect(await one(getRows(a, idx))).toEqual([4, 5, 0, 1, 8, 9, 8, 9]);
    expect(await ints(getRows(tensor(I32, [1, 3], [7, 8, 9]), tensor(I32, [2], [2, 0])))).toEqual([9, 7]);
  });
  it("get_rows dequantizes q8_0 (exactly representable rows)", async () => {
    const vals = new Float32Array(64);
    for (let i = 0; i < 64; i++) vals[i] = i < 32 ? i * 4 - 127 + (i === 0 ? 0 : 3) : -(i % 32) * 2 + 1;
    vals[31] = 127; vals[63] = -127; // amax 127 per block → scale 1, integers exact
    const q = quantize(GgmlType.Q8_0, vals);
    const a = tensor(GgmlType.Q8_0, [32, 2], q);
    expect(await one(getRows(a, tensor(I32, [2], [1, 0])))).toEqual([...vals.slice(32), ...vals.slice(0, 32)]);
  });
  it("set_rows into f32 and f16 with i32/i64 indices and index broadcast", async () => {
    const dst = tensor(F32, [2, 3, 2], seq(12, () => 0));
    const src = tensor(F32, [2, 1, 2], [1, 2, 3, 4]);
    const idx = tensor(I32, [1, 1], [2]); // broadcast over dim 2
    expect(await one(setRows(dst, src, idx))).toEqual([0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 3, 4]);
    const d16 = tensor(GgmlType.F16, [2, 2]);
    const i64 = tensor(GgmlType.I64, [1], new BigInt64Array([1n]));
    const out = setRows(d16, tensor(F32, [2, 1], [0.1, -3]), i64);
    const v = await one(out);
    expect(v.slice(2)).toEqual([0.0999755859375, -3]);
  });
  it("set_rows into q8_0 writes only the target row", async () => {
    const init = new Float32Array(96);
    for (let i = 0; i < 96; i++) init[i] = ((i * 37) % 255) - 127;
    const bytes = quantize(GgmlType.Q8_0, init);
    const dst = tensor(GgmlType.Q8_0, [32, 3], bytes.slice());
    const row = Float32Array.from(seq(32, (i) => (i === 5 ? 127 : i - 16)));
    const r = setRows(dst, tensor(F32, [32, 1], row), tensor(I32, [1], [1]));
    const be = ref();
    await be.compute(new Graph([r]));
    const got = await be.getTensor(r);
    expect(Array.from(got.subarray(0, 34))).toEqual(Array.from(bytes.subarray(0, 34)));
    expect(Array.from(got.subarray(68))).toEqual(Array.from(bytes.subarray(68)));
    expect(Array.from(dequantize(GgmlType.Q8_0, got.subarray(34, 68), 32))).toEqual(Array.from(row));
  });
});

describe("broadcasting: tile for elementwise, interleave for mul_mat", () => {
  it("add/sub/mul/div tile b (index i mod ne_b)", async () => {
    const a = tensor(F32, [1, 1, 4], [10, 20, 30, 40]);
    const b = tensor(F32, [1, 1, 2], [1, 2]);
    expect(await one(add(a, b))).toEqual([11, 22, 31, 42]);
    expect(await one(sub(a, b))).toEqual([9, 18, 29, 38]);
    expect(await one(mul(a, b))).toEqual([10, 40, 30, 80]);
    expect(await one(div(a, b))).toEqual([10, 10, 30, 20]);
    expect(await one(div(tensor(F32, [2], [1, -1]), tensor(F32, [1], [0])))).toEqual([Infinity, -Infinity]);
  });
  it("mul_mat: out = aᵀb with a's batch index ⌊i2/(B2/A2)⌋", async () => {
    // a: two 2x1 matrices (rows [1,2] and [3,4]); b: four vectors [1,1] scaled by batch index+1.
    const a = tensor(F32, [2, 1, 2], [1, 2, 3, 4]);
    const b = tensor(F32, [2, 1, 4], [1, 1, 2, 2, 3, 3, 4, 4]);
    expect(await one(mulMat(a, b))).toEqual([3, 6, 21, 28]); // batches 0,1 use a0; 2,3 use a1
    const a2 = tensor(F32, [3, 2], [1, 0, 0, 0, 1, 1]), b2 = tensor(F32, [3, 2], [1, 2, 3, 4, 5, 6]);
    expect(await one(mulMat(a2, b2))).toEqual([1, 5, 4, 11]);
  });
  it("mul_mat with f16 and q8_0 a", async () => {
    const vals = Float32Array.from(seq(32, (i) => (i === 0 ? 127 : (i % 7) - 3)));
    const a = tensor(GgmlType.Q8_0, [32, 1], quantize(GgmlType.Q8_0, vals));
    const b = tensor(F32, [32, 1], seq(32, () => 1));
    expect(await one(mulMat(a, b))).toEqual([vals.reduce((s, x) => s + x, 0)]);
    const h = tensor(GgmlType.F16, [2, 1], new Uint16Array([0x3c00, 0xc000])); // [1, -2]
    expect(await one(mulMat(h, tensor(F32, [2, 1], [3, 4])))).toEqual([-5]);
  });
  it("mul_mat_id picks experts per slot and broadcasts a single b row", async () => {
    // 3 experts, each 1x2: expert e = [e+1, 1].
    const as = tensor(F32, [2, 1, 3], [1, 1, 2, 1, 3, 1]);
    const b = tensor(F32, [2, 1, 2], [10, 1, 20, 2]);
    const ids = tensor(I32, [2, 2], [2, 0, 1, 1]);
    expect(await one(mulMatId(as, b, ids))).toEqual([31, 11, 42, 42]);
  });
  it("out_prod: out[i,j] = Σ_k a[i,k] b[j,k]", async () => {
    const a = tensor(F32, [2, 2], [1, 2, 3, 4]), b = tensor(F32, [3, 2], [1, 0, 1, 0, 1, 1]);
    expect(await one(outProd(a, b))).toEqual([1, 2, 3, 4, 4, 6]);
  });
});

describe("elementwise and GLU", () => {
  it("scale, clamp, unary", async () => {
    const x = tensor(F32, [4], [-2, -0.5, 0.5, 25]);
    expect(await one(scale(x, 2, 1))).toEqual([-3, 0, 2, 51]);
    expect(await one(clamp(x, -1, 1))).toEqual([-1, -0.5, 0.5, 1]);
    close(await one(silu(x)), [-2 / (1 + Math.E ** 2), -0.5 / (1 + Math.exp(0.5)), 0.5 / (1 + Math.exp(-0.5)), 25 / (1 + Math.exp(-25))]);
    close(await one(softplus(x)), [Math.log1p(Math.exp(-2)), Math.log1p(Math.exp(-0.5)), Math.log1p(Math.exp(0.5)), 25]);
    const t = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    close(await one(gelu(x)), [-2, -0.5, 0.5, 25].map(t));
  });
  it("fused glu halves ne0; swapped exchanges the halves; split uses two tensors", async () => {
    const x = tensor(F32, [4, 1], [1, -1, 2, 3]);   // halves [1,-1] and [2,3]
    const s = (v: number) => v / (1 + Math.exp(-v));
    close(await one(swiglu(x)), [s(1) * 2, s(-1) * 3]);
    close(await one(glu(x, GluOp.SWIGLU, true)), [s(2) * 1, s(3) * -1]);
    close(await one(reglu(x)), [2, 0]);
    close(await one(swiglu(tensor(F32, [2], [1, -1]), tensor(F32, [2], [2, 3]))), [s(1) * 2, s(-1) * 3]);
    const gl = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    close(await one(geglu(x)), [gl(1) * 2, gl(-1) * 3]);
    close(await one(glu(x, GluOp.GEGLU_ERF)), [0.8413447460685429 * 2, -0.15865525393145707 * 3]);
  });
});

describe("reductions and norms", () => {
  it("sum, sum_rows, mean, argmax (last on ties), count_equal, cumsum", async () => {
    const a = tensor(F32, [3, 2], [1, 5, 5, 4, 0, -1]);
    expect(await one(sum(a))).toEqual([14]);
    expect(await one(sumRows(a))).toEqual([11, 3]);
    expect(await one(mean(a))).toEqual([Math.fround(11 / 3), 1]);
    expect(await ints(argmax(a))).toEqual([2, 0]);
    expect(await one(countEqual(tensor(I32, [4], [1, 2, 3, 4]), tensor(I32, [4], [1, 0, 3, 0])))).toEqual([2]);
    expect(await one(cumsum(a))).toEqual([1, 6, 11, 4, 4, 3]);
  });
  it("rms_norm, norm, l2_norm with eps", async () => {
    const a = tensor(F32, [2], [3, 4]);
    close(await one(rmsNorm(a, 0)), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]);
    close(await one(norm(a, 0)), [-1, 1]);
    close(await one(l2Norm(a, 0)), [0.6, 0.8]);
    close(await one(l2Norm(a, 10)), [0.3, 0.4]); // max(‖x‖, eps) = 10
    const z = await one(l2Norm(tensor(F32, [2], [0, 0]), 0));
    expect(z.every(Number.isNaN)).toBe(true);
  });
});

describe("softmax, flash attention, rope", () => {
  it("soft_max with scale, tiled mask and ALiBi slopes (3 heads: m0, m0², m1)", async () => {
    const maxBias = 8;
    const a = tensor(F32, [2, 1, 3], [1, 2, 1, 2, 1, 2]);
    const mask = tensor(F32, [2, 1], [0, -1]);
    const v = await one(softMax(a, { mask, scale: 0.5, maxBias }));
    const m0 = 2 ** (-maxBias / 2), m1 = 2 ** (-maxBias / 4);
    const want = [m0, m0 * m0, m1].flatMap((slope) => {
      const x0 = 0.5, x1 = 1 - slope; const e0 = Math.exp(x0), e1 = Math.exp(x1);
      return [e0 / (e0 + e1), e1 / (e0 + e1)];
    });
    close(v, want, 6);
    const masked = await one(softMax(tensor(F32, [3], [1, 2, 3]), { mask: tensor(F32, [3], [0, -Infinity, 0]) }));
    close(masked, [1 / (1 + Math.E ** 2), 0, Math.E ** 2 / (1 + Math.E ** 2)], 6);
  });
  it("flash_attn_ext: GQA head mapping, Dk ≠ Dv, result [Dv, H, n_q]", async () => {
    // Dk 2, Dv 3, H 2 query heads sharing one kv head, 1 query, 2 keys.
    const q = tensor(F32, [2, 1, 2], [1, 0, 0, 1]);
    const k = tensor(F32, [2, 2, 1], [1, 0, 0, 2]);
    const v = tensor(F32, [3, 2, 1], [1, 2, 3, 4, 5, 6]);
    const out = await one(flashAttnExt(q, k, v, { scale: 1 }));
    const attn = (s0: number, s1: number) => { const e0 = Math.exp(s0), e1 = Math.exp(s1); return [e0 / (e0 + e1), e1 / (e0 + e1)]; };
    const [p0, p1] = attn(1, 0), [r0, r1] = attn(0, 2);
    close(out, [p0 + 4 * p1, 2 * p0 + 5 * p1, 3 * p0 + 6 * p1, r0 + 4 * r1, 2 * r0 + 5 * r1, 3 * r0 + 6 * r1], 6);
    const masked = await one(flashAttnExt(q, k, v, { scale: 1, mask: tensor(F32, [2, 1], [0, -Infinity]) }));
    close(masked, [1, 2, 3, 1, 2, 3], 6);
  });
  it("rope normal pairs (2i, 2i+1), neox pairs (i, i+n/2), partial copies the rest", async () => {
    const x = tensor(F32, [6, 1, 1], [1, 2, 3, 4, 5, 6]);
    const pos = tensor(I32, [1], [3]);
    const th0 = 3, th1 = 3 * 100 ** -1; // base 10000, n_dims 4: θ_i = p·base^(−2i/4)
    const rot = (a: number, b: number, t: number) => [a * Math.cos(t) - b * Math.sin(t), a * Math.sin(t) + b * Math.cos(t)];
    const n = rot(1, 2, th0).concat(rot(3, 4, th1));
    close(await one(rope(x, pos, { nDims: 4, mode: RopeMode.NORMAL })), [...n, 5, 6], 5);
    const [a0, b0] = rot(1, 3, th0), [a1, b1] = rot(2, 4, th1);
    close(await one(rope(x, pos, { nDims: 4, mode: RopeMode.NEOX })), [a0, a1, b0, b1, 5, 6], 5);
    close(await one(rope(x, pos, { nDims: 4, mode: RopeMode.NORMAL, attnFactor: 2 })), [...n.map((v) => 2 * v), 5, 6], 5);
    const ff = tensor(F32, [2], [1, 4]);
    const f = rot(1, 2, th0).concat(rot(3, 4, th1 / 4));
    close(await one(rope(x, pos, { nDims: 4, mode: RopeMode.NORMAL, freqFactors: ff })), [...f, 5, 6], 5);
  });
  it("rope YaRN: ramp over corr dims [0, 2] mixes extrapolated and interpolated θ, scales magnitude", async () => {
    // n_dims 4, base 1e4, n_ctx_orig 4096: corr dims = [max(0,⌊0.654⌋), min(3,⌈1.407⌉)] = [0, 2].
    const x = tensor(F32, [4, 1, 1], [1, 0, 1, 0]);
    const p = 5, fs = 0.25;
    const v = await one(rope(x, tensor(I32, [1], [p]), { nDims: 4, mode: RopeMode.NORMAL, freqScale: fs, extFactor: 1, nCtxOrig: 4096 }));
    const m = 1 + 0.1 * Math.log(1 / fs);
    const t0 = p;                                   // i = 0: ramp y = 0 → fully extrapolated
    const e1 = p / 100, t1 = 0.5 * fs * e1 + 0.5 * e1; // i = 1: y = 0.5 → half and half
    close(v, [m * Math.cos(t0), m * Math.sin(t0), m * Math.cos(t1), m * Math.sin(t1)], 5);
  });
});

describe("selection", () => {
  it("argsort asc/desc, top_k set, argsort_top_k view", async () => {
    const a = tensor(F32, [4, 2], [0.3, -1, 2, 0.5, 9, 8, 7, 6]);
    expect(await ints(argsort(a))).toEqual([1, 0, 3, 2, 3, 2, 1, 0]);
    expect(await ints(argsort(a, SortOrder.DESC))).toEqual([2, 3, 0, 1, 0, 1, 2, 3]);
    const tk = await ints(topK(a, 2));
    expect([tk.slice(0, 2).sort(), tk.slice(2).sort()]).toEqual([[2, 3], [0, 1]]);
    expect(await ints(cont(argsortTopK(a, 2)))).toEqual([2, 3, 0, 1]);
  });
});

describe("delta-net building blocks", () => {
  it("tri keeps (column i0, row i1) by type; fill; diag", async () => {
    const a = tensor(F32, [3, 3], seq(9, (i) => i + 1));
    expect(await one(tri(a, TriType.LOWER))).toEqual([0, 0, 0, 4, 0, 0, 7, 8, 0]);
    expect(await one(tri(a, TriType.LOWER_DIAG))).toEqual([1, 0, 0, 4, 5, 0, 7, 8, 9]);
    expect(await one(tri(a, TriType.UPPER))).toEqual([0, 2, 3, 0, 0, 6, 0, 0, 0]);
    expect(await one(tri(a, TriType.UPPER_DIAG))).toEqual([1, 2, 3, 0, 5, 6, 0, 0, 9]);
    expect(await one(fill(a, -2.5))).toEqual(seq(9, () => -2.5));
    expect(await one(diag(tensor(F32, [2, 1, 2], [1, 2, 3, 4])))).toEqual([1, 0, 0, 2, 3, 0, 0, 4]);
  });
  it("solve_tri: forward substitution, upper triangle ignored", async () => {
    // A = [[2, ·], [1, 4]] (row-major, A[c + r n]); B rows [2, 4], [5, 9] → X = [[1, 2], [1, 1.75]].
    const A = tensor(F32, [2, 2], [2, 99, 1, 4]);
    const B = tensor(F32, [2, 2], [2, 4, 5, 9]);
    expect(await one(solveTri(A, B))).toEqual([1, 2, 1, 1.75]);
  });
  it("ssm_conv: y[ch,t] = Σ_j sx[t+j, ch]·c[j, ch], channel fastest", async () => {
    const sx = tensor(F32, [4, 2, 1], [1, 2, 3, 4, 10, 20, 30, 40]); // K=3 → T=2
    const c = tensor(F32, [3, 2], [1, 0, -1, 0, 1, 0]);
    expect(await one(ssmConv(sx, c))).toEqual([1 - 3, 20, 2 - 4, 30]);
  });
  it("gated_delta_net one step by hand (S=2, GVA 1 key head → 2 value heads)", async () => {
    const q = tensor(F32, [2, 1, 1, 1], [1, 0]), k = tensor(F32, [2, 1, 1, 1], [0, 1]);
    const v = tensor(F32, [2, 2, 1, 1], [1, 2, 3, 4]);
    const g = tensor(F32, [1, 2, 1, 1], [0, Math.log(0.5)]);
    const beta = tensor(F32, [1, 2, 1, 1], [1, 0.5]);
    const st = tensor(F32, [2, 2, 2, 1], [1, 0, 0, 1, 2, 2, 2, 2]); // head0 I; head1 all 2 (S[d][e] at d + 2e)
    const r = gatedDeltaNet(q, k, v, g, beta, st);
    const [o, s] = (await run(ref(), [r.output, r.state])).map((x) => Array.from(x));
    // head 0: S=I; Sᵀk = [0,1]; δ = [1, 1]; S += kδᵀ → S[1][·] = [1, 2]; o = Sᵀq/√2 = [1, 0]/√2.
    // head 1: S=1·(all 1); Sᵀk = [1,1]; δ = 0.5·([3,4]−1) = [1, 1.5]; S[1][·] = [2, 2.5]; o = [1, 1]/√2.
    close(o, [1 / Math.SQRT2, 0, 1 / Math.SQRT2, 1 / Math.SQRT2], 6);
    close(s, [1, 1, 0, 2, 1, 2, 1, 2.5], 6);
  });
});
