#include "ops.h"
#include "mm_iface.h"
#include <vector>

namespace ggts {
namespace cpu {

struct TypeInfo { int32_t id; const char* name; int block; int size; };
static const TypeInfo TYPES[] = {
  {T_F32, "f32", 1, 4}, {T_F16, "f16", 1, 2}, {T_BF16, "bf16", 1, 2}, {T_F64, "f64", 1, 8},
  {T_I8, "i8", 1, 1}, {T_I16, "i16", 1, 2}, {T_I32, "i32", 1, 4}, {T_I64, "i64", 1, 8},
  {T_Q4_0, "q4_0", 32, 18}, {T_Q4_1, "q4_1", 32, 20}, {T_Q5_0, "q5_0", 32, 22}, {T_Q5_1, "q5_1", 32, 24},
  {T_Q8_0, "q8_0", 32, 34}, {T_Q8_1, "q8_1", 32, 36}, {T_Q2_K, "q2_K", 256, 84}, {T_Q3_K, "q3_K", 256, 110},
  {T_Q4_K, "q4_K", 256, 144}, {T_Q5_K, "q5_K", 256, 176}, {T_Q6_K, "q6_K", 256, 210}, {T_Q8_K, "q8_K", 256, 292},
  {T_IQ4_NL, "iq4_nl", 32, 18}, {T_IQ4_XS, "iq4_xs", 256, 136},
};

static const TypeInfo* find(int32_t t) {
  for (const auto& x : TYPES) if (x.id == t) return &x;
  return nullptr;
}
int block_size(int32_t t) { auto x = find(t); return x ? x->block : 0; }
int type_size(int32_t t) { auto x = find(t); return x ? x->size : 0; }
bool is_quantized(int32_t t) { return block_size(t) > 1; }
const char* type_name(int32_t t) { auto x = find(t); return x ? x->name : "?"; }

static const char* OP_NAMES[OP_COUNT] = {
  "NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE",
  "CPY", "CONT", "DUP", "CONCAT", "PAD", "SET", "REPEAT", "GET_ROWS", "SET_ROWS",
  "ADD", "SUB", "MUL", "DIV", "SCALE", "CLAMP",
  "NEG", "ABS", "SQR", "SQRT", "LOG", "EXP", "SIN", "COS", "TANH",
  "RELU", "SIGMOID", "SILU", "SOFTPLUS", "GELU", "GELU_ERF",
  "GLU",
  "SUM", "SUM_ROWS", "MEAN", "ARGMAX", "COUNT_EQUAL", "CUMSUM",
  "RMS_NORM", "NORM", "L2_NORM",
  "MUL_MAT", "MUL_MAT_ID", "OUT_PROD",
  "SOFT_MAX", "FLASH_ATTN_EXT", "ROPE",
  "ARGSORT", "TOP_K",
  "TRI", "FILL", "DIAG", "SOLVE_TRI", "SSM_CONV", "GATED_DELTA_NET",
};
const char* op_name(int op) { return op >= 0 && op < OP_COUNT ? OP_NAMES[op] : "?"; }

int op_param_count(int op) {
  switch (op) {
    case OP_PERMUTE: return 4;
    case OP_CONCAT: return 1;
    case OP_PAD: return 8;
    case OP_SET: return 5;
    case OP_SCALE: case OP_CLAMP: case OP_GLU: return 2;
    case OP_RMS_NORM: case OP_NORM: case OP_L2_NORM: return 1;
    case OP_SOFT_MAX: return 2;
    case OP_FLASH_ATTN_EXT: return 3;
    case OP_ROPE: return 9;
    case OP_ARGSORT: case OP_TOP_K: case OP_TRI: case OP_FILL: return 1;
    case OP_SOLVE_TRI: return 3;
    default: return 0;
  }
}

void read_row_f32(const TensorDesc& t, const uint8_t* rowp, float* out) {
  const int64_t n = t.ne[0];
  if (is_quantized(t.type)) { dequantize_row(t.type, rowp, out, n); return; }
  if (t.type == T_F32 && t.nb[0] == 4) { std::memcpy(out, rowp, n * 4); return; }
  if ((t.type == T_F16 || t.type == T_BF16) && t.nb[0] == 2) { dequantize_row(t.type, rowp, out, n); return; }
  for (int64_t i = 0; i < n; i++) out[i] = load_elem(t.type, rowp + i * t.nb[0]);
}

void write_row_f32(const TensorDesc& t, uint8_t* rowp, const float* in) {
  const int64_t n = t.ne[0];
  if (is_quantized(t.type)) { quantize_row(t.type, in, rowp, n); return; }
  if (t.type == T_F32 && t.nb[0] == 4) { std::memcpy(rowp, in, n * 4); return; }
  if ((t.type == T_F16 || t.type == T_BF16) && t.nb[0] == 2) { quantize_row(t.type, in, rowp, n); return; }
  for (int64_t i = 0; i < n; i++) store_elem(t.type, rowp + i * t.nb[0], in[i]);
}

}  // namespace cpu
}  // namespace ggts
