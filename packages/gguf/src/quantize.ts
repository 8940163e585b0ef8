// `ggts quantize`: re-encode a GGUF's weights tensor by tensor (bounded memory), llama-quantize style.

import { GgmlType, dequantizeRow, quantizeRow, rowSize, typeTraits } from "@ggts/tensor";
import { GgufFile } from "./file.js";
import { GgufTensorInfo } from "./parse.js";
import { ModelHparams, PlanEntry, QuantTarget, parseQuantTarget, planQuantization } from "./quant-plan.js";
import { GgufValueType } from "./value-types.js";
import { GgufWriter, WriteProgress } from "./writer.js";

/** The hyper-parameters llama-quantize's rules look at, read from the file's metadata. */
export function hparamsFromGguf(f: GgufFile): ModelHparams {
  const arch = f.architecture;
  const first = (key: string): number | undefined => {
    const kv = f.metadata.get(key);
    if (!kv) return undefined;
    if (kv.type === GgufValueType.ARRAY) {
      const a = f.getNumberArray(key);
      return a.length > 0 ? a[0] : undefined;
    }
    return f.getNumber(key);
  };
  const nHead = first(`${arch}.attention.head_count`) ?? 0;
  const nHeadKv = first(`${arch}.attention.head_count_kv`) ?? nHead;
  return {
    arch,
    nLayer: f.getU32(`${arch}.block_count`),
    nExpert: f.getU32(`${arch}.expert_count`, 0),
    nGqa: nHeadKv === 0 ? 0 : Math.trunc(nHead / nHeadKv),
  };
}

export interface QuantizeOptions {
  /** Force every quantizable tensor to the target's base type (llama-quantize --pure). */
  pure?: boolean;
  /** Bytes of f32 work per conversion step (default 16 MiB). */
  chunkBytes?: number;
  onProgress?: (p: WriteProgress & { type: GgmlType }) => void;
}

export interface QuantizeResult {
  plan: PlanEntry[];
  inputBytes: number;
  outputBytes: number;
}

/** Converts one tensor in chunks of whole rows: read → f32 → target type. */
async function* convertTensor(f: GgufFile, t: GgufTensorInfo, to: GgmlType, chunkBytes: number): AsyncGenerator<Uint8Array> {
  const ne0 = t.ne[0];
  const nRows = t.nElements / ne0;
  const inRow = rowSize(t.type, ne0);
  const outRow = rowSize(to, ne0);
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / (ne0 * 4)));
  const f32 = new Float32Array(Math.min(nRows, rowsPerChunk) * ne0);
  for (let r = 0; r < nRows; r += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, nRows - r);
    const src = await f.readRange(t.offset + r * inRow, n * inRow);
    const x = n * ne0 === f32.length ? f32 : f32.subarray(0, n * ne0);
    dequantizeRow(t.type, src, n * ne0, x, 0);
    const out = new Uint8Array(n * outRow);
    quantizeRow(to, x, out);
    yield out;
  }
}

function trimDims(ne: readonly number[]): number[] {
  let n = ne.length;
  while (n > 1 && ne[n - 1] === 1) n--;
  return ne.slice(0, n);
}

/** Builds the writer for a quantized copy of `f` (metadata as llama-quantize writes it). */
export function quantizedWriter(f: GgufFile, target: QuantTarget, plan: PlanEntry[], chunkBytes = 16 << 20): GgufWriter {
  const w = new GgufWriter({ version: 3, alignment: f.alignment });
  for (const kv of f.metadata.values()) {
    // llama.cpp re-sets these two, which moves them to the end.
    if (kv.key === "general.quantization_version" || kv.key === "general.file_type") continue;
    if (kv.key === "general.alignment" && w.metadata.has(kv.key)) continue;
    w.addKV(kv);
  }
  w.setU32("general.quantization_version", 2);
  w.setU32("general.file_type", target.ftype);
  for (const p of plan) {
    const t = p.info;
    // llama.cpp stores ggml_n_dims dimensions (trailing 1s dropped).
    w.addTensor(t.name, p.type, trimDims(t.ne), p.convert ? () => convertTensor(f, t, p.type, chunkBytes) : () => f.streamTensorData(t));
  }
  return w;
}

/** Quantizes `input` to `outPath` with llama-quantize's per-tensor type choices for `targetName`. */
export async function quantizeGguf(input: GgufFile, outPath: string, targetName: string | QuantTarget,
  opts: QuantizeOptions = {}): Promise<QuantizeResult> {
  const target = typeof targetName === "string" ? parseQuantTarget(targetName, opts.pure) : targetName;
  const plan = planQuantization(input.tensors, hparamsFromGguf(input), target);
  for (const p of plan) {
    if (p.convert) typeTraits(p.info.type); // unsupported input types fail before anything is written
  }
  const w = quantizedWriter(input, target, plan, opts.chunkBytes);
  const outputBytes = await w.writeFile(outPath, undefined, opts.onProgress
    ? (p) => opts.onProgress!({ ...p, type: plan[p.tensorIndex].type })
    : undefined);
  return { plan, inputBytes: input.fileSize, outputBytes };
}
