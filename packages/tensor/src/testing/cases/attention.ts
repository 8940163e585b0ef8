// Attention cases: SOFT_MAX (mask f16/f32, broadcast, ALiBi), FLASH_ATTN_EXT (GQA, Dk≠Dv, softcap), ROPE.
import { GgmlType, typeName } from "../../types.js";
import { softMax, flashAttnExt, rope } from "../../ops/attention.js";
import { RopeMode } from "../../ops/spec.js";
import { defineCase, type OpCase } from "../case.js";
import { positions, randomMask, causalMask, uniform } from "../init.js";
import { permutedInput, NO_PERM, type Perm } from "./util.js";

const F32 = GgmlType.F32;

export function attentionCases(): OpCase[] {
  const out: OpCase[] = [];
  // SOFT_MAX: [n_kv, n_q, H, B]; mask [n_kv, >=n_q, M2, M3].
  const sm: [number[], number[] | null, GgmlType, number, number][] = [
    [[16, 2, 3, 1], null, F32, 1, 0],
    [[32, 4, 1, 1], null, F32, 0.1, 0],
    [[16, 3, 4, 2], [16, 3, 1, 1], F32, 0.25, 0],
    [[16, 3, 4, 2], [16, 5, 4, 1], GgmlType.F16, 0.25, 0],
    [[16, 3, 4, 2], [16, 3, 2, 2], F32, 1, 8],
    [[33, 2, 6, 1], [33, 2, 1, 1], GgmlType.F16, 0.5, 8],
    [[100, 7, 5, 1], [100, 7, 1, 1], F32, 1, 4],
  ];
  for (const [ne, mne, mt, scale, maxBias] of sm) {
    out.push(defineCase("SOFT_MAX", { type: "f32", ne, mask: mne ? `${typeName(mt)}[${mne.join(",")}]` : "none", scale, max_bias: maxBias }, 1e-6,
      (b) => softMax(b.input(F32, ne, uniform(-4, 4)), { mask: mne ? b.input(mt, mne, randomMask()) : null, scale, maxBias })));
  }
  out.push(defineCase("SOFT_MAX", { type: "f32", ne: [16, 5, 4, 1], permute: [0, 2, 1, 3], mask: "causal" }, 1e-6,
    (b) => softMax(permutedInput(b, F32, [16, 5, 4, 1], [0, 2, 1, 3]), { mask: b.input(F32, [16, 5], causalMask()), scale: 0.3 })));
  out.push(defineCase("SOFT_MAX", { type: "f32", ne: [32000, 8, 1, 1], size: "perf" }, 1e-6,
    (b) => softMax(b.input(F32, [32000, 8])), { only: "perf" }));

  // FLASH_ATTN_EXT: q [Dk,nq,H,B], k [Dk,nkv,Hkv,B], v [Dv,nkv,Hkv,B].
  const fa: [number, number, number, number, number, number, number, GgmlType, boolean, number, number][] = [
    // Dk, Dv, nq, nkv, H, Hkv, B, kvType, mask, maxBias, softcap
    [64, 64, 1, 32, 4, 4, 1, F32, true, 0, 0],
    [64, 64, 4, 32, 8, 2, 1, GgmlType.F16, true, 0, 0],
    [128, 128, 3, 16, 4, 1, 2, GgmlType.F16, true, 0, 0],
    [64, 64, 2, 16, 6, 3, 1, F32, true, 8, 0],
    [64, 64, 2, 16, 4, 2, 1, F32, false, 0, 30],
    [72, 40, 2, 20, 4, 2, 1, F32, true, 0, 0],
    [576, 512, 2, 16, 4, 1, 1, GgmlType.F16, true, 0, 0],
    [128, 128, 1, 64, 2, 2, 1, GgmlType.BF16, true, 0, 0],
    [64, 64, 1, 32, 2, 2, 1, GgmlType.Q8_0, true, 0, 0],
  ];
  for (const [Dk, Dv, nq, nkv, H, Hkv, B, kt, hasMask, maxBias, softcap] of fa) {
    const vars = { hsk: Dk, hsv: Dv, nh: H, nr: H / Hkv, kv: nkv, nb: nq, B, mask: hasMask, max_bias: maxBias, softcap, type_KV: typeName(kt) };
    out.push(defineCase("FLASH_ATTN_EXT", vars, 5e-4, (b) => flashAttnExt(
      b.input(F32, [Dk, nq, H, B]), b.input(kt, [Dk, nkv, Hkv, B]), b.input(kt, [Dv, nkv, Hkv, B]),
      { mask: hasMask ? b.input(GgmlType.F16, [nkv, nq, 1, 1], causalMask()) : null, scale: 1 / Math.sqrt(Dk), maxBias, logitSoftcap: softcap }),
    { flops: 2 * H * B * nq * nkv * (Dk + Dv) }));
  }
  out.push(defineCase("FLASH_ATTN_EXT", { hsk: 128, hsv: 128, nh: 16, nr: 4, kv: 1024, nb: 1, B: 1, type_KV: "f16", size: "perf" }, 5e-4,
    (b) => flashAttnExt(b.input(F32, [128, 1, 16, 1]), b.input(GgmlType.F16, [128, 1024, 4, 1]), b.input(GgmlType.F16, [128, 1024, 4, 1]),
      { mask: b.input(GgmlType.F16, [1024, 1], causalMask()), scale: 1 / Math.sqrt(128) }),
    { flops: 2 * 16 * 1024 * 256, only: "perf" }));

  // ROPE: normal / neox, partial, freq factors, YaRN, permuted input.
  const rp: [number[], number, RopeMode, boolean, number, number, Perm][] = [
    // ne, nDims, mode, freqFactors, extFactor, freqScale, perm
    [[128, 4, 3, 1], 128, RopeMode.NORMAL, false, 0, 1, NO_PERM],
    [[128, 4, 3, 1], 128, RopeMode.NEOX, false, 0, 1, NO_PERM],
    [[256, 2, 5, 1], 64, RopeMode.NEOX, false, 0, 1, NO_PERM],
    [[64, 3, 4, 2], 32, RopeMode.NORMAL, false, 0, 1, NO_PERM],
    [[64, 3, 4, 1], 64, RopeMode.NEOX, true, 0, 1, NO_PERM],
    [[64, 3, 4, 1], 64, RopeMode.NORMAL, false, 1, 0.25, NO_PERM],
    [[64, 3, 4, 1], 48, RopeMode.NEOX, true, 1, 0.5, NO_PERM],
    [[64, 3, 4, 1], 64, RopeMode.NEOX, false, 0, 1, [0, 2, 1, 3]],
  ];
  for (const [ne, nDims, mode, ff, ext, fs, p] of rp) {
    const vars = { type: "f32", ne, n_dims: nDims, mode, ff, ext_factor: ext, freq_scale: fs, permute: p };
    out.push(defineCase("ROPE", vars, 1e-7, (b) => rope(permutedInput(b, F32, ne, p), b.input(GgmlType.I32, [ne[2]], positions()), {
      nDims, mode, freqBase: mode === RopeMode.NEOX ? 1e7 : 10000, freqScale: fs, extFactor: ext, nCtxOrig: ext ? 4096 : 0,
      attnFactor: ext ? 1 : 0.9, freqFactors: ff ? b.input(F32, [nDims / 2], uniform(0.5, 4)) : null,
    })));
  }
  return out;
}
