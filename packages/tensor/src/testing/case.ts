// The op-case contract (llama.cpp test-backend-ops style): a named, parameterised tiny graph with its
// error bound and a cost estimate for perf mode.
import { GgmlType, toType, type TypeLike } from "../types.js";
import { tensor, type Tensor } from "../tensor.js";
import type { InitFn } from "./init.js";

export interface CaseBuilder {
  /** A leaf input; init gives its logical values (default U[−1,1] for floats). */
  input(type: TypeLike, shape: readonly number[], init?: InitFn): Tensor;
}

export type CompareMode = "nmse" | "topk";

export interface OpCase {
  /** The op under test (OP_PARAMS name); `-o` filters on it. */
  op: string;
  /** `k=v` pairs, e.g. `type_a=f16,type_b=f32,m=16,n=1,k=256`; `-p` matches `OP(vars)`. */
  vars: string;
  maxNmse: number;
  compare?: CompareMode;
  /** Floating-point operations of one instance; absent for memory-bound ops (perf then reports GB/s). */
  flops?: number;
  /** "perf": only in perf mode (too big for the float64 reference in test mode). */
  only?: "perf";
  /** Builds the graph; returns the outputs to compare. Called once per backend, never sharing tensors. */
  build(b: CaseBuilder): Tensor[];
}

export const caseName = (c: OpCase): string => `${c.op}(${c.vars})`;

/** `{type_a: "f16", ne: [1,2]}` → `type_a=f16,ne=[1,2]`. */
export function fmtVars(v: Record<string, unknown>): string {
  return Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${k}=${Array.isArray(x) ? `[${x.join(",")}]` : String(x)}`).join(",");
}

export function defineCase(op: string, vars: Record<string, unknown>, maxNmse: number,
                           build: (b: CaseBuilder) => Tensor | Tensor[],
                           extra: Partial<Pick<OpCase, "compare" | "flops" | "only">> = {}): OpCase {
  return { op, vars: fmtVars(vars), maxNmse, build: (b) => [build(b)].flat(), ...extra };
}

/** A plain leaf builder (no buffers, no data): for support queries and graph inspection. */
export const shapeOnlyBuilder: CaseBuilder = {
  input: (type, shape) => tensor(toType(type), shape),
};

/** The quantization-step NMSE bound of ops.md §10 for SET_ROWS / CPY into legacy quantized types. */
export function quantizedNmse(type: GgmlType, nElements: number, cpy = false): number {
  let e = 1 / 8;
  switch (type) {
    case GgmlType.Q4_0: case GgmlType.Q4_1: break;
    case GgmlType.IQ4_NL: if (cpy) e *= 2; break;
    case GgmlType.Q5_0: case GgmlType.Q5_1: e /= 2; break;
    case GgmlType.Q8_0: e /= 8; break;
    default: return 1e-7;
  }
  return (e * e) / (0.25 * nElements);
}
