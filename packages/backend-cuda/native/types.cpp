// Op and type tables shared by validation, the executor and the addon's self-description.
#include "graph.h"

namespace ggts_cuda {

namespace {
struct OpInfo { const char* name; int nparams; };
const OpInfo OPS[] = {
#define GGTS_OP_INFO(name, np) {#name, np},
  GGTS_OPS(GGTS_OP_INFO)
#undef GGTS_OP_INFO
};

struct TypeInfo { int32_t id; const char* name; int block; int bytes; };
const TypeInfo TYPES[] = {
  {T_F32, "f32", 1, 4}, {T_F16, "f16", 1, 2}, {T_BF16, "bf16", 1, 2}, {T_F64, "f64", 1, 8},
  {T_I8, "i8", 1, 1}, {T_I16, "i16", 1, 2}, {T_I32, "i32", 1, 4}, {T_I64, "i64", 1, 8},
  {T_Q4_0, "q4_0", 32, 18}, {T_Q4_1, "q4_1", 32, 20}, {T_Q5_0, "q5_0", 32, 22}, {T_Q5_1, "q5_1", 32, 24},
  {T_Q8_0, "q8_0", 32, 34}, {T_Q8_1, "q8_1", 32, 36}, {T_Q2_K, "q2_K", 256, 84}, {T_Q3_K, "q3_K", 256, 110},
  {T_Q4_K, "q4_K", 256, 144}, {T_Q5_K, "q5_K", 256, 176}, {T_Q6_K, "q6_K", 256, 210}, {T_Q8_K, "q8_K", 256, 292},
  {T_IQ4_NL, "iq4_nl", 32, 18}, {T_IQ4_XS, "iq4_xs", 256, 136},
};
const TypeInfo* find_type(int32_t t) {
  for (const auto& x : TYPES) if (x.id == t) return &x;
  return nullptr;
}
}  // namespace

const char* op_name(int op) { return op >= 0 && op < OP_COUNT ? OPS[op].name : "?"; }
int op_param_count(int op) { return op >= 0 && op < OP_COUNT ? OPS[op].nparams : -1; }
const char* type_name(int32_t t) { const TypeInfo* x = find_type(t); return x ? x->name : "?"; }
int block_size(int32_t t) { const TypeInfo* x = find_type(t); return x ? x->block : 0; }
int type_size(int32_t t) { const TypeInfo* x = find_type(t); return x ? x->bytes : 0; }

bool device_readable(int32_t t) {
  switch (t) {
    case T_F32: case T_F16: case T_BF16: case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0:
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_IQ4_NL: case T_IQ4_XS: return true;
    default: return false;
  }
}

bool device_writable(int32_t t) {
  switch (t) {
    case T_F32: case T_F16: case T_BF16: case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0: return true;
    default: return false;
  }
}

bool is_contiguous(const TensorDesc& t) {
  int64_t expect = type_size(t.type);
  if (t.ne[0] > 1 && t.nb[0] != expect) return false;
  expect = t.ne[0] / block_size(t.type) * type_size(t.type);
  for (int i = 1; i < 4; i++) {
    if (t.ne[i] > 1 && t.nb[i] != expect) return false;
    expect *= t.ne[i];
  }
  return true;
}

}  // namespace ggts_cuda
