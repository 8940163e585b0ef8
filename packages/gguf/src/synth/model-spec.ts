// Metadata and tensor lists of synthetic Kimi-Linear / Qwen3-Next models, in the order and shapes
// convert_hf_to_gguf.py writes (see spec/models.md §2–§4 and the f32 fixtures).

import { GgufValueType } from "../value-types.js";
import { KimiConfig, QwenConfig, SynthConfig } from "./config.js";
import { SynthVocab } from "./vocab.js";

/** How a tensor's values are drawn. */
export type Init =
  | { kind: "normal"; std: number }
  | { kind: "norm" }                                // 1 + 0.1·N(0,1): near-unit RMSNorm weights
  | { kind: "neg-log-uniform"; lo: number; hi: number } // ssm_a = −exp(A_log), A ~ log-uniform[lo, hi]
  | { kind: "dt-bias"; lo: number; hi: number };       // softplus⁻¹(dt), dt ~ log-uniform[lo, hi]

export interface TensorSpec { name: string; ne: number[]; init: Init }

export interface KVSpec { key: string; type: GgufValueType; value: unknown; arrayType?: GgufValueType }

export const KIMI_SPECIALS = ["[BOS]", "[EOS]", "<|im_end|>", "<|im_user|>", "<|im_assistant|>", "<|im_system|>", "<|im_middle|>", "[EOT]"];
export const QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

const KIMI_TEMPLATE =
  "{%- for message in messages -%}" +
  "{%- if message['role'] == 'system' -%}<|im_system|>system<|im_middle|>" +
  "{%- elif message['role'] == 'user' -%}<|im_user|>user<|im_middle|>" +
  "{%- else -%}<|im_assistant|>assistant<|im_middle|>{%- endif -%}" +
  "{{ message['content'] }}<|im_end|>{%- endfor -%}" +
  "{%- if add_generation_prompt -%}<|im_assistant|>assistant<|im_middle|>{%- endif -%}";

const CHATML_TEMPLATE =
  "{%- for message in messages -%}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{%- endfor -%}" +
  "{%- if add_generation_prompt -%}<|im_start|>assistant\n{%- endif -%}";

const U32 = GgufValueType.UINT32, F32 = GgufValueType.FLOAT32, STR = GgufValueType.STRING;

/** A linear weight with ne0 inputs: N(0, 1/sqrt(ne0)) keeps outputs O(1) for O(1) inputs. */
const lin = (name: string, ne: number[], fanIn = ne[0]): TensorSpec => ({ name, ne, init: { kind: "normal", std: 1 / Math.sqrt(fanIn) } });
const norm = (name: string, n: number): TensorSpec => ({ name, ne: [n], init: { kind: "norm" } });

function tokenizerKVs(v: SynthVocab, pre: string): KVSpec[] {
  return [
    { key: "tokenizer.ggml.model", type: STR, value: "gpt2" },
    { key: "tokenizer.ggml.pre", type: STR, value: pre },
    { key: "tokenizer.ggml.tokens", type: GgufValueType.ARRAY, arrayType: STR, value: v.tokens },
    { key: "tokenizer.ggml.token_type", type: GgufValueType.ARRAY, arrayType: GgufValueType.INT32, value: v.tokenTypes },
    { key: "tokenizer.ggml.merges", type: GgufValueType.ARRAY, arrayType: STR, value: v.merges },
  ];
}

