// Softmax, flash attention and RoPE (ops.md §6).
import { GgmlType } from "../types.js";
import { Tensor, type Shape4 } from "../tensor.js";
import { RopeMode } from "./spec.js";
import { check, checkTensor, checkType, node, shapeStr } from "./define.js";

export interface SoftMaxOptions { mask?: Tensor | null; scale?: number; maxBias?: number }

/** softmax(a·scale + slope·mask) along ne0; mask [n_kv, ≥n_q, M2, M3] f16/f32, tiled over dims 2, 3. */
export function softMax(a: Tensor, opts: SoftMaxOptions = {}): Tensor {
  const { mask = null, scale = 1, maxBias = 0 } = opts;
  checkTensor("softMax", "a", a);
  checkType("softMax", "a", a, GgmlType.F32);
  check(Number.isFinite(scale) && Number.isFinite(maxBias) && maxBias >= 0, "softMax", () =>
    `scale (${scale}) and maxBias (${maxBias}) must be finite, maxBias >= 0`);
  if (mask) {
    checkTensor("softMax", "mask", mask);
    checkType("softMax", "mask", mask, GgmlType.F32, GgmlType.F16);
    check(mask.ne[0] === a.ne[0] && mask.ne[1] >= a.ne[1] && a.ne[2] % mask.ne[2] === 0 && a.ne[3] % mask.ne[3] === 0,
      "softMax", () => `mask ${shapeStr(mask)} must be [${a.ne[0]}, >=${a.ne[1]}, M2 | ${a.ne[2]}, M3 | ${a.ne[3]}] for a ${shapeStr(a)}`);
  }
  return node("SOFT_MAX", GgmlType.F32, [...a.ne] as Shape4, mask ? [a, mask] : [a], { scale, max_bias: maxBias });
}

export interface FlashAttnOptions { mask?: Tensor | null; scale: number; maxBias?: number; logitSoftcap?: number }

/** q [Dk,n_q,H,B], k [Dk,n_kv,Hkv,B], v [Dv,n_kv,Hkv,B] → [Dv, H, n_q, B] (heads before tokens). */
export function flashAttnExt(q: Tensor, k: Tensor, v: Tensor, opts: FlashAttnOptions): Tensor {
  const { mask = null, scale, maxBias = 0, logitSoftcap = 0 } = opts;
  const op = "flashAttnExt";
  checkTensor(op, "q", q); checkTensor(op, "k", k); checkTensor(op, "v", v);
  checkType(op, "q", q, GgmlType.F32);
  checkType(op, "k", k, GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0);
  checkType(op, "v", v, GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0);
  check(k.ne[0] === q.ne[0], op, () => `k.ne[0]=${k.ne[0]} must equal q.ne[0]=${q.ne[0]}`);
  check(v.ne[1] === k.ne[1] && v.ne[2] === k.ne[2] && v.ne[3] === k.ne[3], op, () =>
    `v ${shapeStr(v)} must match k ${shapeStr(k)} in dims 1..3`);
  check(q.ne[2] % k.ne[2] === 0 && k.ne[3] === q.ne[3], op, () =>
    `q heads ${q.ne[2]} must be a multiple of kv heads ${k.ne[2]}, batch ${q.ne[3]} = ${k.ne[3]}`);
  check(Number.isFinite(scale), op, () => `scale must be finite`);
  if (mask) {
    checkTensor(op, "mask", mask);
    checkType(op, "mask", mask, GgmlType.F32, GgmlType.F16);
    check(mask.ne[0] === k.ne[1] && mask.ne[1] >= q.ne[1] && q.ne[2] % mask.ne[2] === 0 && q.ne[3] % mask.ne[3] === 0,
      op, () => `mask ${shapeStr(mask)} must be [${k.ne[1]}, >=${q.ne[1]}, M2 | ${q.ne[2]}, M3 | ${q.ne[3]}]`);
  }
  return node("FLASH_ATTN_EXT", GgmlType.F32, [v.ne[0], q.ne[2], q.ne[1], q.ne[3]],
    mask ? [q, k, v, mask] : [q, k, v], { scale, max_bias: maxBias, logit_softcap: logitSoftcap });
}

export interface RopeOptions {
  nDims: number; mode?: RopeMode; freqBase?: number; freqScale?: number; nCtxOrig?: number;
  extFactor?: number; attnFactor?: number; betaFast?: number; betaSlow?: number; freqFactors?: Tensor | null;
}

/** Rotary embedding of a [D,H,T,B] by positions pos i32 [T]; dims >= nDims are copied. */
export function rope(a: Tensor, pos: Tensor, o: RopeOptions): Tensor {
  const op = "rope";
  checkTensor(op, "a", a); checkTensor(op, "pos", pos);
  checkType(op, "a", a, GgmlType.F32);
  checkType(op, "pos", pos, GgmlType.I32);
  const mode = o.mode ?? RopeMode.NORMAL;
  check(mode === RopeMode.NORMAL || mode === RopeMode.NEOX, op, () => `mode ${mode} is not supported (0 or 2)`);
  check(Number.isInteger(o.nDims) && o.nDims > 0 && o.nDims % 2 === 0 && o.nDims <= a.ne[0], op, () =>
    `nDims ${o.nDims} must be even and <= a.ne[0]=${a.ne[0]}`);
  check(pos.nElements === a.ne[2] && pos.ne[0] === a.ne[2], op, () => `pos ${shapeStr(pos)} must be [${a.ne[2]}] for a ${shapeStr(a)}`);
  const src = [a, pos];
  if (o.freqFactors) {
    checkTensor(op, "freqFactors", o.freqFactors);
    checkType(op, "freqFactors", o.freqFactors, GgmlType.F32);
    check(o.freqFactors.ne[0] >= o.nDims / 2, op, () => `freqFactors needs >= ${o.nDims / 2} entries`);
    src.push(o.freqFactors);
  }
  return node("ROPE", GgmlType.F32, [...a.ne] as Shape4, src, {
    n_dims: o.nDims, mode, n_ctx_orig: o.nCtxOrig ?? 0, freq_base: o.freqBase ?? 10000, freq_scale: o.freqScale ?? 1,
    ext_factor: o.extFactor ?? 0, attn_factor: o.attnFactor ?? 1, beta_fast: o.betaFast ?? 32, beta_slow: o.betaSlow ?? 1,
  });
}
