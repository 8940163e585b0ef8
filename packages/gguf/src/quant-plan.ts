// Which type each tensor gets when quantizing, following llama.cpp's llama-quantize (src/llama-quant.cpp:
// the "should this tensor be quantized" filter, llama_tensor_get_type's per-role rules, and the fallback for
// rows that are not a whole number of blocks). Only the non-imatrix, non-IQ file types are modelled.

import { GgmlType, typeTraits } from "@ggts/tensor";
import { GgufTensorInfo } from "./parse.js";

/** llama.cpp's llama_ftype ids (stored as general.file_type). */
export const FTYPE: Record<string, number> = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K_S: 11, Q3_K_M: 12, Q3_K_L: 13,
  Q4_K_S: 14, Q4_K_M: 15, Q5_K_S: 16, Q5_K_M: 17, Q6_K: 18, BF16: 32,
};

export interface QuantTarget {
  /** Upper-case name as given (e.g. "Q4_K_M"). */
  name: string;
  ftype: number;
  defaultType: GgmlType;
  /** Pure: every quantizable tensor gets defaultType (plus the block-size fallback); no per-role rules. */
  pure: boolean;
}

const MIX_DEFAULT: Record<string, GgmlType> = {
  Q4_0: GgmlType.Q4_0, Q4_1: GgmlType.Q4_1, Q5_0: GgmlType.Q5_0, Q5_1: GgmlType.Q5_1, Q8_0: GgmlType.Q8_0,
  Q2_K: GgmlType.Q2_K, Q3_K_S: GgmlType.Q3_K, Q3_K_M: GgmlType.Q3_K, Q3_K_L: GgmlType.Q3_K,
  Q4_K_S: GgmlType.Q4_K, Q4_K_M: GgmlType.Q4_K, Q5_K_S: GgmlType.Q5_K, Q5_K_M: GgmlType.Q5_K, Q6_K: GgmlType.Q6_K,
  F16: GgmlType.F16, BF16: GgmlType.BF16, F32: GgmlType.F32,
};
/** Bare K-quant type names quantize "pure" to that type; they are stored under the nearest llama.cpp ftype. */
const PURE_ALIASES: Record<string, [GgmlType, number]> = {
  Q3_K: [GgmlType.Q3_K, FTYPE.Q3_K_M], Q4_K: [GgmlType.Q4_K, FTYPE.Q4_K_M], Q5_K: [GgmlType.Q5_K, FTYPE.Q5_K_M],
};

export const QUANT_TARGETS = [...Object.keys(MIX_DEFAULT), ...Object.keys(PURE_ALIASES)];

/** Parses a target such as "Q4_K_M", "q8_0", "Q4_K" (pure). `pure` forces per-role rules off. */
export function parseQuantTarget(name: string, pure = false): QuantTarget {
  const n = name.toUpperCase();
  if (n in MIX_DEFAULT) return { name: n, ftype: FTYPE[n], defaultType: MIX_DEFAULT[n], pure };
  if (n in PURE_ALIASES) return { name: n, ftype: PURE_ALIASES[n][1], defaultType: PURE_ALIASES[n][0], pure: true };
  throw new Error(`unknown quantization type "${name}" (known: ${QUANT_TARGETS.join(", ")})`);
}

export interface ModelHparams {
  arch: string;
  nLayer: number;
  nExpert: number;
  /** n_head / n_head_kv of layer 0 (0 when layer 0 has no KV heads), as llama.cpp's n_gqa(). */
  nGqa: number;
}

export interface PlanEntry {
  info: GgufTensorInfo;
  /** Output type (equal to the input type when the tensor is copied). */
  type: GgmlType;
  /** True when the data must be converted. */
  convert: boolean;
  /** Set when a block-size fallback was applied. */
  fallback?: string;
}

/** ggml_n_dims: dimensions up to the last one larger than 1. */
function nDims(ne: readonly number[]): number {
  for (let i = ne.length - 1; i >= 1; i--) if (ne[i] > 1) return i + 1;
  return 1;
}

