// Which nodes the CPU kernels accept (the native validator enforces the same rules and more).
import { GgmlType, typeTraits, type Tensor } from "@ggts/tensor";

const F32_ONLY = new Set([
  "PAD", "ADD", "SUB", "MUL", "DIV", "SCALE", "CLAMP", "NEG", "ABS", "SQR", "SQRT", "LOG", "EXP", "SIN", "COS", "TANH",
  "RELU", "SIGMOID", "SILU", "SOFTPLUS", "GELU", "GELU_ERF", "GLU", "SUM", "SUM_ROWS", "MEAN", "ARGMAX", "CUMSUM",
  "RMS_NORM", "NORM", "L2_NORM", "OUT_PROD", "SOFT_MAX", "ROPE", "ARGSORT", "TOP_K", "TRI", "FILL", "DIAG",
  "SOLVE_TRI", "SSM_CONV", "GATED_DELTA_NET",
]);
const VIEWS = new Set(["NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE"]);
/** Types CPY/SET_ROWS can write (quantize_row targets). */
export const WRITABLE_TYPES: ReadonlySet<GgmlType> = new Set([
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
  GgmlType.Q8_0, GgmlType.IQ4_NL,
]);
const isFloatish = (t: GgmlType) => t === GgmlType.F32 || t === GgmlType.F16 || t === GgmlType.BF16 || typeTraits(t).quantized;
const KV_TYPES = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0]);

export function cpuSupportsOp(n: Tensor, mulMatSupports: (type: number) => boolean): boolean {
  const s = n.src;
  if (VIEWS.has(n.op)) return true;
  if (F32_ONLY.has(n.op)) {
    // The first source's type decides; index/mask sources are checked by the builders.
    return s[0]?.type === GgmlType.F32 || n.op === "FILL";
  }
  switch (n.op) {
    case "CPY": case "CONT": case "DUP": {
      const from = s[0].type, to = n.type;
      return from === to || (isFloatish(from) && WRITABLE_TYPES.has(to));
    }
    case "CONCAT": case "REPEAT": return !typeTraits(n.type).quantized;
    case "SET": return n.type === GgmlType.F32 || n.type === GgmlType.I32;
    case "GET_ROWS": return s[0].type === GgmlType.I32 || isFloatish(s[0].type);
    case "SET_ROWS": return WRITABLE_TYPES.has(n.type);
    case "COUNT_EQUAL": return true;
    case "MUL_MAT": case "MUL_MAT_ID": return mulMatSupports(s[0].type);
    case "FLASH_ATTN_EXT": return KV_TYPES.has(s[1].type) && KV_TYPES.has(s[2].type);
    default: return false;
  }
}
