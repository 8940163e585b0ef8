// Backend packages are optional at run time (a native addon may be unbuilt, no GPU): each is imported on
// demand inside try/catch, registering its factory with @ggts/tensor's registry when it loads.
import { backendFactories, type Availability } from "@ggts/tensor";

export const BACKEND_PACKAGES = ["cpu", "webgpu", "cuda"] as const;
export type BackendPackage = (typeof BACKEND_PACKAGES)[number];

// The CUDA package may not be built at all; a non-literal specifier keeps the typecheck independent of it.
const CUDA_PACKAGE: string = "@ggts/backend-cuda";

const LOADERS: Record<BackendPackage, () => Promise<unknown>> = {
  cpu: () => import("@ggts/backend-cpu"),
  webgpu: () => import("@ggts/backend-webgpu"),
  cuda: () => import(CUDA_PACKAGE),
};

const loaded = new Map<string, Promise<string | null>>();

/** Imports a backend package once; resolves to null, or to why it could not be loaded. */
export function loadBackendPackage(name: BackendPackage): Promise<string | null> {
  let p = loaded.get(name);
  if (!p) {
    p = LOADERS[name]().then(() => null, (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0]!);
    loaded.set(name, p);
  }
  return p;
}

/** Imports every backend package; returns "@ggts/backend-NAME" → why it did not load (for test-ops style reports). */
export async function loadAllBackendPackages(): Promise<Map<string, string>> {
  const errors = new Map<string, string>();
  for (const n of BACKEND_PACKAGES) {
    const err = await loadBackendPackage(n);
    if (err) errors.set(`@ggts/backend-${n}`, err);
  }
  return errors;
}

export interface BackendStatus {
  name: string;
  priority: number;
  available: Availability;
}

/** Every backend that could be registered, with whether it can run here (imports all packages). */
export async function listBackends(): Promise<BackendStatus[]> {
  const failed = new Map([...(await loadAllBackendPackages())].map(([pkg, e]) => [pkg.replace("@ggts/backend-", ""), e]));
  const out: BackendStatus[] = [];
  for (const f of backendFactories()) out.push({ name: f.name, priority: f.priority, available: await f.available() });
  for (const [name, reason] of failed) {
    if (!out.some((b) => b.name === name)) out.push({ name, priority: -1, available: { ok: false, reason: `package not loadable: ${reason}` } });
  }
  return out;
}

/** The default when no --backend is given: GPU (CUDA), else the native CPU backend, else the reference. */
export const DEFAULT_BACKEND_ORDER = ["cuda", "cpu", "reference"] as const;

/**
 * Checks a --backend value (or picks the default) and returns the registered name to pass to loadModel.
 * Unknown or unavailable names are one-line errors.
 */
export async function resolveBackend(name?: string, order: readonly string[] = DEFAULT_BACKEND_ORDER): Promise<string> {
  if (name !== undefined) {
    if ((BACKEND_PACKAGES as readonly string[]).includes(name)) await loadBackendPackage(name as BackendPackage);
    const f = backendFactories().find((b) => b.name === name);
    if (!f) {
      const known = ["reference", ...BACKEND_PACKAGES];
      throw new Error(known.includes(name)
        ? `backend "${name}" is not available: ${(await loadBackendPackage(name as BackendPackage)) ?? "not registered"}`
        : `unknown backend "${name}" (known: ${known.join(", ")})`);
    }
    const a = await f.available();
    if (!a.ok) throw new Error(`backend "${name}" is not available: ${a.reason}`);
    return name;
  }
  const reasons: string[] = [];
  for (const n of order) {
    if ((BACKEND_PACKAGES as readonly string[]).includes(n)) {
      const err = await loadBackendPackage(n as BackendPackage);
      if (err) { reasons.push(`${n}: ${err}`); continue; }
    }
    const f = backendFactories().find((b) => b.name === n);
    if (!f) continue;
    const a = await f.available();
    if (a.ok) return n;
    reasons.push(`${n}: ${a.reason}`);
  }
  throw new Error(`no backend available (${reasons.join("; ")})`);
}
