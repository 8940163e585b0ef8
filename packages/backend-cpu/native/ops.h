// Op codes (index in OP_NAMES of packages/tensor/src/ops/spec.ts; never reorder) and kernel registry.
#pragma once
#include "cpu_common.h"

namespace ggts {
namespace cpu {

enum Op : int {
  OP_NONE, OP_VIEW, OP_RESHAPE, OP_PERMUTE, OP_TRANSPOSE,
  OP_CPY, OP_CONT, OP_DUP, OP_CONCAT, OP_PAD, OP_SET, OP_REPEAT, OP_GET_ROWS, OP_SET_ROWS,
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SCALE, OP_CLAMP,
  OP_NEG, OP_ABS, OP_SQR, OP_SQRT, OP_LOG, OP_EXP, OP_SIN, OP_COS, OP_TANH,
  OP_RELU, OP_SIGMOID, OP_SILU, OP_SOFTPLUS, OP_GELU, OP_GELU_ERF,
  OP_GLU,
  OP_SUM, OP_SUM_ROWS, OP_MEAN, OP_ARGMAX, OP_COUNT_EQUAL, OP_CUMSUM,
  OP_RMS_NORM, OP_NORM, OP_L2_NORM,
  OP_MUL_MAT, OP_MUL_MAT_ID, OP_OUT_PROD,
  OP_SOFT_MAX, OP_FLASH_ATTN_EXT, OP_ROPE,
  OP_ARGSORT, OP_TOP_K,
  OP_TRI, OP_FILL, OP_DIAG, OP_SOLVE_TRI, OP_SSM_CONV, OP_GATED_DELTA_NET,
  OP_COUNT
};

inline bool is_view_op(int op) { return op <= OP_TRANSPOSE; }
int op_param_count(int op);

// Kernels by family (ops_*.cpp). Each returns its function and sets node.wsize.
KernelFn kernel_copy(Node& n, int nth);        // CPY CONT DUP CONCAT PAD SET REPEAT GET_ROWS SET_ROWS
KernelFn kernel_elementwise(Node& n, int nth); // binary, unary, SCALE, CLAMP, GLU
KernelFn kernel_reduce(Node& n, int nth);      // SUM..L2_NORM, ARGSORT, TOP_K, TRI, FILL, DIAG
KernelFn kernel_matmul(Node& n, int nth);  // MUL_MAT MUL_MAT_ID OUT_PROD
KernelFn kernel_attention(Node& n, int nth); // SOFT_MAX FLASH_ATTN_EXT ROPE
KernelFn kernel_delta(Node& n, int nth);     // SOLVE_TRI SSM_CONV GATED_DELTA_NET

// Per-thread scratch of `floats` floats inside the node's shared work buffer.
inline float* thread_scratch(const KernelCtx& ctx, size_t floats) {
  const size_t per = (floats + 15) & ~size_t(15);
  return reinterpret_cast<float*>(ctx.wdata) + per * ctx.ith;
}
inline size_t scratch_bytes(size_t floats, int nth) { return ((floats + 15) & ~size_t(15)) * 4 * nth + 64; }

}  // namespace cpu
}  // namespace ggts
