// The full op case list, one file per op family.
import type { OpCase } from "../case.js";
import { layoutCases } from "./layout.js";
import { elementwiseCases } from "./elementwise.js";
import { reduceCases } from "./reduce.js";
import { matmulCases } from "./matmul.js";
import { attentionCases } from "./attention.js";
import { selectCases } from "./select.js";
import { deltaCases } from "./delta.js";
import { benchShapeCases } from "./bench-shapes.js";

export { layoutCases, elementwiseCases, reduceCases, matmulCases, attentionCases, selectCases, deltaCases, benchShapeCases };
export { buildGdn, gdnFlops, type GdnParams } from "./delta.js";

/** Every case (test and perf-only), in a stable order. */
export function allCases(): OpCase[] {
  return [...layoutCases(), ...elementwiseCases(), ...reduceCases(), ...matmulCases(), ...attentionCases(),
    ...selectCases(), ...deltaCases(), ...benchShapeCases()];
}