const NEVER_QUANTIZE = [
  "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
  "shortconv.conv.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
  "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight",
  "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
  "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd.",
];

/** llama-quantize's filter: 2-D+ weights other than norms, router, conv and a few tiny special tensors. */
export function isQuantizable(t: GgufTensorInfo): boolean {
  if (!t.name.endsWith("weight") || nDims(t.ne) < 2) return false;
  if (t.name === "position_embd.weight" || t.name === "token_types.weight") return false;
  return !NEVER_QUANTIZE.some((s) => t.name.includes(s));
}

const layerOf = (name: string): number => {
  const m = /^blk\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : -1;
};

/** llama.cpp's weight order for writing: non-layer tensors first, then by layer, each group by name. */
export function llamaTensorOrder<T extends { name: string }>(ts: readonly T[]): T[] {
  return [...ts].sort((a, b) => {
    const la = layerOf(a.name), lb = layerOf(b.name);
    if (la !== lb) return la - lb;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

const useMoreBits = (i: number, n: number) => i < Math.trunc(n / 8) || i >= Math.trunc((7 * n) / 8) || (i - Math.trunc(n / 8)) % 3 === 2;

/** Mutable counters threaded through the per-tensor decisions (llama.cpp's quantize_state_impl). */
interface State {
  nAttnWv: number; iAttnWv: number; iFfnDown: number; iFfnGate: number; iFfnUp: number; hasOutput: boolean;
}

function layerInfo(hp: ModelHparams, counter: number, name: string): [number, number] {
  if (hp.nExpert > 1) {
    const l = layerOf(name);
    if (l < 0) throw new Error(`quantize: cannot determine the layer of tensor "${name}"`);
    if (l >= hp.nLayer) throw new Error(`quantize: bad layer ${l} for tensor "${name}" (must be < ${hp.nLayer})`);
    return [l, hp.nLayer];
  }
  return [counter, hp.nLayer];
}

function roleType(st: State, hp: ModelHparams, target: QuantTarget, t: GgufTensorInfo, type: GgmlType): GgmlType {
  const f = target.name;
  const name = t.name;
  const falcon = hp.arch === "falcon";
  if (name === "output.weight" || (!st.hasOutput && name === "token_embd.weight")) {
    if (falcon || t.ne[0] % typeTraits(type).blockSize !== 0) return GgmlType.Q8_0;
    return type !== GgmlType.Q8_0 ? GgmlType.Q6_K : type;
  }
  if (name === "token_embd.weight" || name === "per_layer_token_embd.weight") return type;
  if (name.includes("attn_v.weight")) {
    if (f === "Q2_K") type = hp.nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
    else if (f === "Q3_K_M") type = st.iAttnWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
    else if (f === "Q3_K_L") type = GgmlType.Q5_K;
    else if ((f === "Q4_K_M" || f === "Q5_K_M") && useMoreBits(st.iAttnWv, st.nAttnWv)) type = GgmlType.Q6_K;
    else if (f === "Q4_K_S" && st.iAttnWv < 4) type = GgmlType.Q5_K;
    if (hp.nExpert === 8) type = GgmlType.Q8_0; // llama.cpp's 8-expert rule
    st.iAttnWv++;
    return type;
  }
  if (name.includes("attn_k.weight")) return hp.nExpert === 8 ? GgmlType.Q8_0 : type;
  if (name.includes("attn_q.weight")) return type;
  if (name.includes("ffn_down")) {
    const [il, nl] = layerInfo(hp, st.iFfnDown, name);
    if (f === "Q2_K") type = GgmlType.Q3_K;
    else if (f === "Q3_K_M") {
      type = il < Math.trunc(nl / 16) ? GgmlType.Q5_K : !falcon || useMoreBits(il, nl) ? GgmlType.Q4_K : GgmlType.Q3_K;
    } else if (f === "Q3_K_L") type = falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
    else if (f === "Q4_K_M") {
      if (falcon) type = il < Math.trunc(nl / 16) ? GgmlType.Q6_K : useMoreBits(il, nl) ? GgmlType.Q5_K : GgmlType.Q4_K;
      else if (useMoreBits(il, nl)) type = GgmlType.Q6_K;
    } else if (f === "Q5_K_M" && useMoreBits(il, nl)) type = GgmlType.Q6_K;
    else if (f === "Q4_K_S" && !falcon && il < Math.trunc(nl / 8)) type = GgmlType.Q5_K;
    st.iFfnDown++;
    return type;
  }
  if (name.includes("attn_output.weight")) {
    if (!falcon) {
      if (hp.nExpert === 8) {
        if (["Q2_K", "Q3_K_S", "Q3_K_M", "Q4_K_S", "Q4_K_M"].includes(f)) type = GgmlType.Q5_K;
      } else if (f === "Q2_K") type = GgmlType.Q3_K;
      else if (f === "Q3_K_M") type = GgmlType.Q4_K;
      else if (f === "Q3_K_L") type = GgmlType.Q5_K;
    } else if (f === "Q3_K_L") type = GgmlType.Q4_K;
    return type;
  }
  if (name.includes("attn_qkv.weight")) {
    if (f === "Q3_K_M" || f === "Q3_K_L") type = GgmlType.Q4_K;
    else if (f === "Q4_K_M") type = GgmlType.Q5_K;
    else if (f === "Q5_K_M") type = GgmlType.Q6_K;
    return type;
  }
  if (name.includes("ffn_gate")) { layerInfo(hp, st.iFfnGate, name); st.iFfnGate++; return type; }
  if (name.includes("ffn_up")) { layerInfo(hp, st.iFfnUp, name); st.iFfnUp++; return type; }
  return type;
}

const FALLBACK: Partial<Record<GgmlType, GgmlType>> = {
  [GgmlType.Q2_K]: GgmlType.IQ4_NL, [GgmlType.Q3_K]: GgmlType.IQ4_NL, [GgmlType.IQ4_XS]: GgmlType.IQ4_NL,
  [GgmlType.Q4_K]: GgmlType.Q5_0, [GgmlType.Q5_K]: GgmlType.Q5_1, [GgmlType.Q6_K]: GgmlType.Q8_0,
};

/** Replaces a type whose block does not divide ne0, as llama.cpp does (then F16 if that still fails). */
function applyFallback(t: GgufTensorInfo, type: GgmlType): { type: GgmlType; fallback?: string } {
  const bs = typeTraits(type).blockSize;
  if (t.ne[0] % bs === 0) return { type };
  const fb = FALLBACK[type];
  if (fb === undefined) {
    throw new Error(`quantize: tensor "${t.name}" has ne0 = ${t.ne[0]}, not a multiple of the ${typeTraits(type).name} block size ${bs}`);
  }
  const out = t.ne[0] % typeTraits(fb).blockSize === 0 ? fb : GgmlType.F16;
  return { type: out, fallback: `${typeTraits(type).name} -> ${typeTraits(out).name} (ne0 ${t.ne[0]})` };
}

/**
 * The output type of every tensor, in llama.cpp's write order. `hp` comes from the model's metadata
 * (see hparamsFromMetadata).
 */
export function planQuantization(tensors: readonly GgufTensorInfo[], hp: ModelHparams, target: QuantTarget): PlanEntry[] {
  const ordered = llamaTensorOrder(tensors);
  const st: State = {
    nAttnWv: ordered.filter((t) => /attn_v\.weight|attn_qkv\.weight|attn_kv_b\.weight/.test(t.name)).length,
    iAttnWv: 0, iFfnDown: 0, iFfnGate: 0, iFfnUp: 0, hasOutput: ordered.some((t) => t.name === "output.weight"),
  };
  const quantizedDefault = typeTraits(target.defaultType).quantized;
  return ordered.map((info) => {
    if (!isQuantizable(info)) return { info, type: info.type, convert: false };
    let type = target.defaultType;
    let fallback: string | undefined;
    if (quantizedDefault) {
      if (!target.pure) type = roleType(st, hp, target, info, type);
      ({ type, fallback } = applyFallback(info, type));
    }
    return { info, type, convert: type !== info.type, fallback };
  });
}
