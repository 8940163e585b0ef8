#include "validate.h"
#include <algorithm>
#include <cmath>
#include <sstream>
#include "mm_iface.h"

namespace ggts {
namespace cpu {

namespace {

constexpr int64_t MAX_DIM = int64_t(1) << 40;
constexpr int64_t MAX_ELEMS = int64_t(1) << 46;
constexpr int64_t MAX_STRIDE = int64_t(1) << 48;

std::string shape_str(const TensorDesc& t) {
  std::ostringstream s;
  s << type_name(t.type) << "[" << t.ne[0] << "," << t.ne[1] << "," << t.ne[2] << "," << t.ne[3] << "]";
  return s.str();
}

struct Ctx {
  int rec;
  int op;
  [[noreturn]] void fail(const std::string& msg) const {
    std::ostringstream s;
    s << "cpu: record " << rec << " (" << op_name(op) << "): " << msg;
    throw GraphError(rec, s.str());
  }
  // const char* overloads: the hot path (every check passes) must not build std::strings.
  void check(bool cond, const char* msg) const { if (!cond) fail(msg); }
  void check(bool cond, const std::string& msg) const { if (!cond) fail(msg); }
};

[[noreturn, gnu::cold, gnu::noinline]] void bad_int(const Ctx& c, double v, const char* what, int64_t lo, int64_t hi) {
  std::ostringstream s; s << what << " = " << v << " must be an integer in [" << lo << ", " << hi << "]";
  c.fail(s.str());
}

// Called ~20 times per record: the check stays inline, the message building out of line.
inline int64_t get_int(const Ctx& c, double v, const char* what, int64_t lo, int64_t hi) {
  if (!(v >= (double)lo && v <= (double)hi && std::floor(v) == v)) bad_int(c, v, what, lo, hi);
  return (int64_t)v;
}

bool contiguous(const TensorDesc& t) {
  int64_t expect = type_size(t.type);
  if (t.ne[0] > 1 && t.nb[0] != expect) return false;
  expect = t.ne[0] / block_size(t.type) * type_size(t.type);
  for (int i = 1; i < 4; i++) {
    if (t.ne[i] > 1 && t.nb[i] != expect) return false;
    expect *= t.ne[i];
  }
  return true;
}

bool same_shape(const TensorDesc& a, const TensorDesc& b) {
  for (int i = 0; i < 4; i++) if (a.ne[i] != b.ne[i]) return false;
  return true;
}
// Each dim of a is a positive multiple of b's.
bool can_repeat(const TensorDesc& a, const TensorDesc& b) {
  for (int i = 0; i < 4; i++) if (b.ne[i] <= 0 || a.ne[i] % b.ne[i] != 0) return false;
  return true;
}
bool dims(const TensorDesc& t, int64_t a, int64_t b, int64_t c, int64_t d) {
  return t.ne[0] == a && t.ne[1] == b && t.ne[2] == c && t.ne[3] == d;
}
bool is_float_storage(int32_t t) { return t == T_F32 || t == T_F16 || t == T_BF16; }
bool quantizable(int32_t t) {
  return t == T_F32 || t == T_F16 || t == T_BF16 || t == T_Q4_0 || t == T_Q4_1 || t == T_Q5_0 || t == T_Q5_1 ||
         t == T_Q8_0 || t == T_IQ4_NL;
}
bool dequantizable(int32_t t) { return is_float_storage(t) || is_quantized(t); }
bool plain(int32_t t) { return block_size(t) == 1; }

void need_type(const Ctx& c, const TensorDesc& t, const char* name, std::initializer_list<int32_t> ok) {
  for (int32_t x : ok) if (t.type == x) return;
  std::ostringstream s; s << name << " has unsupported type " << type_name(t.type) << " (";
  bool first = true;
  for (int32_t x : ok) { s << (first ? "" : " or ") << type_name(x); first = false; }
  s << " expected)";
  c.fail(s.str());
}
void need_shape(const Ctx& c, bool cond, const TensorDesc& t, const char* name, const char* rule) {
  if (!cond) c.fail(std::string(name) + " " + shape_str(t) + ": " + rule);
}
void need_finite(const Ctx& c, const Node& n, int i, const char* name) {
  if (!std::isfinite(n.p[i])) c.fail(std::string("parameter ") + name + " must be finite");
}

// Per-op source count, types and shape rules (mirrors the builders in packages/tensor/src/ops/).
void check_op(const Ctx& c, Node& n) {
  const TensorDesc& d = n.dst;
  const TensorDesc* s = n.src;
  auto nsrc = [&](int lo, int hi) {
    if (n.nsrc < lo || n.nsrc > hi) {
      std::ostringstream m;
      m << "expected " << lo;
      if (hi != lo) m << "-" << hi;
      m << " sources, got " << n.nsrc;
      c.fail(m.str());
    }
  };
  auto f32 = [&](const TensorDesc& t, const char* name) { need_type(c, t, name, {T_F32}); };
  auto dst_contig = [&] { need_shape(c, contiguous(d), d, "dst", "must be contiguous"); };
  const int op = n.op;
  switch (op) {
    case OP_NONE: nsrc(0, 0); return;
    case OP_VIEW: case OP_RESHAPE: case OP_PERMUTE: case OP_TRANSPOSE:
      nsrc(1, 1);
      c.check(d.type == s[0].type, "a view must keep its source's type");
      return;
    case OP_CPY: case OP_CONT: case OP_DUP: {
      nsrc(op == OP_CPY ? 2 : 1, op == OP_CPY ? 2 : 1);
      c.check(nelements(d) == nelements(s[0]), "source and destination element counts differ");
      if (op == OP_CPY) c.check(d.type == s[1].type, "result type must equal the destination's");
      else { c.check(d.type == s[0].type, "result type must equal the source's"); dst_contig(); }
      if (d.type != s[0].type) {
        c.check(dequantizable(s[0].type), std::string("cannot convert from ") + type_name(s[0].type));
        c.check(quantizable(d.type), std::string("cannot convert to ") + type_name(d.type));
      }
      if (is_quantized(d.type)) dst_contig();
      if (is_quantized(s[0].type) && !same_shape(d, s[0]))
        need_shape(c, contiguous(s[0]), s[0], "src", "quantized source must be contiguous when reshaping");
      return;
    }
    case OP_CONCAT: {
      nsrc(2, 2);
      const int64_t dim = get_int(c, n.p[0], "dim", 0, 3);
      c.check(s[0].type == s[1].type && d.type == s[0].type && plain(d.type), "a, b and dst must share a non-quantized type");
      for (int i = 0; i < 4; i++) {
        if (i == dim) need_shape(c, d.ne[i] == s[0].ne[i] + s[1].ne[i], d, "dst", "must concatenate a and b");
        else need_shape(c, d.ne[i] == s[0].ne[i] && s[1].ne[i] == s[0].ne[i], s[1], "b", "must match a except along dim");
      }
      dst_contig();
      return;
    }
    case OP_PAD: {
      nsrc(1, 1); f32(s[0], "a"); f32(d, "dst");
      for (int i = 0; i < 4; i++) {
        int64_t lp = get_int(c, n.p[2 * i], "left padding", 0, MAX_DIM), rp = get_int(c, n.p[2 * i + 1], "right padding", 0, MAX_DIM);
        need_shape(c, d.ne[i] == s[0].ne[i] + lp + rp, d, "dst", "must be a padded by the parameters");
      }
      dst_contig();
      return;
    }
    case OP_SET: {
      nsrc(2, 2);
      need_type(c, s[0], "a", {T_F32, T_I32});
      c.check(s[1].type == s[0].type && d.type == s[0].type, "a, b and dst must share a type");
      need_shape(c, same_shape(d, s[0]), d, "dst", "must have a's shape");
      need_shape(c, contiguous(s[0]), s[0], "a", "must be contiguous");
      dst_contig();
      int64_t st[3];
      for (int i = 0; i < 3; i++) st[i] = get_int(c, n.p[i], "stride", 0, MAX_STRIDE);
      const int64_t off = get_int(c, n.p[3], "offset", 0, int64_t(1) << 30);
      get_int(c, n.p[4], "inplace", 0, 1);
      const int64_t esz = 4;
      c.check(off % esz == 0 && st[0] % esz == 0 && st[1] % esz == 0 && st[2] % esz == 0, "offset and strides must be multiples of 4");
      if (nelements(s[1]) > 0) {
        __int128 span = esz + (__int128)(s[1].ne[0] - 1) * esz;
        for (int i = 1; i < 4; i++) span += (__int128)(s[1].ne[i] - 1) * st[i - 1];
        c.check(off + span <= (__int128)nelements(d) * esz, "b with the given strides and offset does not fit in dst");
      }
      return;
    }
    case OP_REPEAT:
      nsrc(1, 1);
      c.check(d.type == s[0].type && plain(d.type), "a and dst must share a non-quantized type");
      need_shape(c, can_repeat(d, s[0]), s[0], "a", "cannot be tiled to dst");
      dst_contig();
      return;
    case OP_GET_ROWS:
      nsrc(2, 2);
      need_type(c, s[1], "idx", {T_I32});
      c.check(dequantizable(s[0].type) || s[0].type == T_I32, "a must be a float, quantized or i32 tensor");
      need_type(c, d, "dst", {s[0].type == T_I32 ? T_I32 : T_F32});
      need_shape(c, s[1].ne[3] == 1 && s[1].ne[1] == s[0].ne[2] && s[1].ne[2] == s[0].ne[3], s[1], "idx", "must be [m, a.ne2, a.ne3]");
      need_shape(c, dims(d, s[0].ne[0], s[1].ne[0], s[1].ne[1], s[1].ne[2]), d, "dst", "must be [a.ne0, m, a.ne2, a.ne3]");
      dst_contig();
      return;
    case OP_SET_ROWS:
      nsrc(3, 3);
      f32(s[1], "src");
      need_type(c, s[2], "idx", {T_I32, T_I64});
      c.check(quantizable(s[0].type), std::string("cannot write rows of type ") + type_name(s[0].type));
      c.check(d.type == s[0].type && same_shape(d, s[0]), "result must describe dst");
      c.check(d.nb[0] == type_size(d.type), "dst rows must be contiguous");
      need_shape(c, s[1].ne[0] == d.ne[0] && s[1].ne[2] == d.ne[2] && s[1].ne[3] == d.ne[3], s[1], "src", "must be [dst.ne0, m, dst.ne2, dst.ne3]");
      need_shape(c, s[2].ne[0] == s[1].ne[1] && s[2].ne[3] == 1 && s[2].ne[1] > 0 && s[2].ne[2] > 0 &&
                    d.ne[2] % s[2].ne[1] == 0 && d.ne[3] % s[2].ne[2] == 0, s[2], "idx", "must be [m, I1 | dst.ne2, I2 | dst.ne3]");
      return;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
      nsrc(2, 2); f32(s[0], "a"); f32(s[1], "b"); f32(d, "dst");
      need_shape(c, can_repeat(s[0], s[1]), s[1], "b", "cannot be tiled to a");
      need_shape(c, same_shape(d, s[0]), d, "dst", "must have a's shape");
      dst_contig();
      return;
    case OP_SCALE: case OP_CLAMP:
    case OP_NEG: case OP_ABS: case OP_SQR: case OP_SQRT: case OP_LOG: case OP_EXP: case OP_SIN: case OP_COS:
    case OP_TANH: case OP_RELU: case OP_SIGMOID: case OP_SILU: case OP_SOFTPLUS: case OP_GELU: case OP_GELU_ERF:
    case OP_CUMSUM: case OP_RMS_NORM: case OP_NORM: case OP_L2_NORM: case OP_FILL:
      nsrc(1, 1); f32(s[0], "a"); f32(d, "dst");
      need_shape(c, same_shape(d, s[0]), d, "dst", "must have a's shape");
      dst_contig();
      if (op == OP_SCALE) { need_finite(c, n, 0, "s"); need_finite(c, n, 1, "b"); }
      if (op == OP_CLAMP) c.check(!std::isnan(n.p[0]) && !std::isnan(n.p[1]) && n.p[0] <= n.p[1], "min must be <= max");
      if (op == OP_RMS_NORM || op == OP_NORM || op == OP_L2_NORM) c.check(std::isfinite(n.p[0]) && n.p[0] >= 0, "eps must be finite and >= 0");
      if (op == OP_FILL) c.check(!std::isnan(n.p[0]), "c must be a number");
      return;
    case OP_GLU: {
      nsrc(1, 2); f32(s[0], "a"); f32(d, "dst");
      const int64_t g = get_int(c, n.p[0], "op", 0, 4);
      c.check(g == 0 || g == 1 || g == 2 || g == 4, "unknown GLU op");
      get_int(c, n.p[1], "swapped", 0, 1);
      if (n.nsrc == 2) {
        f32(s[1], "b");
        need_shape(c, same_shape(s[0], s[1]) && same_shape(d, s[0]), s[1], "b", "a, b and dst must have the same shape");
      } else {
        need_shape(c, s[0].ne[0] % 2 == 0 && dims(d, s[0].ne[0] / 2, s[0].ne[1], s[0].ne[2], s[0].ne[3]), d, "dst", "must be a with half of ne0");
      }
      dst_contig();
      return;
    }
    case OP_SUM:
      nsrc(1, 1); f32(s[0], "a"); f32(d, "dst");
      need_shape(c, dims(d, 1, 1, 1, 1), d, "dst", "must be a scalar"); return;
    case OP_SUM_ROWS: case OP_MEAN:
      nsrc(1, 1); f32(s[0], "a"); f32(d, "dst");
      need_shape(c, dims(d, 1, s[0].ne[1], s[0].ne[2], s[0].ne[3]), d, "dst", "must be [1, a.ne1, a.ne2, a.ne3]");
      dst_contig(); return;
    case OP_ARGMAX:
      nsrc(1, 1); f32(s[0], "a"); need_type(c, d, "dst", {T_I32});
      need_shape(c, s[0].ne[2] == 1 && s[0].ne[3] == 1, s[0], "a", "must be 2-D");
      need_shape(c, dims(d, s[0].ne[1], 1, 1, 1), d, "dst", "must be [a.ne1]");
      dst_contig(); return;
    case OP_COUNT_EQUAL:
      nsrc(2, 2); need_type(c, s[0], "a", {T_I32}); need_type(c, s[1], "b", {T_I32}); need_type(c, d, "dst", {T_I64});
      need_shape(c, same_shape(s[0], s[1]), s[1], "b", "must have a's shape");
      need_shape(c, dims(d, 1, 1, 1, 1), d, "dst", "must be a scalar"); return;
    case OP_MUL_MAT:
      nsrc(2, 2); f32(s[1], "b"); f32(d, "dst");
      if (!mul_mat_supports(s[0].type)) c.fail(std::string("a of type ") + type_name(s[0].type) + " is not supported");
      need_shape(c, s[0].ne[0] == s[1].ne[0], s[1], "b", "ne0 must equal a's");
      need_shape(c, s[0].ne[2] > 0 && s[0].ne[3] > 0 && s[1].ne[2] % s[0].ne[2] == 0 && s[1].ne[3] % s[0].ne[3] == 0,
                 s[1], "b", "batch dims must be multiples of a's");
      c.check(s[0].nb[0] == type_size(s[0].type), "a must not be transposed");
      need_shape(c, dims(d, s[0].ne[1], s[1].ne[1], s[1].ne[2], s[1].ne[3]), d, "dst", "must be [a.ne1, b.ne1, b.ne2, b.ne3]");
      dst_contig(); return;
    case OP_MUL_MAT_ID:
      nsrc(3, 3); f32(s[1], "b"); need_type(c, s[2], "ids", {T_I32}); f32(d, "dst");
      if (!mul_mat_supports(s[0].type)) c.fail(std::string("as of type ") + type_name(s[0].type) + " is not supported");
      need_shape(c, s[0].ne[3] == 1 && s[1].ne[3] == 1 && s[2].ne[2] == 1 && s[2].ne[3] == 1, s[2], "ids", "as and b must be 3-D, ids 2-D");
      need_shape(c, s[0].ne[0] == s[1].ne[0], s[1], "b", "ne0 must equal as.ne0");
      need_shape(c, s[2].ne[1] == s[1].ne[2], s[2], "ids", "ne1 must equal b.ne2");
      need_shape(c, s[1].ne[1] > 0 && s[2].ne[0] % s[1].ne[1] == 0, s[1], "b", "ne1 must divide ids.ne0");
      c.check(s[0].nb[0] == type_size(s[0].type), "as must not be transposed");
      need_shape(c, dims(d, s[0].ne[1], s[2].ne[0], s[1].ne[2], 1), d, "dst", "must be [as.ne1, ids.ne0, b.ne2]");
      dst_contig(); return;
    case OP_OUT_PROD:
      nsrc(2, 2); f32(s[0], "a"); f32(s[1], "b"); f32(d, "dst");
      need_shape(c, s[0].ne[1] == s[1].ne[1], s[1], "b", "ne1 must equal a's");
      need_shape(c, s[0].ne[2] > 0 && s[0].ne[3] > 0 && s[1].ne[2] % s[0].ne[2] == 0 && s[1].ne[3] % s[0].ne[3] == 0,
                 s[1], "b", "batch dims must be multiples of a's");
      need_shape(c, dims(d, s[0].ne[0], s[1].ne[0], s[1].ne[2], s[1].ne[3]), d, "dst", "must be [a.ne0, b.ne0, b.ne2, b.ne3]");
      dst_contig(); return;
    case OP_SOFT_MAX:
      nsrc(1, 2); f32(s[0], "a"); f32(d, "dst");
      need_shape(c, same_shape(d, s[0]), d, "dst", "must have a's shape");
      need_finite(c, n, 0, "scale");
      c.check(std::isfinite(n.p[1]) && n.p[1] >= 0, "max_bias must be finite and >= 0");
      if (n.nsrc == 2) {
        need_type(c, s[1], "mask", {T_F32, T_F16});
        need_shape(c, s[1].ne[0] == s[0].ne[0] && s[1].ne[1] >= s[0].ne[1] && s[1].ne[2] > 0 && s[1].ne[3] > 0 &&
                      s[0].ne[2] % s[1].ne[2] == 0 && s[0].ne[3] % s[1].ne[3] == 0, s[1], "mask", "must be [a.ne0, >=a.ne1, M2 | a.ne2, M3 | a.ne3]");
      }
      dst_contig(); return;
    case OP_FLASH_ATTN_EXT: {
      nsrc(3, 4);
      const TensorDesc &q = s[0], &k = s[1], &v = s[2];
      f32(q, "q"); f32(d, "dst");
      need_type(c, k, "k", {T_F32, T_F16, T_BF16, T_Q8_0});
      need_type(c, v, "v", {T_F32, T_F16, T_BF16, T_Q8_0});
      need_shape(c, k.ne[0] == q.ne[0], k, "k", "ne0 must equal q.ne0");
      need_shape(c, v.ne[1] == k.ne[1] && v.ne[2] == k.ne[2] && v.ne[3] == k.ne[3], v, "v", "must match k in dims 1..3");
      need_shape(c, k.ne[2] > 0 && q.ne[2] % k.ne[2] == 0 && k.ne[3] == q.ne[3], q, "q", "heads must be a multiple of kv heads, batch equal");
      for (int i = 0; i < 3; i++) need_finite(c, n, i, i == 0 ? "scale" : i == 1 ? "max_bias" : "logit_softcap");
      c.check(n.p[1] >= 0, "max_bias must be >= 0");
      if (n.nsrc == 4) {
        need_type(c, s[3], "mask", {T_F32, T_F16});
        need_shape(c, s[3].ne[0] == k.ne[1] && s[3].ne[1] >= q.ne[1] && s[3].ne[2] > 0 && s[3].ne[3] > 0 &&
                      q.ne[2] % s[3].ne[2] == 0 && q.ne[3] % s[3].ne[3] == 0, s[3], "mask", "must be [n_kv, >=n_q, M2 | H, M3 | B]");
      }
      need_shape(c, dims(d, v.ne[0], q.ne[2], q.ne[1], q.ne[3]), d, "dst", "must be [Dv, H, n_q, B]");
      dst_contig(); return;
    }
    case OP_ROPE: {
      nsrc(2, 3); f32(s[0], "a"); need_type(c, s[1], "pos", {T_I32}); f32(d, "dst");
      need_shape(c, same_shape(d, s[0]), d, "dst", "must have a's shape");
      const int64_t nd = get_int(c, n.p[0], "n_dims", 2, s[0].ne[0]);
      c.check(nd % 2 == 0, "n_dims must be even");
      const int64_t mode = get_int(c, n.p[1], "mode", 0, 2);
      c.check(mode == 0 || mode == 2, "mode must be 0 or 2");
      get_int(c, n.p[2], "n_ctx_orig", 0, int64_t(1) << 40);
      for (int i = 3; i < 9; i++) need_finite(c, n, i, "rope parameter");
      need_shape(c, nelements(s[1]) == s[0].ne[2] && s[1].ne[0] == s[0].ne[2], s[1], "pos", "must be [a.ne2]");
      if (n.nsrc == 3) { f32(s[2], "freq_factors"); need_shape(c, s[2].ne[0] >= nd / 2, s[2], "freq_factors", "needs n_dims/2 entries"); }
      dst_contig(); return;
    }
    case OP_ARGSORT:
      nsrc(1, 1); f32(s[0], "a"); need_type(c, d, "dst", {T_I32});
      get_int(c, n.p[0], "order", 0, 1);
      need_shape(c, same_shape(d, s[0]), d, "dst", "must have a's shape");
      dst_contig(); return;
    case OP_TOP_K: {
      nsrc(1, 1); f32(s[0], "a"); need_type(c, d, "dst", {T_I32});
      const int64_t k = get_int(c, n.p[0], "k", 1, std::max<int64_t>(1, s[0].ne[0]));
      need_shape(c, dims(d, k, s[0].ne[1], s[0].ne[2], s[0].ne[3]), d, "dst", "must be [k, a.ne1, a.ne2, a.ne3]");
      dst_contig(); return;
    }
    case OP_TRI:
      nsrc(1, 1); f32(s[0], "a"); f32(d, "dst");
      get_int(c, n.p[0], "type", 0, 3);
      need_shape(c, s[0].ne[0] == s[0].ne[1] && same_shape(d, s[0]), s[0], "a", "must be square in dims 0, 1");
      dst_contig(); return;
    case OP_DIAG:
      nsrc(1, 1); f32(s[0], "a"); f32(d, "dst");
      need_shape(c, s[0].ne[1] == 1 && dims(d, s[0].ne[0], s[0].ne[0], s[0].ne[2], s[0].ne[3]), d, "dst", "must be [n, n, a.ne2, a.ne3] for a [n,1,..]");
      dst_contig(); return;
    case OP_SOLVE_TRI:
      nsrc(2, 2); f32(s[0], "A"); f32(s[1], "B"); f32(d, "dst");
      c.check(n.p[0] == 1 && n.p[1] == 1 && n.p[2] == 0, "only left=1, lower=1, uni=0 is supported");
      need_shape(c, contiguous(s[0]) && s[0].ne[0] == s[0].ne[1], s[0], "A", "must be contiguous and square");
      need_shape(c, contiguous(s[1]) && s[1].ne[1] == s[0].ne[0] && s[1].ne[2] == s[0].ne[2] && s[1].ne[3] == s[0].ne[3],
                 s[1], "B", "must be contiguous [k, n, A.ne2, A.ne3]");
      need_shape(c, same_shape(d, s[1]), d, "dst", "must have B's shape");
      dst_contig(); return;
    case OP_SSM_CONV:
      nsrc(2, 2); f32(s[0], "sx"); f32(s[1], "c"); f32(d, "dst");
      need_shape(c, s[1].ne[2] == 1 && s[1].ne[3] == 1 && s[0].ne[3] == 1, s[1], "c", "c must be 2-D and sx 3-D");
      need_shape(c, s[0].ne[1] == s[1].ne[1] && s[0].ne[0] >= s[1].ne[0], s[0], "sx", "must be [K-1+T, C, S] for c [K, C]");
      need_shape(c, dims(d, s[1].ne[1], s[0].ne[0] - s[1].ne[0] + 1, s[0].ne[2], 1), d, "dst", "must be [C, T, S]");
      dst_contig(); return;
    case OP_GATED_DELTA_NET: {
      nsrc(6, 6);
      const char* names[6] = {"q", "k", "v", "g", "beta", "state"};
      for (int i = 0; i < 6; i++) f32(s[i], names[i]);
      f32(d, "dst");
      const int64_t S = s[0].ne[0], Hk = s[0].ne[1], T = s[0].ne[2], N = s[0].ne[3], Hv = s[2].ne[1];
      need_shape(c, same_shape(s[1], s[0]), s[1], "k", "must equal q's shape");
      need_shape(c, s[2].ne[0] == S && s[2].ne[2] == T && s[2].ne[3] == N, s[2], "v", "must be [S, Hv, T, N]");
      need_shape(c, Hk > 0 && Hv % Hk == 0, s[2], "v", "value heads must be a multiple of key heads");
      need_shape(c, (s[3].ne[0] == 1 || s[3].ne[0] == S) && s[3].ne[1] == Hv && s[3].ne[2] == T && s[3].ne[3] == N, s[3], "g", "must be [1 or S, Hv, T, N]");
      need_shape(c, dims(s[4], 1, Hv, T, N), s[4], "beta", "must be [1, Hv, T, N]");
      need_shape(c, dims(s[5], S, S, Hv, N), s[5], "state", "must be [S, S, Hv, N]");
      need_shape(c, dims(d, S * Hv * T * N + S * S * Hv * N, 1, 1, 1), d, "dst", "must be 1-D [S*Hv*T*N + S*S*Hv*N]");
      dst_contig(); return;
    }
    default: c.fail("unknown op");
  }
}

}  // namespace

double node_cost_ns(const Node& n) {
  const double out = (double)nelements(n.dst);
  const TensorDesc* s = n.src;
  switch (n.op) {
    // ~8 flops/ns for a single AVX2 core on small dot products
    case OP_MUL_MAT: case OP_MUL_MAT_ID: return out * (double)s[0].ne[0] * 0.25;
    case OP_OUT_PROD: return out * (double)s[0].ne[1] * 0.25;
    case OP_FLASH_ATTN_EXT:
      return (double)nelements(s[0]) / std::max<int64_t>(1, s[0].ne[0]) * (double)s[1].ne[1] * (double)(s[0].ne[0] + s[2].ne[0]) * 0.5;
    case OP_GATED_DELTA_NET: return (double)nelements(s[5]) * (double)s[0].ne[2] * 2.0;
    case OP_SOLVE_TRI: return out * (double)s[0].ne[0] * 0.5;
    case OP_SSM_CONV: return out * (double)s[1].ne[0] * 0.5;
    case OP_ARGSORT: case OP_TOP_K: return (double)nelements(s[0]) * (4.0 + std::log2((double)s[0].ne[0] + 1));
    case OP_SUM: case OP_SUM_ROWS: case OP_MEAN: case OP_ARGMAX: case OP_COUNT_EQUAL: case OP_CUMSUM:
    case OP_RMS_NORM: case OP_NORM: case OP_L2_NORM: case OP_SOFT_MAX: case OP_ROPE: case OP_GLU:
      return std::max(out, (double)nelements(s[0])) * 2.0;
    default: return std::max(out, n.nsrc > 0 ? (double)nelements(s[0]) : 0.0);
  }
}

CompiledGraph compile_graph(const double* rec, size_t count, const std::vector<BufferView>& buffers, int nth,
                            double split_min_ns, RunError* err) {
  CompiledGraph g;
  g.nodes.reserve(count);
  std::vector<TensorDesc> descs(count);
  for (size_t i = 0; i < count; i++) {
    const double* r = rec + i * REC;
    Ctx c{(int)i, 0};
    const int op = (int)get_int(c, r[F::op], "op code", 0, OP_COUNT - 1);
    c.op = op;
    // Built in place (a Node is ~1 KB); popped again below when it runs no kernel.
    Node& n = g.nodes.emplace_back();
    n.op = op; n.record = (int)i; n.err = err;
    TensorDesc& t = n.dst;
    t.type = (int32_t)get_int(c, r[F::type], "type", 0, 1000);
    if (type_size(t.type) == 0) c.fail("unknown tensor type id " + std::to_string(t.type));
    const int64_t bs = block_size(t.type), ts = type_size(t.type);
    __int128 elems = 1;
    for (int d = 0; d < 4; d++) {
      t.ne[d] = get_int(c, r[F::ne + d], "ne", 0, MAX_DIM);
      t.nb[d] = get_int(c, r[F::nb + d], "nb", 0, MAX_STRIDE);
      elems *= t.ne[d];
    }
    c.check(elems <= MAX_ELEMS, "too many elements");
    c.check(t.ne[0] % bs == 0, "ne0 must be a multiple of the block size");
    if (bs > 1) c.check(t.nb[0] == ts, "quantized rows must be contiguous (nb0 = block bytes)");
    const int64_t slot = get_int(c, r[F::buffer], "buffer slot", 0, (int64_t)buffers.size() - 1);
    const BufferView& buf = buffers[slot];
    const int64_t off = get_int(c, r[F::offset], "offset", 0, MAX_STRIDE);
    // Byte span (ggml_nbytes); every element address lies inside [off, off + span).
    __int128 span = 0;
    if (elems > 0) {
      span = bs == 1 ? ts + (__int128)(t.ne[0] - 1) * t.nb[0] : (__int128)(t.ne[0] / bs) * ts;
      for (int d = 1; d < 4; d++) span += (__int128)(t.ne[d] - 1) * t.nb[d];
    }
    if ((__int128)off + span > (__int128)buf.size) {
      std::ostringstream s; s << "tensor " << shape_str(t) << " at offset " << off << " spans " << (int64_t)span
                              << " bytes, beyond its buffer's " << buf.size << " bytes";
      c.fail(s.str());
    }
    t.data = buf.data + off;
    // Kernels use natural-width loads; misaligned tensors would be undefined behaviour.
    const int64_t align = bs > 1 ? 2 : ts;
    c.check(((uintptr_t)t.data % align) == 0, "data is not aligned to its element size");
    for (int d = 0; d < 4; d++) if (t.ne[d] > 1) c.check(t.nb[d] % align == 0, "stride is not a multiple of the element alignment");
    n.nsrc = (int)get_int(c, r[F::nSrc], "source count", 0, MAX_SRC);
    for (int sidx = 0; sidx < n.nsrc; sidx++) {
      const int64_t j = get_int(c, r[F::src + sidx], "source index", 0, (int64_t)i - 1);
      n.src[sidx] = descs[j];
    }
    const int np = (int)get_int(c, r[F::nParams], "parameter count", 0, MAX_PARAMS);
    if (np != op_param_count(op)) c.fail("wrong parameter count " + std::to_string(np));
    for (int p = 0; p < np; p++) {
      n.p[p] = r[F::params + p];
      if (std::isnan(n.p[p])) c.fail("parameter " + std::to_string(p) + " is NaN");
    }
    const int flags = (int)get_int(c, r[F::flags], "flags", 0, 15);
    c.check(((flags & RF::leaf) != 0) == (op == OP_NONE), "leaf flag disagrees with the op");
    check_op(c, n);
    descs[i] = t;
    if (is_view_op(op) || elems == 0) { g.nodes.pop_back(); continue; }
    c.check(!buf.readonly, "result would be written into a read-only (file-mapped) buffer");
    n.nth = nth > 1 && node_cost_ns(n) >= split_min_ns ? nth : 1;
    const int nt = n.nth;
    switch (op) {
      case OP_CPY: case OP_CONT: case OP_DUP: case OP_CONCAT: case OP_PAD: case OP_SET: case OP_REPEAT:
      case OP_GET_ROWS: case OP_SET_ROWS: n.fn = kernel_copy(n, nt); break;
      case OP_MUL_MAT: case OP_MUL_MAT_ID: case OP_OUT_PROD: n.fn = kernel_matmul(n, nt); break;
      case OP_SOFT_MAX: case OP_FLASH_ATTN_EXT: case OP_ROPE: n.fn = kernel_attention(n, nt); break;
      case OP_SOLVE_TRI: case OP_SSM_CONV: case OP_GATED_DELTA_NET: n.fn = kernel_delta(n, nt); break;
      case OP_SUM: case OP_SUM_ROWS: case OP_MEAN: case OP_ARGMAX: case OP_COUNT_EQUAL: case OP_CUMSUM:
      case OP_RMS_NORM: case OP_NORM: case OP_L2_NORM: case OP_ARGSORT: case OP_TOP_K: case OP_TRI: case OP_FILL:
      case OP_DIAG: n.fn = kernel_reduce(n, nt); break;
      default: n.fn = kernel_elementwise(n, nt); break;
    }
    c.check(n.fn != nullptr, "no kernel");
    g.wsize = std::max(g.wsize, n.wsize);
    g.parallel = g.parallel || n.nth > 1;
  }
  return g;
}

}  // namespace cpu
}  // namespace ggts