export function kimiKVs(c: KimiConfig, v: SynthVocab, name: string, fileType: number): KVSpec[] {
  const a = "kimi-linear";
  const headKv = new Int32Array(c.layers);
  for (const l of c.mlaLayers) headKv[l] = 1;
  return [
    { key: "general.architecture", type: STR, value: a },
    { key: "general.name", type: STR, value: name },
    { key: `${a}.block_count`, type: U32, value: c.layers },
    { key: `${a}.context_length`, type: U32, value: c.contextLength },
    { key: `${a}.embedding_length`, type: U32, value: c.hidden },
    { key: `${a}.feed_forward_length`, type: U32, value: c.denseFF },
    { key: `${a}.attention.head_count`, type: U32, value: c.heads },
    { key: `${a}.attention.head_count_kv`, type: GgufValueType.ARRAY, arrayType: GgufValueType.INT32, value: headKv },
    { key: `${a}.attention.layer_norm_rms_epsilon`, type: F32, value: c.rmsEps },
    { key: `${a}.expert_count`, type: U32, value: c.experts },
    { key: `${a}.expert_used_count`, type: U32, value: c.expertsUsed },
    { key: `${a}.expert_gating_func`, type: U32, value: 2 },
    { key: `${a}.vocab_size`, type: U32, value: c.vocab },
    { key: `${a}.ssm.conv_kernel`, type: U32, value: c.convKernel },
    { key: `${a}.kda.head_dim`, type: U32, value: c.kdaHeadDim },
    { key: `${a}.attention.kv_lora_rank`, type: U32, value: c.kvLoraRank },
    { key: `${a}.rope.dimension_count`, type: U32, value: c.qkRope },
    { key: `${a}.attention.key_length`, type: U32, value: c.kvLoraRank + c.qkRope },
    { key: `${a}.attention.value_length`, type: U32, value: c.kvLoraRank },
    { key: `${a}.attention.key_length_mla`, type: U32, value: c.qkNope + c.qkRope },
    { key: `${a}.attention.value_length_mla`, type: U32, value: c.vHead },
    { key: `${a}.expert_feed_forward_length`, type: U32, value: c.expertFF },
    { key: `${a}.expert_shared_count`, type: U32, value: c.sharedExperts },
    { key: `${a}.leading_dense_block_count`, type: U32, value: c.leadingDense },
    { key: `${a}.expert_weights_scale`, type: F32, value: c.routedScale },
    { key: "general.file_type", type: U32, value: fileType },
    ...tokenizerKVs(v, "kimi-k2"),
    { key: "tokenizer.ggml.bos_token_id", type: U32, value: v.specials["[BOS]"] },
    { key: "tokenizer.ggml.eos_token_id", type: U32, value: v.specials["[EOS]"] },
    { key: "tokenizer.ggml.eot_token_id", type: U32, value: v.specials["<|im_end|>"] },
    { key: "tokenizer.ggml.add_bos_token", type: GgufValueType.BOOL, value: false },
    { key: "tokenizer.chat_template", type: STR, value: KIMI_TEMPLATE },
  ];
}

export function qwenKVs(c: QwenConfig, v: SynthVocab, name: string, fileType: number): KVSpec[] {
  const a = "qwen3next";
  return [
    { key: "general.architecture", type: STR, value: a },
    { key: "general.name", type: STR, value: name },
    { key: `${a}.block_count`, type: U32, value: c.layers },
    { key: `${a}.context_length`, type: U32, value: c.contextLength },
    { key: `${a}.embedding_length`, type: U32, value: c.hidden },
    { key: `${a}.feed_forward_length`, type: U32, value: c.feedForward },
    { key: `${a}.attention.head_count`, type: U32, value: c.heads },
    { key: `${a}.attention.head_count_kv`, type: U32, value: c.kvHeads },
    { key: `${a}.rope.freq_base`, type: F32, value: c.ropeTheta },
    { key: `${a}.attention.layer_norm_rms_epsilon`, type: F32, value: c.rmsEps },
    { key: `${a}.expert_count`, type: U32, value: c.experts },
    { key: `${a}.expert_used_count`, type: U32, value: c.expertsUsed },
    { key: `${a}.attention.key_length`, type: U32, value: c.headDim },
    { key: `${a}.attention.value_length`, type: U32, value: c.headDim },
    { key: `${a}.expert_feed_forward_length`, type: U32, value: c.expertFF },
    { key: `${a}.expert_shared_feed_forward_length`, type: U32, value: c.sharedFF },
    { key: `${a}.ssm.conv_kernel`, type: U32, value: c.convKernel },
    { key: `${a}.ssm.state_size`, type: U32, value: c.linKeyDim },
    { key: `${a}.ssm.group_count`, type: U32, value: c.linKeyHeads },
    { key: `${a}.ssm.time_step_rank`, type: U32, value: c.linValueHeads },
    { key: `${a}.ssm.inner_size`, type: U32, value: c.linValueHeads * c.linValueDim },
    { key: `${a}.full_attention_interval`, type: U32, value: c.fullAttentionInterval },
    { key: `${a}.rope.dimension_count`, type: U32, value: c.ropeDims },
    { key: "general.file_type", type: U32, value: fileType },
    ...tokenizerKVs(v, "qwen2"),
    { key: "tokenizer.ggml.eos_token_id", type: U32, value: v.specials["<|im_end|>"] },
    { key: "tokenizer.ggml.padding_token_id", type: U32, value: v.specials["<|endoftext|>"] },
    { key: "tokenizer.ggml.bos_token_id", type: U32, value: v.specials["<|endoftext|>"] },
    { key: "tokenizer.ggml.add_bos_token", type: GgufValueType.BOOL, value: false },
    { key: "tokenizer.chat_template", type: STR, value: CHATML_TEMPLATE },
  ];
}

