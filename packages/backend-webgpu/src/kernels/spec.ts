// What a kernel builder hands the executor: WGSL parts, launch size, uniform parameters, bound sources.
import type { Tensor } from "@ggts/tensor";

export interface KernelSpec {
  /** Identifies the shader text given the slot types (the executor appends types and binding layout). */
  key: string;
  wg: number;
  helpers?: string;
  body: string;
  /** Invocations (rounded up to whole workgroups); ignored when groups is set. */
  threads?: number;
  /** Exact number of workgroups (one per row for workgroup-reduction kernels). */
  groups?: number;
  /** f32 parameters, read with pf(i). */
  params?: number[];
  /** u32 parameters, read with pu(i), i < ROW_LO. */
  ints?: number[];
  /** Indices of node.src that the shader reads (slot 1+i, accessor suffix s<i>). */
  bind: number[];
  /** The kernel checks pu(ROW_LO) <= flat row of src0 < pu(ROW_HI), so src0 may be bound in row ranges. */
  rowChunked?: boolean;
  /** The shader uses f16 arithmetic (`enable f16;`); only built when BuildContext.f16 is set. */
  f16?: boolean;
}

export const ROW_LO = 22;
export const ROW_HI = 23;

/** Device facts a builder may use to pick a kernel variant. */
export interface BuildContext {
  /** Matrix-vector products: one workgroup per output with lanes along K (GPUs), or one thread per row
   *  (software rasterizers like llvmpipe, where workgroup barriers are expensive). */
  matvec: "workgroup" | "rows";
  /** The device has shader-f16 and the backend enables it: products over f16/quantized weights and f16 K/V
   *  multiply in f16 (partial sums of at most F16_CHUNK products in f16, accumulated in f32). */
  f16: boolean;
}
export const DEFAULT_CONTEXT: BuildContext = { matvec: "workgroup", f16: false };

/** Longest run of products summed in f16 before the partial sum is added to an f32 accumulator. */
export const F16_CHUNK = 32;

export type KernelBuilder = (n: Tensor, ctx?: BuildContext) => KernelSpec | KernelSpec[] | null;


/** Guard for one-thread-per-element kernels. */
export const guard = (total: string) => `  if (gid >= ${total}) { return; }\n`;

/** Total element count of a slot's ne, as WGSL. */
export const count = (slot: string) => `(ne_${slot}().x * ne_${slot}().y * ne_${slot}().z * ne_${slot}().w)`;
