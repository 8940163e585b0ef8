// @ggts/backend-cpu: the native CPU backend. Importing this module registers the "cpu" factory.
import { registerBackend, type BackendFactory } from "@ggts/tensor";
import { CpuBackend } from "./backend.js";
import { addonLoadError, tryLoadAddon } from "./native.js";

export { CpuBackend, CpuBuffer, defaultThreads } from "./backend.js";
export { cpuSupportsOp, WRITABLE_TYPES } from "./support.js";
export { ADDON_PATH, addonLoadError, type NativeStats } from "./native.js";

export const cpuBackendFactory: BackendFactory = {
  name: "cpu",
  priority: 100,
  available: async () => (tryLoadAddon() ? { ok: true } : { ok: false, reason: addonLoadError() ?? "unknown error" }),
  create: async (opts) => new CpuBackend(opts),
};
registerBackend(cpuBackendFactory);
