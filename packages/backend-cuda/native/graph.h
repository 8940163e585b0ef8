// The serialised graph as the CUDA executor sees it (packages/tensor/src/serialize.ts): op codes, type ids,
// validated tensor descriptions. Host-only C++ (no CUDA headers) so validation runs without a device.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ggts_cuda {

constexpr int REC = 48;
constexpr int MAX_SRC = 8;
constexpr int MAX_PARAMS = 25;
namespace F { enum { op = 0, type = 1, ne = 2, nb = 6, buffer = 10, offset = 11, flags = 12, nSrc = 13, src = 14, nParams = 22, params = 23 }; }
namespace RF { enum { noCompute = 1, output = 2, leaf = 4, inplace = 8 }; }

// X(name, parameter count) in OP_NAMES order (packages/tensor/src/ops/spec.ts); the index is the op code.
#define GGTS_OPS(X) \
  X(NONE, 0) X(VIEW, 0) X(RESHAPE, 0) X(PERMUTE, 4) X(TRANSPOSE, 0) \
  X(CPY, 0) X(CONT, 0) X(DUP, 0) X(CONCAT, 1) X(PAD, 8) X(SET, 5) X(REPEAT, 0) X(GET_ROWS, 0) X(SET_ROWS, 0) \
  X(ADD, 0) X(SUB, 0) X(MUL, 0) X(DIV, 0) X(SCALE, 2) X(CLAMP, 2) \
  X(NEG, 0) X(ABS, 0) X(SQR, 0) X(SQRT, 0) X(LOG, 0) X(EXP, 0) X(SIN, 0) X(COS, 0) X(TANH, 0) \
  X(RELU, 0) X(SIGMOID, 0) X(SILU, 0) X(SOFTPLUS, 0) X(GELU, 0) X(GELU_ERF, 0) X(GLU, 2) \
  X(SUM, 0) X(SUM_ROWS, 0) X(MEAN, 0) X(ARGMAX, 0) X(COUNT_EQUAL, 0) X(CUMSUM, 0) \
  X(RMS_NORM, 1) X(NORM, 1) X(L2_NORM, 1) \
  X(MUL_MAT, 0) X(MUL_MAT_ID, 0) X(OUT_PROD, 0) \
  X(SOFT_MAX, 2) X(FLASH_ATTN_EXT, 3) X(ROPE, 9) \
  X(ARGSORT, 1) X(TOP_K, 1) \
  X(TRI, 1) X(FILL, 1) X(DIAG, 0) X(SOLVE_TRI, 3) X(SSM_CONV, 0) X(GATED_DELTA_NET, 0)

enum Op : int {
#define GGTS_OP_ENUM(name, np) OP_##name,
  GGTS_OPS(GGTS_OP_ENUM)
#undef GGTS_OP_ENUM
  OP_COUNT
};

// GGUF type ids (packages/tensor/src/types.ts).
enum Type : int32_t {
  T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8, T_Q8_1 = 9,
  T_Q2_K = 10, T_Q3_K = 11, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_Q8_K = 15,
  T_IQ4_NL = 20, T_IQ4_XS = 23, T_I8 = 24, T_I16 = 25, T_I32 = 26, T_I64 = 27, T_F64 = 28, T_BF16 = 30,
};

const char* op_name(int op);
int op_param_count(int op);
const char* type_name(int32_t type);
int block_size(int32_t type);   // 0 for an unknown id
int type_size(int32_t type);    // bytes per block
inline bool is_quantized(int32_t t) { return block_size(t) > 1; }
// Types the device kernels can read as a row of floats (MUL_MAT a, GET_ROWS a, CPY source).
bool device_readable(int32_t t);
// Types the device kernels can write from floats (CPY/SET_ROWS destinations).
bool device_writable(int32_t t);

struct TensorDesc {
  int32_t type = 0;
  int64_t ne[4] = {0, 0, 0, 0};
  int64_t nb[4] = {0, 0, 0, 0};
  char* data = nullptr;  // device address of the first element (never dereferenced on the host)
};

struct Node {
  int op = 0;
  int record = 0;
  int nsrc = 0;
  int flags = 0;
  TensorDesc dst;
  TensorDesc src[MAX_SRC];
  double p[MAX_PARAMS] = {};
};

struct BufferView { uint64_t base; uint64_t size; bool readonly; };

struct GraphError : std::runtime_error {
  int record;
  GraphError(int rec, const std::string& msg) : std::runtime_error(msg), record(rec) {}
};

inline int64_t nelements(const TensorDesc& t) { return t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3]; }
bool is_contiguous(const TensorDesc& t);
inline bool is_view_op(int op) { return op <= OP_TRANSPOSE; }

// Checks every record (fields, sources, shapes, types, strides, byte spans within buffers) and returns the
// nodes that launch kernels, in order. Throws GraphError naming the first bad record. Touches no device.
std::vector<Node> validate_graph(const double* rec, size_t count, const std::vector<BufferView>& buffers);

}  // namespace ggts_cuda
