// Backends the model tests run on: "reference" always, others when their package loads and reports available.
import * as T from "@ggts/tensor";
import { backendFactories } from "@ggts/tensor";
import { decomposedDeltaRule, setDecomposedDeltaRule } from "../src/layers.js";

async function tryImport(load: () => Promise<unknown>): Promise<void> {
  try { await load(); } catch { /* package not built here */ }
}

export async function testBackends(): Promise<string[]> {
  await tryImport(() => import("@ggts/backend-cpu"));
  const names: string[] = [];
  for (const f of backendFactories()) {
    if (f.name !== "reference" && f.name !== "cpu") continue;
    if ((await f.available()).ok) names.push(f.name);
  }
  return names.sort((a, b) => (a === "reference" ? -1 : b === "reference" ? 1 : a.localeCompare(b)));
}

// Until @ggts/tensor's index exports the decomposed delta rule, load it from its source file so the
// decomposed path is still exercised (the lookup through the public API takes over once it is exported).
if (!("deltaRuleChunked" in T)) {
  await tryImport(async () => {
    const m = await import("../../tensor/src/nn/delta-rule.js");
    setDecomposedDeltaRule({ chunked: m.deltaRuleChunked, recurrent: m.deltaRuleRecurrent });
  });
}

/** Delta-rule forms available: fused always, decomposed once @ggts/tensor provides it. */
export const deltaForms = (): ("fused" | "decomposed")[] => (decomposedDeltaRule() ? ["fused", "decomposed"] : ["fused"]);