const A_LOG_RANGE = { lo: 1, hi: 16 };   // Mamba-style A ~ U-ish[1, 16]
const DT_RANGE = { lo: 1e-3, hi: 1e-1 }; // Mamba's dt init range

function globals(E: number, V: number): TensorSpec[] {
  return [
    { name: "token_embd.weight", ne: [E, V], init: { kind: "normal", std: 1 } },
    norm("output_norm.weight", E),
    lin("output.weight", [E, V]),
  ];
}

function moe(p: string, E: number, nExp: number, eff: number, sff: number, kimi: boolean): TensorSpec[] {
  const out: TensorSpec[] = [lin(p + "ffn_gate_inp.weight", [E, nExp])];
  if (kimi) {
    out.push({ name: p + "exp_probs_b.bias", ne: [nExp], init: { kind: "normal", std: 0.1 } });
    out.push(lin(p + "ffn_gate_exps.weight", [E, eff, nExp]), lin(p + "ffn_down_exps.weight", [eff, E, nExp]),
      lin(p + "ffn_up_exps.weight", [E, eff, nExp]));
    out.push(lin(p + "ffn_gate_shexp.weight", [E, sff]), lin(p + "ffn_up_shexp.weight", [E, sff]), lin(p + "ffn_down_shexp.weight", [sff, E]));
  } else {
    out.push(lin(p + "ffn_gate_exps.weight", [E, eff, nExp]), lin(p + "ffn_up_exps.weight", [E, eff, nExp]),
      lin(p + "ffn_down_exps.weight", [eff, E, nExp]));
    out.push(lin(p + "ffn_gate_inp_shexp.weight", [E]));
    out.push(lin(p + "ffn_gate_shexp.weight", [E, sff]), lin(p + "ffn_up_shexp.weight", [E, sff]), lin(p + "ffn_down_shexp.weight", [sff, E]));
  }
  return out;
}

