// @ggts/backend-cuda: registers the "cuda" backend (priority 200) when imported.
import { registerBackend, type BackendFactory } from "@ggts/tensor";
import { CudaBackend } from "./backend.js";
import { unavailableReason } from "./native.js";

export { CudaBackend, CudaBuffer } from "./backend.js";
export { cudaSupportsOp, READABLE_TYPES, WRITABLE_TYPES } from "./support.js";
export { loadAddon, tryLoadAddon, addonLoadError, unavailableReason, ADDON_PATH } from "./native.js";
export type { CudaAddon, CudaDeviceInfo, GraphValidationError } from "./native.js";

export const cudaBackendFactory: BackendFactory = {
  name: "cuda",
  priority: 200,
  available: async () => {
    const reason = unavailableReason();
    return reason === null ? { ok: true } : { ok: false, reason };
  },
  create: async (opts) => new CudaBackend(opts),
};
registerBackend(cudaBackendFactory);
