// Which nodes the CUDA kernels accept: the JS-side mirror of the type rules in native/validate.cpp, so that
// graphs can be split or tests skipped before anything reaches the device.
import { GgmlType, VIEW_OPS, OP_PARAMS, typeTraits, type Tensor } from "@ggts/tensor";

/** Types the kernels can read as floats (matmul weights, GET_ROWS tables, CPY sources). */
export const READABLE_TYPES: ReadonlySet<GgmlType> = new Set([
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
  GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS,
]);

/** Types the kernels can write from floats (CPY and SET_ROWS destinations). */
export const WRITABLE_TYPES: ReadonlySet<GgmlType> = new Set([
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
]);

export function cudaSupportsOp(n: Tensor): boolean {
  if (VIEW_OPS.has(n.op)) return true;
  if (!(n.op in OP_PARAMS)) return false;
  const s = n.src;
  switch (n.op) {
    case "MUL_MAT": case "MUL_MAT_ID": return READABLE_TYPES.has(s[0].type);
    case "GET_ROWS": return READABLE_TYPES.has(s[0].type) || s[0].type === GgmlType.I32;
    case "SET_ROWS": return WRITABLE_TYPES.has(s[0].type);
    case "CPY": case "CONT": case "DUP": {
      const from = s[0].type, to = n.type;
      if (from === to) return !typeTraits(to).quantized || (s[0].isContiguous && n.isContiguous);
      if (!READABLE_TYPES.has(from) || !WRITABLE_TYPES.has(to)) return false;
      return !typeTraits(from).quantized || s[0].isContiguous;
    }
    case "FLASH_ATTN_EXT": return s[0].ne[0] <= 2048 && s[2].ne[0] <= 1024;
    case "GATED_DELTA_NET": return s[0].ne[0] <= 256;
    default: return true;
  }
}