export function kimiTensors(c: KimiConfig): TensorSpec[] {
  const E = c.hidden, H = c.heads, D = c.kdaHeadDim, HD = H * D, R = c.kvLoraRank;
  const ts = globals(E, c.vocab);
  const mla = new Set(c.mlaLayers);
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    ts.push(norm(p + "attn_norm.weight", E), norm(p + "ffn_norm.weight", E));
    if (mla.has(l)) {
      ts.push(lin(p + "attn_q.weight", [E, H * (c.qkNope + c.qkRope)]), lin(p + "attn_kv_a_mqa.weight", [E, R + c.qkRope]),
        norm(p + "attn_kv_a_norm.weight", R),
        lin(p + "attn_k_b.weight", [c.qkNope, R, H], R), // HF kv_b_proj has R inputs
        lin(p + "attn_v_b.weight", [R, c.vHead, H]),
        lin(p + "attn_output.weight", [H * c.vHead, E]));
    } else {
      ts.push(lin(p + "attn_q.weight", [E, HD]), lin(p + "attn_k.weight", [E, HD]), lin(p + "attn_v.weight", [E, HD]));
      for (const x of ["q", "k", "v"]) ts.push(lin(p + `ssm_conv1d_${x}.weight`, [c.convKernel, 1, HD, 1], c.convKernel));
      ts.push(lin(p + "ssm_f_a.weight", [E, D]), lin(p + "ssm_f_b.weight", [D, HD]), lin(p + "ssm_beta.weight", [E, H]),
        { name: p + "ssm_a", ne: [1, H, 1, 1], init: { kind: "neg-log-uniform", ...A_LOG_RANGE } },
        { name: p + "ssm_dt.bias", ne: [HD], init: { kind: "dt-bias", ...DT_RANGE } },
        lin(p + "ssm_g_a.weight", [E, D]), lin(p + "ssm_g_b.weight", [D, HD]), norm(p + "ssm_norm.weight", D),
        lin(p + "attn_output.weight", [HD, E]));
    }
    if (l < c.leadingDense) {
      ts.push(lin(p + "ffn_gate.weight", [E, c.denseFF]), lin(p + "ffn_up.weight", [E, c.denseFF]), lin(p + "ffn_down.weight", [c.denseFF, E]));
    } else {
      ts.push(...moe(p, E, c.experts, c.expertFF, c.expertFF * c.sharedExperts, true));
    }
  }
  return ts;
}

export function qwenTensors(c: QwenConfig): TensorSpec[] {
  const E = c.hidden;
  const keyDim = c.linKeyHeads * c.linKeyDim, valueDim = c.linValueHeads * c.linValueDim;
  const convDim = 2 * keyDim + valueDim;
  const ts = globals(E, c.vocab);
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    ts.push(norm(p + "attn_norm.weight", E), norm(p + "post_attention_norm.weight", E));
    if ((l + 1) % c.fullAttentionInterval === 0) {
      ts.push(lin(p + "attn_q.weight", [E, c.headDim * c.heads * 2]), lin(p + "attn_k.weight", [E, c.headDim * c.kvHeads]),
        lin(p + "attn_v.weight", [E, c.headDim * c.kvHeads]), lin(p + "attn_output.weight", [c.headDim * c.heads, E]),
        norm(p + "attn_q_norm.weight", c.headDim), norm(p + "attn_k_norm.weight", c.headDim));
    } else {
      ts.push(lin(p + "attn_qkv.weight", [E, convDim]), lin(p + "attn_gate.weight", [E, valueDim]),
        lin(p + "ssm_ba.weight", [E, 2 * c.linValueHeads]),
        lin(p + "ssm_conv1d.weight", [c.convKernel, convDim]),
        { name: p + "ssm_dt.bias", ne: [c.linValueHeads], init: { kind: "dt-bias", ...DT_RANGE } },
        { name: p + "ssm_a", ne: [c.linValueHeads], init: { kind: "neg-log-uniform", ...A_LOG_RANGE } },
        norm(p + "ssm_norm.weight", c.linValueDim), lin(p + "ssm_out.weight", [valueDim, E]));
    }
    ts.push(...moe(p, E, c.experts, c.expertFF, c.sharedFF, false));
  }
  return ts;
}

export function modelKVs(c: SynthConfig, v: SynthVocab, name: string, fileType: number): KVSpec[] {
  return c.arch === "kimi-linear" ? kimiKVs(c, v, name, fileType) : qwenKVs(c, v, name, fileType);
}

export function modelTensors(c: SynthConfig): TensorSpec[] {
  return c.arch === "kimi-linear" ? kimiTensors(c) : qwenTensors(c);
}
