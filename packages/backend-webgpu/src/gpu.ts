// Adapter acquisition: navigator.gpu in browsers, Dawn (node-gpu.ts, imported lazily) in Node.
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MAP_READ_MODE = 0x1;
export const STAGE_COMPUTE = 0x4;

let gpuPromise: Promise<GPU> | null = null;

export function getGpu(): Promise<GPU> {
  gpuPromise ??= (async () => {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (nav?.gpu) return nav.gpu;
    const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";
    if (!isNode) throw new Error("navigator.gpu is missing (this browser has no WebGPU, or it is disabled)");
    const mod = "./node-gpu.js"; // a variable keeps bundlers from inlining the Node module
    const { nodeGpu } = (await import(/* @vite-ignore */ mod)) as typeof import("./node-gpu.js");
    return nodeGpu();
  })();
  gpuPromise.catch(() => { gpuPromise = null; });
  return gpuPromise;
}

/** A fresh adapter (adapters are single-use: each device needs its own). */
export async function requestAdapter(): Promise<GPUAdapter> {
  let gpu: GPU;
  try { gpu = await getGpu(); } catch (e) {
    throw new Error(`WebGPU unavailable: ${(e as Error).message}`);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error("WebGPU unavailable: no adapter (no Vulkan/Metal/D3D driver found; on Linux install a Vulkan " +
      "driver such as Mesa lavapipe >= 23, e.g. mesa-vulkan-drivers from bookworm-backports)");
  }
  return adapter;
}

export async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  const lim = adapter.limits as unknown as Record<string, number>;
  for (const k of ["maxBufferSize", "maxStorageBufferBindingSize", "maxStorageBuffersPerShaderStage",
    "maxComputeWorkgroupStorageSize", "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX",
    "maxComputeWorkgroupsPerDimension", "maxUniformBufferBindingSize"]) {
    if (typeof lim[k] === "number") requiredLimits[k] = lim[k];
  }
  const requiredFeatures = (["shader-f16", "timestamp-query"] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ requiredLimits, requiredFeatures });
}
