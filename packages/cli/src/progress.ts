// Model loading for the commands: checks the file, resolves the backend, shows a progress bar on a TTY
// (stderr) while the weights are mapped/uploaded.
import { existsSync, statSync } from "node:fs";
import { ProgressBar, formatBytes } from "@ggts/gguf";
import { loadModel, type KvType, type LoadOptions, type Model } from "@ggts/models";
import type { DeltaNetMode } from "@ggts/models";
import { resolveBackend } from "./backends.js";
import { UsageError } from "./args.js";

export interface ModelFlags {
  model?: string;
  backend?: string;
  threads?: number;
  "ctx-size"?: number;
  "kv-type"?: string;
  "delta-net"?: string;
  "flash-attn"?: boolean;
  ubatch?: number;
}

/** Loads the model named by -m with the shared model flags; `defaults` fill what the flags leave open. */
export async function loadModelFromFlags(f: ModelFlags, defaults: Partial<LoadOptions> = {}, backendOrder?: readonly string[]): Promise<Model> {
  if (f.model === undefined) throw new UsageError("missing -m MODEL");
  if (!existsSync(f.model)) throw new Error(`model file not found: ${f.model}`);
  if (!statSync(f.model).isFile()) throw new Error(`model path is not a file: ${f.model}`);
  const backend = await resolveBackend(f.backend, backendOrder);
  const size = statSync(f.model).size;
  // Worth a bar only for files that take a moment to map or upload.
  const bar = new ProgressBar(`loading ${formatBytes(size)}`, 1, process.stderr, false);
  const show = bar.enabled && size > 64 * 1024 * 1024;
  try {
    return await loadModel(f.model, {
      ...defaults,
      backend,
      ...(f.threads !== undefined ? { threads: f.threads } : {}),
      ...(f["ctx-size"] !== undefined ? { contextSize: f["ctx-size"] } : {}),
      ...(f["kv-type"] !== undefined ? { kvType: f["kv-type"] as KvType } : {}),
      ...(f["delta-net"] !== undefined ? { deltaNet: f["delta-net"] as DeltaNetMode } : {}),
      ...(f["flash-attn"] ? { flashAttn: true } : {}),
      ...(f.ubatch !== undefined ? { ubatch: f.ubatch } : {}),
      onProgress: show ? (p) => bar.update(p.fraction, p.stage) : undefined,
    });
  } finally {
    if (show) bar.finish();
  }
}

