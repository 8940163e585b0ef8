// Maps each validated node to its kernel family.
#include <stdexcept>
#include "exec.h"

namespace ggts_cuda {

size_t workspace_bytes(const Node& n) { return matmul_workspace(n); }

void launch_node(const Node& n, const ExecCtx& ctx) {
  switch (n.op) {
    case OP_CPY: case OP_CONT: case OP_DUP: case OP_CONCAT: case OP_PAD: case OP_SET: case OP_REPEAT:
    case OP_GET_ROWS: case OP_SET_ROWS:
      launch_copy(n, ctx); return;
    case OP_SUM: case OP_SUM_ROWS: case OP_MEAN: case OP_ARGMAX: case OP_COUNT_EQUAL: case OP_CUMSUM:
    case OP_RMS_NORM: case OP_NORM: case OP_L2_NORM:
      launch_reduce(n, ctx); return;
    case OP_ARGSORT: case OP_TOP_K:
      launch_sort(n, ctx); return;
    case OP_MUL_MAT: case OP_MUL_MAT_ID: case OP_OUT_PROD:
      launch_matmul(n, ctx); return;
    case OP_SOFT_MAX: case OP_FLASH_ATTN_EXT: case OP_ROPE:
      launch_attention(n, ctx); return;
    case OP_SOLVE_TRI: case OP_SSM_CONV: case OP_GATED_DELTA_NET:
      launch_delta(n, ctx); return;
    default:
      if (n.op >= OP_ADD && n.op <= OP_GLU) { launch_elementwise(n, ctx); return; }
      if (n.op == OP_TRI || n.op == OP_FILL || n.op == OP_DIAG) { launch_elementwise(n, ctx); return; }
      throw std::runtime_error(std::string("cuda: no kernel for op ") + op_name(n.op));
  }
}

}  // namespace ggts_cuda
