// Loads the compiled addon (build/Release/ggts_cpu.node) and types its surface.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { OpTiming } from "@ggts/tensor";

/** Opaque native handles (Node-API externals). */
export type NativeHandle = { readonly __native: unique symbol };

export interface NativeStats { buffers: number; bytes: number; mappings: number; mappedBytes: number; contexts: number }

export interface CpuAddon {
  allocBuffer(size: number): NativeHandle;
  mapFile(path: string, offset: number, size: number): NativeHandle;
  freeBuffer(h: NativeHandle): void;
  setBytes(h: NativeHandle, offset: number, data: ArrayBufferView): void;
  getBytes(h: NativeHandle, offset: number, size: number): Uint8Array;
  bufferSize(h: NativeHandle): number;
  /** splitMinNs: nodes estimated below this many ns run on one thread (default 20000). */
  createContext(threads: number, splitMinNs?: number): NativeHandle;
  destroyContext(h: NativeHandle): void;
  compute(ctx: NativeHandle, records: Float64Array, count: number, buffers: NativeHandle[]): Promise<void>;
  /** Entries accumulated since the previous call (then cleared); enable switches timing for later graphs. */
  profile(ctx: NativeHandle, enable: boolean): OpTiming[];
  physicalCores(): number;
  stats(): NativeStats;
  mulMatSupports(type: number): boolean;
  buildInfo(): { avx2: boolean; fma: boolean; avx512f: boolean; blas: boolean };
}

export const ADDON_PATH = fileURLToPath(new URL("../build/Release/ggts_cpu.node", import.meta.url));

let cached: CpuAddon | null = null;
let loadError: string | null = null;

/** The addon, or null with loadError() saying why it cannot be used. */
export function tryLoadAddon(): CpuAddon | null {
  if (cached || loadError) return cached;
  if (!existsSync(ADDON_PATH)) {
    loadError = `native addon not built (${ADDON_PATH} missing; run "pnpm --filter @ggts/backend-cpu build:native")`;
    return null;
  }
  try {
    cached = createRequire(import.meta.url)(ADDON_PATH) as CpuAddon;
  } catch (e) {
    loadError = `cannot load ${ADDON_PATH}: ${(e as Error).message.split("\n")[0]}`;
  }
  return cached;
}

export function addonLoadError(): string | null { tryLoadAddon(); return loadError; }

export function loadAddon(): CpuAddon {
  const a = tryLoadAddon();
  if (!a) throw new Error(`cpu backend: ${loadError}`);
  return a;
}
