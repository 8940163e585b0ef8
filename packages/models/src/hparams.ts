// Architecture hyper-parameters read from GGUF metadata (models.md §2).
import type { GgufFile } from "@ggts/gguf";

export type Arch = "kimi-linear" | "qwen3next";
export const SUPPORTED_ARCHS: readonly Arch[] = ["kimi-linear", "qwen3next"];

interface Common {
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nCtxTrain: number;
  rmsEps: number;
  nExpert: number;
  nExpertUsed: number;
  nFfExp: number;
  dConv: number;
}

export interface KimiHParams extends Common {
  arch: "kimi-linear";
  nHead: number;
  /** true for MLA (attention) layers, false for KDA (recurrent) layers. */
  isAttn: boolean[];
  nFf: number;
  kdaHeadDim: number;
  kvLoraRank: number;
  qkRope: number;
  qkNope: number;
  vHeadMla: number;
  nExpertShared: number;
  nLayerDenseLead: number;
  expertWeightsScale: number;
  /** 1 softmax, 2 sigmoid. */
  gatingFunc: number;
}

export interface Qwen3NextHParams extends Common {
  arch: "qwen3next";
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nRot: number;
  ropeBase: number;
  isAttn: boolean[];
  nFfShexp: number;
  ssmDState: number;
  ssmNGroup: number;
  ssmDtRank: number;
  ssmDInner: number;
}

export type HParams = KimiHParams | Qwen3NextHParams;

function reader(f: GgufFile, arch: string) {
  const key = (k: string) => `${arch}.${k}`;
  const need = (k: string): number => {
    if (!f.has(key(k))) throw new Error(`${arch}: required GGUF key ${key(k)} is missing`);
    return f.getNumber(key(k));
  };
  const opt = (k: string, d: number): number => (f.has(key(k)) ? f.getNumber(key(k)) : d);
  return { key, need, opt };
}

function vocabSize(f: GgufFile, arch: string): number {
  if (f.has(`${arch}.vocab_size`)) return f.getNumber(`${arch}.vocab_size`);
  if (f.hasTensor("token_embd.weight")) return f.tensor("token_embd.weight").ne[1];
  throw new Error(`${arch}: cannot determine the vocabulary size (no ${arch}.vocab_size, no token_embd.weight)`);
}

export function readHParams(f: GgufFile): HParams {
  const arch = f.has("general.architecture") ? f.getString("general.architecture") : "(none)";
  if (arch === "kimi-linear") return readKimi(f);
  if (arch === "qwen3next") return readQwen(f);
  throw new Error(`unsupported architecture "${arch}" (supported: ${SUPPORTED_ARCHS.join(", ")})`);
}

function readKimi(f: GgufFile): KimiHParams {
  const arch = "kimi-linear";
  const { key, need, opt } = reader(f, arch);
  const nLayer = need("block_count");
  const nEmbd = need("embedding_length");
  const nHead = need("attention.head_count");
  const kvKey = key("attention.head_count_kv");
  if (!f.has(kvKey)) throw new Error(`${arch}: required GGUF key ${kvKey} (per-layer KDA/MLA marker) is missing`);
  const kvRaw = f.get(kvKey);
  const kv = typeof kvRaw === "number" || typeof kvRaw === "bigint"
    ? new Array<number>(nLayer).fill(Number(kvRaw)) : f.getNumberArray(kvKey);
  if (kv.length !== nLayer) throw new Error(`${arch}: ${kvKey} has ${kv.length} entries, expected ${nLayer} (one per layer)`);
  const keyMla = need("attention.key_length_mla");
  const qkRope = need("rope.dimension_count");
  return {
    arch, nLayer, nEmbd, nHead,
    nVocab: vocabSize(f, arch),
    nCtxTrain: need("context_length"),
    rmsEps: need("attention.layer_norm_rms_epsilon"),
    isAttn: kv.map((x) => x !== 0),
    nFf: opt("feed_forward_length", 0),
    kdaHeadDim: need("kda.head_dim"),
    dConv: need("ssm.conv_kernel"),
    kvLoraRank: need("attention.kv_lora_rank"),
    qkRope, qkNope: keyMla - qkRope,
    vHeadMla: need("attention.value_length_mla"),
    nExpert: opt("expert_count", 0),
    nExpertUsed: opt("expert_used_count", 0),
    nFfExp: need("expert_feed_forward_length"),
    nExpertShared: need("expert_shared_count"),
    nLayerDenseLead: need("leading_dense_block_count"),
    expertWeightsScale: need("expert_weights_scale"),
    gatingFunc: need("expert_gating_func"),
  };
}

function readQwen(f: GgufFile): Qwen3NextHParams {
  const arch = "qwen3next";
  const { need, opt } = reader(f, arch);
  const nLayer = need("block_count");
  const nEmbd = need("embedding_length");
  const nHead = opt("attention.head_count", 0);
  const headDim = opt("attention.key_length", nHead ? nEmbd / nHead : 0);
  const vLen = opt("attention.value_length", headDim);
  if (vLen !== headDim) throw new Error(`${arch}: attention.key_length ${headDim} must equal attention.value_length ${vLen}`);
  const interval = opt("full_attention_interval", 4);
  const nExpertUsed = opt("expert_used_count", 0);
  return {
    arch, nLayer, nEmbd, nHead, headDim,
    nVocab: vocabSize(f, arch),
    nCtxTrain: need("context_length"),
    rmsEps: need("attention.layer_norm_rms_epsilon"),
    nHeadKv: opt("attention.head_count_kv", nHead),
    nRot: opt("rope.dimension_count", headDim),
    ropeBase: opt("rope.freq_base", 10000),
    isAttn: Array.from({ length: nLayer }, (_, i) => (i + 1) % interval === 0),
    nExpert: opt("expert_count", 0),
    nExpertUsed,
    nFfExp: opt("expert_feed_forward_length", nExpertUsed ? opt("feed_forward_length", 0) / nExpertUsed : 0),
    nFfShexp: opt("expert_shared_feed_forward_length", 0),
    dConv: need("ssm.conv_kernel"),
    ssmDState: need("ssm.state_size"),
    ssmNGroup: need("ssm.group_count"),
    ssmDtRank: need("ssm.time_step_rank"),
    ssmDInner: need("ssm.inner_size"),
  };
}
