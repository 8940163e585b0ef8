// @ggts/backend-webgpu: WGSL compute kernels on WebGPU (Dawn's `webgpu` package in Node, navigator.gpu in
// browsers). Importing this module registers the "webgpu" backend factory.
import { registerBackend, type Availability, type BackendFactory } from "@ggts/tensor";
import { WebGpuBackend, type WebGpuOptions } from "./backend.js";
import { requestAdapter } from "./gpu.js";

export { WebGpuBackend, type WebGpuOptions } from "./backend.js";
export { WebGpuBuffer } from "./buffer.js";
export { KERNELS } from "./kernels/index.js";

let availability: Promise<Availability> | null = null;

/** Whether a WebGPU adapter can be obtained here; the reason when not. Probed once per process. */
export function webgpuAvailable(): Promise<Availability> {
  availability ??= requestAdapter().then(
    () => ({ ok: true }) as const,
    (e: unknown) => ({ ok: false, reason: (e as Error).message }) as const,
  );
  return availability;
}

export const webgpuBackendFactory: BackendFactory = {
  name: "webgpu",
  priority: 50,
  available: webgpuAvailable,
  create: (opts) => WebGpuBackend.create(opts as WebGpuOptions),
};
registerBackend(webgpuBackendFactory);
