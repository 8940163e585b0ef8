// synthModel: a random-weight Kimi-Linear or Qwen3-Next GGUF, generated and quantized tensor by tensor
// (streamed to disk, optionally on worker threads), deterministic for a given seed.

import { GgmlType, typeTraits } from "@ggts/tensor";
import { GgufTensorInfo } from "../parse.js";
import { parseQuantTarget, planQuantization } from "../quant-plan.js";
import { GgufWriter, WriteProgress } from "../writer.js";
import { ConfigOverrides, SynthArch, SynthConfig, resolveConfig } from "./config.js";
import { ChunkJob, fastEligible, makeChunk, rowsPerChunk } from "./generate.js";
import { KIMI_SPECIALS, QWEN_SPECIALS, TensorSpec, modelKVs, modelTensors } from "./model-spec.js";
import type { ChunkPool } from "./pool.js";
import { synthVocab } from "./vocab.js";

export interface SynthOptions {
  arch: SynthArch;
  /** "tiny", "kimi-linear-48b-a3b", "qwen3-next-80b-a3b"; or give `config`. */
  preset?: string;
  /** Config fields (camelCase, see KimiConfig/QwenConfig), applied over the preset (or over tiny). */
  config?: Partial<SynthConfig>;
  layers?: number;
  experts?: number;
  /** Output type: f32 (default), f16, bf16, a ggml quant type or a llama.cpp mix such as q4_k_m. */
  type?: string;
  seed?: number;
  /** Output path; without it the file is built in memory and returned as `bytes`. */
  out?: string;
  name?: string;
  /** Worker threads for generation+quantization (default: available cores, capped at 16; 1 = in-process). */
  threads?: number;
  /** Plan only: compute types and the exact file size without generating or writing anything. */
  dryRun?: boolean;
  /**
   * Quantized tensors as random blocks written directly (mean ≈ 0, rms as the f32 path) instead of f32 values
   * run through the exact quantizer. Default: on when the model has more than FAST_QUANT_MIN_PARAMS parameters.
   */
  fastQuant?: boolean;
  onProgress?: (p: WriteProgress) => void;
}

/** Above this many parameters, quantized synth models use the fast path unless fastQuant is false. */
export const FAST_QUANT_MIN_PARAMS = 50_000_000;

export interface SynthResult {
  config: SynthConfig;
  path?: string;
  bytes?: Uint8Array;
  fileSize: number;
  tensorCount: number;
  parameters: number;
  /** Tensor count per output type name. */
  types: Record<string, number>;
  /** Whether some quantized tensors were (or, for a dry run, would be) written as random blocks. */
  fastQuant: boolean;
  seconds: number;
}

/** Workers need the compiled worker.js; under a TS-source test runner everything runs in-process. */
function workerUrl(): URL | null {
  const url = new URL("./worker.js", import.meta.url);
  return import.meta.url.endsWith(".js") ? url : null;
}

export async function synthModel(opts: SynthOptions): Promise<SynthResult> {
  const t0 = Date.now();
  const over: ConfigOverrides = {};
  if (opts.layers !== undefined) over.layers = opts.layers;
  if (opts.experts !== undefined) over.experts = opts.experts;
  const cfg = resolveConfig(opts.arch, opts.preset ?? (opts.config ? undefined : "tiny"), opts.config, over);
  const seed = opts.seed ?? 0;
  const target = parseQuantTarget(opts.type ?? "f32");

  const specials = cfg.arch === "kimi-linear" ? KIMI_SPECIALS : QWEN_SPECIALS;
  const merges = Math.min(cfg.merges, cfg.vocab - 256 - specials.length);
  const vocab = synthVocab({ size: cfg.vocab, merges, specials, seed });
  const specs = modelTensors(cfg);
  const infos: GgufTensorInfo[] = specs.map((s) => {
    const n = s.ne.reduce((a, b) => a * b, 1);
    return { name: s.name, type: GgmlType.F32, ne: s.ne, offset: 0, relOffset: 0, nbytes: n * 4, nElements: n };
  });
  const nGqa = cfg.arch === "qwen3next" ? Math.trunc(cfg.heads / cfg.kvHeads) : 0; // Kimi layer 0 has no KV heads
  const plan = planQuantization(infos, { arch: cfg.arch, nLayer: cfg.layers, nExpert: cfg.experts, nGqa }, target);
  const typeOf = new Map(plan.map((p) => [p.info.name, p.type]));

  const name = opts.name ?? `${opts.preset ?? "custom"}-synth-seed${seed}`;
  const w = new GgufWriter();
  for (const kv of modelKVs(cfg, vocab, name, target.ftype)) {
    w.setKV(kv.key, kv.type, kv.value, kv.arrayType);
    if (kv.key === "general.file_type" && typeTraits(target.defaultType).quantized) w.setU32("general.quantization_version", 2);
  }
  const types: Record<string, number> = {};
  for (const s of specs) {
    const type = typeOf.get(s.name)!;
    types[typeTraits(type).name] = (types[typeTraits(type).name] ?? 0) + 1;
    w.addTensor(s.name, type, s.ne);
  }

  const parameters = infos.reduce((a, t) => a + t.nElements, 0);
  const fast = (opts.fastQuant ?? parameters > FAST_QUANT_MIN_PARAMS) && specs.some((s) => fastEligible(s.init, typeOf.get(s.name)!));
  if (opts.dryRun) {
    return { config: cfg, fileSize: w.fileSize(), tensorCount: specs.length, types, parameters, fastQuant: fast, seconds: (Date.now() - t0) / 1000 };
  }
  const threads = Math.max(1, Math.min(16, opts.threads ?? (await import("node:os")).availableParallelism()));
  const url = threads > 1 ? workerUrl() : null;
  const pool = url ? new (await import("./pool.js")).ChunkPool(threads, url) : null;
  const provider = (info: GgufTensorInfo, i: number) => tensorChunks(specs[i], info.type, seed, fast, pool);
  try {
    let bytes: Uint8Array | undefined;
    let fileSize: number;
    if (opts.out) fileSize = await w.writeFile(opts.out, provider, opts.onProgress);
    else {
      bytes = await w.toBytes(provider);
      fileSize = bytes.length;
    }
    return {
      config: cfg, path: opts.out, bytes, fileSize, tensorCount: specs.length, types, parameters, fastQuant: fast, seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await pool?.close();
  }
}

/** A tensor's encoded bytes, chunk by chunk, with up to 2× pool-size chunks in flight. */
async function* tensorChunks(spec: TensorSpec, type: GgmlType, seed: number, fast: boolean, pool: ChunkPool | null): AsyncGenerator<Uint8Array> {
  const ne0 = spec.ne[0];
  const nRows = spec.ne.reduce((a, b) => a * b, 1) / ne0;
  const per = rowsPerChunk(ne0);
  const jobs: ChunkJob[] = [];
  for (let r = 0, c = 0; r < nRows; r += per, c++) {
    jobs.push({ name: spec.name, init: spec.init, ne0, rows: Math.min(per, nRows - r), chunkIndex: c, seed, type, fast });
  }
  if (!pool || jobs.length === 1) {
    for (const j of jobs) yield makeChunk(j);
    return;
  }
  const window = pool.size * 2;
  const inflight: Promise<Uint8Array>[] = [];
  let next = 0;
  while (next < jobs.length && inflight.length < window) inflight.push(pool.run(jobs[next++]));
  while (inflight.length > 0) {
    const out = await inflight.shift()!;
    if (next < jobs.length) inflight.push(pool.run(jobs[next++]));
    yield out;
  }
}
