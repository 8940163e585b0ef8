// Loads the compiled addon (build/Release/ggts_cuda.node) and types its surface.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface CudaDeviceInfo {
  runtimeVersion: number;
  driverVersion: number;
  cublas: boolean;
  cublasLibrary?: string;
  cublasError?: string;
  /** Set when no device can be used (the CUDA error text). */
  error?: string;
  name?: string;
  memoryBytes?: number;
  freeBytes?: number;
  computeCapability?: string;
  multiprocessors?: number;
  sharedMemoryPerBlockOptin?: number;
}

export interface GraphValidationError { record: number; message: string }

export interface CudaAddon {
  /** null when a device is usable, otherwise the CUDA error text. */
  available(): string | null;
  deviceInfo(): CudaDeviceInfo;
  /** The addon's op table (name and parameter count by op code), to check against OP_NAMES. */
  opTable(): { name: string; params: number }[];
  /** Validates serialised records against buffer sizes without touching a device. */
  validateGraph(records: Float64Array, bufferSizes: Float64Array, readonly?: Uint8Array): GraphValidationError | null;
  createContext(): number;
  destroyContext(ctx: number): void;
  alloc(size: number, readonly?: boolean): number;
  free(buffer: number): void;
  upload(ctx: number, buffer: number, offset: number, data: Uint8Array): void;
  download(ctx: number, buffer: number, offset: number, size: number): Uint8Array;
  loadFile(buffer: number, dstOffset: number, path: string, fileOffset: number, size: number): Promise<void>;
  /** Validates, runs every node, waits; returns the number of kernels' nodes launched. */
  compute(ctx: number, records: Float64Array, buffers: Int32Array): number;
  recordSize: number;
}

export const ADDON_PATH = fileURLToPath(new URL("../build/Release/ggts_cuda.node", import.meta.url));

let cached: CudaAddon | null = null;
let loadError: string | null = null;

/** The addon, or null with addonLoadError() saying why it cannot be used. */
export function tryLoadAddon(): CudaAddon | null {
  if (cached || loadError) return cached;
  if (!existsSync(ADDON_PATH)) {
    loadError = `addon not built (${ADDON_PATH} missing; run "pnpm --filter @ggts/backend-cuda build:native" with nvcc installed)`;
    return null;
  }
  try {
    cached = createRequire(import.meta.url)(ADDON_PATH) as CudaAddon;
  } catch (e) {
    loadError = `addon not built: cannot load ${ADDON_PATH}: ${(e as Error).message.split("\n")[0]}`;
  }
  return cached;
}

export function addonLoadError(): string | null { tryLoadAddon(); return loadError; }

export function loadAddon(): CudaAddon {
  const a = tryLoadAddon();
  if (!a) throw new Error(`cuda: ${loadError}`);
  return a;
}

/** Why the cuda backend cannot run here, or null when it can. */
export function unavailableReason(): string | null {
  const a = tryLoadAddon();
  if (!a) return loadError;
  return a.available();
}
