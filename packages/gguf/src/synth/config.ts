// Model configurations for synthetic models: presets (fixture-sized and real dims) and overrides.

export type SynthArch = "kimi-linear" | "qwen3next";

interface Common {
  vocab: number;
  /** BPE merges in the vocab (the rest up to the specials is merged tokens; then specials, then pads). */
  merges: number;
  hidden: number;
  layers: number;
  contextLength: number;
  rmsEps: number;
  experts: number;
  expertsUsed: number;
  expertFF: number;
}

export interface KimiConfig extends Common {
  arch: "kimi-linear";
  heads: number;
  /** KDA head dim (K = V). */
  kdaHeadDim: number;
  convKernel: number;
  kvLoraRank: number;
  qkNope: number;
  qkRope: number;
  vHead: number;
  denseFF: number;
  leadingDense: number;
  sharedExperts: number;
  routedScale: number;
  /** 0-based MLA layer indices; the others are KDA. */
  mlaLayers: number[];
}

export interface QwenConfig extends Common {
  arch: "qwen3next";
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeDims: number;
  ropeTheta: number;
  fullAttentionInterval: number;
  convKernel: number;
  linKeyHeads: number;
  linValueHeads: number;
  linKeyDim: number;
  linValueDim: number;
  sharedFF: number;
  feedForward: number;
}

export type SynthConfig = KimiConfig | QwenConfig;

/** Kimi's layout: MLA on every 4th layer and on the last one (real model: 3,7,…,23,26 of 27). */
export function kimiMlaLayers(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if ((i + 1) % 4 === 0 || i === n - 1) out.push(i);
  return out;
}

const KIMI_TINY: KimiConfig = {
  arch: "kimi-linear", vocab: 512, merges: 200, hidden: 128, layers: 4, contextLength: 4096, rmsEps: 1e-5,
  experts: 8, expertsUsed: 2, expertFF: 64, heads: 4, kdaHeadDim: 32, convKernel: 4, kvLoraRank: 64, qkNope: 32,
  qkRope: 16, vHead: 32, denseFF: 256, leadingDense: 1, sharedExperts: 1, routedScale: 2.446, mlaLayers: [3],
};

const KIMI_48B: KimiConfig = {
  arch: "kimi-linear", vocab: 163840, merges: 163584 - 256, hidden: 2304, layers: 27, contextLength: 1048576,
  rmsEps: 1e-5, experts: 256, expertsUsed: 8, expertFF: 1024, heads: 32, kdaHeadDim: 128, convKernel: 4,
  kvLoraRank: 512, qkNope: 128, qkRope: 64, vHead: 128, denseFF: 9216, leadingDense: 1, sharedExperts: 1,
  routedScale: 2.446, mlaLayers: kimiMlaLayers(27),
};

const QWEN_TINY: QwenConfig = {
  arch: "qwen3next", vocab: 512, merges: 200, hidden: 128, layers: 4, contextLength: 4096, rmsEps: 1e-6,
  experts: 8, expertsUsed: 2, expertFF: 64, heads: 4, kvHeads: 2, headDim: 32, ropeDims: 8, ropeTheta: 1e7,
  fullAttentionInterval: 4, convKernel: 4, linKeyHeads: 2, linValueHeads: 4, linKeyDim: 32, linValueDim: 32,
  sharedFF: 64, feedForward: 256,
};

const QWEN_80B: QwenConfig = {
  arch: "qwen3next", vocab: 151936, merges: 151643 - 256, hidden: 2048, layers: 48, contextLength: 262144,
  rmsEps: 1e-6, experts: 512, expertsUsed: 10, expertFF: 512, heads: 16, kvHeads: 2, headDim: 256, ropeDims: 64,
  ropeTheta: 1e7, fullAttentionInterval: 4, convKernel: 4, linKeyHeads: 16, linValueHeads: 32, linKeyDim: 128,
  linValueDim: 128, sharedFF: 512, feedForward: 5120,
};

export const PRESETS: Record<SynthArch, Record<string, SynthConfig>> = {
  "kimi-linear": { tiny: KIMI_TINY, "kimi-linear-48b-a3b": KIMI_48B },
  qwen3next: { tiny: QWEN_TINY, "qwen3-next-80b-a3b": QWEN_80B },
};

export interface ConfigOverrides {
  layers?: number;
  experts?: number;
  /** Any other field (e.g. from --config FILE.json). */
  [key: string]: unknown;
}

/** A preset (or a full config object) with overrides applied and checked. */
export function resolveConfig(arch: SynthArch, preset: string | undefined, base: Partial<SynthConfig> | undefined,
  over: ConfigOverrides = {}): SynthConfig {
  const presets = PRESETS[arch];
  if (!presets) throw new Error(`synth: unknown arch "${arch}" (kimi-linear or qwen3next)`);
  let cfg: SynthConfig;
  if (preset !== undefined) {
    const p = presets[preset];
    if (!p) throw new Error(`synth: unknown preset "${preset}" for ${arch} (known: ${Object.keys(presets).join(", ")})`);
    cfg = { ...p, ...(base ?? {}) } as SynthConfig;
  } else {
    if (!base) throw new Error("synth: give a preset or a config");
    cfg = { ...presets.tiny, ...base } as SynthConfig;
  }
  if (cfg.arch !== arch) throw new Error(`synth: config arch "${cfg.arch}" does not match --arch ${arch}`);
  const layersChanged = over.layers !== undefined && over.layers !== cfg.layers;
  for (const [k, v] of Object.entries(over)) if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  if (cfg.arch === "kimi-linear") {
    if (layersChanged || !(base && "mlaLayers" in base)) cfg.mlaLayers = kimiMlaLayers(cfg.layers);
    cfg.leadingDense = Math.min(cfg.leadingDense, cfg.layers);
  }
  cfg.expertsUsed = Math.min(cfg.expertsUsed, cfg.experts);
  validate(cfg);
  return cfg;
}

function validate(c: SynthConfig): void {
  const ints: [string, number][] = Object.entries(c).filter(([, v]) => typeof v === "number") as [string, number][];
  for (const [k, v] of ints) {
    if (k === "rmsEps" || k === "routedScale" || k === "ropeTheta") continue;
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`synth: config ${k} = ${v} must be a non-negative integer`);
  }
  for (const k of ["vocab", "hidden", "layers", "experts", "expertsUsed", "expertFF", "heads"] as const) {
    if ((c as unknown as Record<string, number>)[k] < 1) throw new Error(`synth: config ${k} must be at least 1`);
  }
  if (c.arch === "kimi-linear") {
    for (const l of c.mlaLayers) if (l < 0 || l >= c.layers) throw new Error(`synth: MLA layer ${l} outside 0..${c.layers - 1}`);
  } else {
    if (c.heads % c.kvHeads !== 0) throw new Error(`synth: heads ${c.heads} not a multiple of kvHeads ${c.kvHeads}`);
    if (c.linValueHeads % c.linKeyHeads !== 0) throw new Error(`synth: linValueHeads ${c.linValueHeads} not a multiple of linKeyHeads ${c.linKeyHeads}`);
    if (c.fullAttentionInterval < 1) throw new Error("synth: fullAttentionInterval must be at least 1");
  }
}
