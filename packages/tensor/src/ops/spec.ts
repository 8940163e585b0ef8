// The op contract shared by every backend: op names, their serialised code (index in OP_NAMES) and the
// order of their numeric parameters. Backends map names to kernels; never reorder existing entries.

export const OP_PARAMS = {
  NONE: [],
  // Views: no computation, the result aliases src[0]'s storage.
  VIEW: [], RESHAPE: [], PERMUTE: ["ax0", "ax1", "ax2", "ax3"], TRANSPOSE: [],
  // Data movement.
  CPY: [], CONT: [], DUP: [], CONCAT: ["dim"],
  PAD: ["lp0", "rp0", "lp1", "rp1", "lp2", "rp2", "lp3", "rp3"],
  SET: ["nb1", "nb2", "nb3", "offset", "inplace"],
  REPEAT: [], GET_ROWS: [], SET_ROWS: [],
  // Elementwise.
  ADD: [], SUB: [], MUL: [], DIV: [], SCALE: ["s", "b"], CLAMP: ["min", "max"],
  NEG: [], ABS: [], SQR: [], SQRT: [], LOG: [], EXP: [], SIN: [], COS: [], TANH: [],
  RELU: [], SIGMOID: [], SILU: [], SOFTPLUS: [], GELU: [], GELU_ERF: [],
  GLU: ["op", "swapped"],
  // Reductions and norms (along ne0).
  SUM: [], SUM_ROWS: [], MEAN: [], ARGMAX: [], COUNT_EQUAL: [], CUMSUM: [],
  RMS_NORM: ["eps"], NORM: ["eps"], L2_NORM: ["eps"],
  // Products.
  MUL_MAT: [], MUL_MAT_ID: [], OUT_PROD: [],
  // Attention and position.
  SOFT_MAX: ["scale", "max_bias"],
  FLASH_ATTN_EXT: ["scale", "max_bias", "logit_softcap"],
  ROPE: ["n_dims", "mode", "n_ctx_orig", "freq_base", "freq_scale", "ext_factor", "attn_factor", "beta_fast", "beta_slow"],
  // Selection.
  ARGSORT: ["order"], TOP_K: ["k"],
  // Delta-net building blocks.
  TRI: ["type"], FILL: ["c"], DIAG: [], SOLVE_TRI: ["left", "lower", "uni"], SSM_CONV: [], GATED_DELTA_NET: [],
} as const satisfies Record<string, readonly string[]>;

export type OpName = keyof typeof OP_PARAMS;
export const OP_NAMES = Object.keys(OP_PARAMS) as OpName[];
const OP_CODES = new Map<string, number>(OP_NAMES.map((n, i) => [n, i]));
export const opCode = (name: string): number => {
  const i = OP_CODES.get(name);
  if (i === undefined) throw new Error(`unknown op "${name}"`);
  return i;
};

/** Ops whose result only re-describes src[0]'s bytes. */
export const VIEW_OPS: ReadonlySet<string> = new Set(["NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE"]);

export enum GluOp { REGLU = 0, GEGLU = 1, SWIGLU = 2, GEGLU_ERF = 4 }
export enum SortOrder { ASC = 0, DESC = 1 }
export enum TriType { UPPER_DIAG = 0, UPPER = 1, LOWER_DIAG = 2, LOWER = 3 }
export enum RopeMode { NORMAL = 0, NEOX = 2 }
