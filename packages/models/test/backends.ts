// Backends the model tests run on: "reference" always, others when their package loads and reports available.
import { backendFactories } from "@ggts/tensor";

async function tryImport(load: () => Promise<unknown>): Promise<void> {
  try { await load(); } catch { /* package not built here */ }
}

export async function testBackends(): Promise<string[]> {
  await tryImport(() => import("@ggts/backend-cpu"));
  await tryImport(() => import("@ggts/backend-webgpu"));
  await tryImport(() => import("@ggts/backend-cuda"));
  const only = process.env.GGTS_TEST_BACKENDS?.split(",").map((s) => s.trim()).filter(Boolean);
  const names: string[] = [];
  for (const f of backendFactories()) {
    if (only && !only.includes(f.name)) continue;
    const a = await f.available();
    if (a.ok) names.push(f.name);
    // CI installs lavapipe: a WebGPU backend that is missing there is a failure, not a skip.
    else if (f.name === "webgpu" && process.env.CI === "true" && !only) throw new Error(`webgpu unavailable in CI: ${a.reason}`);
  }
  return names.sort((a, b) => (a === "reference" ? -1 : b === "reference" ? 1 : a.localeCompare(b)));
}

/** Software GPU drivers (lavapipe) are slow: such backends run a smaller, still complete, matrix. */
export const isSlowBackend = (name: string): boolean => name === "webgpu";

/** Delta-rule forms under test: the fused GATED_DELTA_NET op and the decomposed chunked/recurrent graphs. */
export const deltaForms = (): ("fused" | "decomposed")[] => ["fused", "decomposed"];
