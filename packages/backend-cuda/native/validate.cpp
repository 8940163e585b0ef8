// Record validation: the executor never trusts what JS hands it. Every field is range-checked, every source
// must be an earlier record, every byte a kernel may touch must lie inside its buffer, and each op's types and
// shapes must match what the kernels in this addon implement.
#include <cmath>
#include <sstream>
#include "graph.h"

namespace ggts_cuda {

namespace {

constexpr int64_t MAX_DIM = int64_t(1) << 40;
constexpr int64_t MAX_ELEMS = int64_t(1) << 46;
constexpr int64_t MAX_BYTES = int64_t(1) << 50;

std::string shape(const TensorDesc& t) {
  std::ostringstream s;
  s << type_name(t.type) << "[" << t.ne[0] << "," << t.ne[1] << "," << t.ne[2] << "," << t.ne[3] << "]";
  return s.str();
}

struct Checker {
  int rec = 0;
  int op = 0;
  [[noreturn]] void fail(const std::string& msg) const {
    std::ostringstream s;
    s << "cuda: record " << rec << " (" << (op >= 0 ? op_name(op) : "?") << "): " << msg;
    throw GraphError(rec, s.str());
  }
  void need(bool ok, const std::string& msg) const { if (!ok) fail(msg); }
  int64_t integer(double v, const char* what, int64_t lo, int64_t hi) const {
    if (!std::isfinite(v) || std::floor(v) != v || v < (double)lo || v > (double)hi) {
      std::ostringstream s; s << what << " = " << v << " must be an integer in [" << lo << ", " << hi << "]";
      fail(s.str());
    }
    return (int64_t)v;
  }
  void type(const TensorDesc& t, const char* name, std::initializer_list<int32_t> ok) const {
    for (int32_t x : ok) if (t.type == x) return;
    std::ostringstream s; s << name << " " << shape(t) << " has an unsupported type (expected";
    for (int32_t x : ok) s << " " << type_name(x);
    s << ")";
    fail(s.str());
  }
  void shape_rule(bool ok, const TensorDesc& t, const char* name, const char* rule) const {
    if (!ok) fail(std::string(name) + " " + shape(t) + ": " + rule);
  }
};

bool same_shape(const TensorDesc& a, const TensorDesc& b) {
  return a.ne[0] == b.ne[0] && a.ne[1] == b.ne[1] && a.ne[2] == b.ne[2] && a.ne[3] == b.ne[3];
}
bool is_shape(const TensorDesc& t, int64_t a, int64_t b, int64_t c, int64_t d) {
  return t.ne[0] == a && t.ne[1] == b && t.ne[2] == c && t.ne[3] == d;
}
// Every dim of a is a positive multiple of b's.
bool tiles(const TensorDesc& a, const TensorDesc& b) {
  for (int i = 0; i < 4; i++) if (b.ne[i] <= 0 || a.ne[i] % b.ne[i] != 0) return false;
  return true;
}
bool plain(int32_t t) { return block_size(t) == 1; }

void check_op(const Checker& c, const Node& n) {
  const TensorDesc& d = n.dst;
  const TensorDesc* s = n.src;
  auto sources = [&](int lo, int hi) {
    if (n.nsrc < lo || n.nsrc > hi) {
      std::ostringstream m; m << "expected " << lo;
      if (hi != lo) m << " to " << hi;
      m << " sources, got " << n.nsrc;
      c.fail(m.str());
    }
  };
  auto f32 = [&](const TensorDesc& t, const char* name) { c.type(t, name, {T_F32}); };
  auto contiguous_dst = [&] { c.shape_rule(is_contiguous(d), d, "dst", "must be contiguous"); };
  auto finite = [&](int i, const char* name) { c.need(std::isfinite(n.p[i]), std::string("parameter ") + name + " must be finite"); };
  switch (n.op) {
    case OP_NONE: sources(0, 0); return;
    case OP_VIEW: case OP_RESHAPE: case OP_PERMUTE: case OP_TRANSPOSE:
      sources(1, 1);
      c.need(d.type == s[0].type, "a view must keep its source's type");
      return;
    case OP_CPY: case OP_CONT: case OP_DUP: {
      const bool cpy = n.op == OP_CPY;
      sources(cpy ? 2 : 1, cpy ? 2 : 1);
      c.need(nelements(d) == nelements(s[0]), "source and destination element counts differ");
      if (cpy) c.need(d.type == s[1].type && same_shape(d, s[1]), "result must describe the destination b");
      else { c.need(d.type == s[0].type, "result type must equal the source's"); contiguous_dst(); }
      if (d.type == s[0].type && !is_quantized(d.type)) return;  // element copy of any plain type
      if (d.type == s[0].type) {
        c.shape_rule(is_contiguous(d) && is_contiguous(s[0]), s[0], "src", "quantized copies need contiguous src and dst");
        return;
      }
      c.need(device_readable(s[0].type), std::string("cannot convert from ") + type_name(s[0].type));
      c.need(device_writable(d.type), std::string("cannot convert to ") + type_name(d.type));
      if (is_quantized(d.type)) contiguous_dst();
      if (is_quantized(s[0].type)) c.shape_rule(is_contiguous(s[0]), s[0], "src", "a quantized source must be contiguous");
      return;
    }
    case OP_CONCAT: {
      sources(2, 2);
      const int64_t dim = c.integer(n.p[0], "dim", 0, 3);
      c.need(s[0].type == s[1].type && d.type == s[0].type && plain(d.type), "a, b and dst must share a non-quantized type");
      for (int i = 0; i < 4; i++) {
        if (i == dim) c.shape_rule(d.ne[i] == s[0].ne[i] + s[1].ne[i], d, "dst", "must be a and b joined along dim");
        else c.shape_rule(d.ne[i] == s[0].ne[i] && s[1].ne[i] == s[0].ne[i], s[1], "b", "must match a except along dim");
      }
      contiguous_dst();
      return;
    }
    case OP_PAD:
      sources(1, 1); f32(s[0], "a"); f32(d, "dst");
      for (int i = 0; i < 4; i++) {
        const int64_t lp = c.integer(n.p[2 * i], "left padding", 0, MAX_DIM);
        const int64_t rp = c.integer(n.p[2 * i + 1], "right padding", 0, MAX_DIM);
        c.shape_rule(d.ne[i] == s[0].ne[i] + lp + rp, d, "dst", "must be a grown by the paddings");
      }
      contiguous_dst();
      return;
    case OP_SET: {
      sources(2, 2);
      c.type(s[0], "a", {T_F32, T_I32});
      c.need(s[1].type == s[0].type && d.type == s[0].type, "a, b and dst must share a type");
      c.shape_rule(same_shape(d, s[0]), d, "dst", "must have a's shape");
      c.shape_rule(is_contiguous(s[0]), s[0], "a", "must be contiguous");
      contiguous_dst();
      int64_t st[3];
      for (int i = 0; i < 3; i++) st[i] = c.integer(n.p[i], "stride", 0, MAX_BYTES);
      const int64_t off = c.integer(n.p[3], "offset", 0, int64_t(1) << 30);
      c.integer(n.p[4], "inplace", 0, 1);
      c.need(off % 4 == 0 && st[0] % 4 == 0 && st[1] % 4 == 0 && st[2] % 4 == 0, "offset and strides must be multiples of 4");
      if (nelements(s[1]) > 0) {
        __int128 last = off + 4 + (__int128)(s[1].ne[0] - 1) * 4;
        for (int i = 1; i < 4; i++) last += (__int128)(s[1].ne[i] - 1) * st[i - 1];
        c.need(last <= (__int128)nelements(d) * 4, "b with the given strides and offset does not fit in a");
      }
      return;
    }
    case OP_REPEAT:
      sources(1, 1);
      c.need(d.type == s[0].type && plain(d.type), "a and dst must share a non-quantized type");
      c.shape_rule(tiles(d, s[0]), s[0], "a", "cannot be tiled to dst");
      contiguous_dst();
      return;
    case OP_GET_ROWS:
      sources(2, 2);
      c.type(s[1], "idx", {T_I32});
      c.need(device_readable(s[0].type) || s[0].type == T_I32, std::string("a of type ") + type_name(s[0].type) + " is not supported");
      if (s[0].type == T_I32) c.type(d, "dst", {T_I32}); else f32(d, "dst");
      c.shape_rule(s[1].ne[3] == 1 && s[1].ne[1] == s[0].ne[2] && s[1].ne[2] == s[0].ne[3], s[1], "idx", "must be [m, a.ne2, a.ne3]");
      c.shape_rule(is_shape(d, s[0].ne[0], s[1].ne[0], s[1].ne[1], s[1].ne[2]), d, "dst", "must be [a.ne0, m, a.ne2, a.ne3]");
      contiguous_dst();
      return;
    case OP_SET_ROWS:
      sources(3, 3);
      f32(s[1], "src");
      c.type(s[2], "idx", {T_I32, T_I64});
      c.need(device_writable(s[0].type), std::string("cannot write rows of type ") + type_name(s[0].type));
      c.need(d.type == s[0].type && same_shape(d, s[0]), "result must describe dst");
      c.need(d.nb[0] == type_size(d.type), "dst rows must be contiguous");
      c.shape_rule(s[1].ne[0] == d.ne[0] && s[1].ne[2] == d.ne[2] && s[1].ne[3] == d.ne[3], s[1], "src", "must be [dst.ne0, m, dst.ne2, dst.ne3]");
      c.shape_rule(s[2].ne[0] == s[1].ne[1] && s[2].ne[3] == 1 && s[2].ne[1] > 0 && s[2].ne[2] > 0 &&
                   d.ne[2] % s[2].ne[1] == 0 && d.ne[3] % s[2].ne[2] == 0, s[2], "idx", "must be [m, I1 | dst.ne2, I2 | dst.ne3]");
      return;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
      sources(2, 2); f32(s[0], "a"); f32(s[1], "b"); f32(d, "dst");
      c.shape_rule(tiles(s[0], s[1]), s[1], "b", "cannot be tiled to a");
      c.shape_rule(same_shape(d, s[0]), d, "dst", "must have a's shape");
      contiguous_dst();
      return;
    case OP_SCALE: case OP_CLAMP: case OP_NEG: case OP_ABS: case OP_SQR: case OP_SQRT: case OP_LOG: case OP_EXP:
    case OP_SIN: case OP_COS: case OP_TANH: case OP_RELU: case OP_SIGMOID: case OP_SILU: case OP_SOFTPLUS:
    case OP_GELU: case OP_GELU_ERF: case OP_CUMSUM: case OP_RMS_NORM: case OP_NORM: case OP_L2_NORM: case OP_FILL:
      sources(1, 1); f32(s[0], "a"); f32(d, "dst");
      c.shape_rule(same_shape(d, s[0]), d, "dst", "must have a's shape");
      contiguous_dst();
      if (n.op == OP_SCALE) { finite(0, "s"); finite(1, "b"); }
      if (n.op == OP_CLAMP) c.need(!std::isnan(n.p[0]) && !std::isnan(n.p[1]) && n.p[0] <= n.p[1], "min must be <= max");
      if (n.op == OP_RMS_NORM || n.op == OP_NORM || n.op == OP_L2_NORM) c.need(std::isfinite(n.p[0]) && n.p[0] >= 0, "eps must be finite and >= 0");
      return;
    case OP_GLU: {
      sources(1, 2); f32(s[0], "a"); f32(d, "dst");
      const int64_t g = c.integer(n.p[0], "op", 0, 4);
      c.need(g == 0 || g == 1 || g == 2 || g == 4, "unknown GLU op");
      c.integer(n.p[1], "swapped", 0, 1);
      if (n.nsrc == 2) {
        f32(s[1], "b");
        c.shape_rule(same_shape(s[0], s[1]) && same_shape(d, s[0]), s[1], "b", "a, b and dst must have one shape");
      } else {
        c.shape_rule(s[0].ne[0] % 2 == 0 && is_shape(d, s[0].ne[0] / 2, s[0].ne[1], s[0].ne[2], s[0].ne[3]), d, "dst", "must be a with half its ne0");
        c.shape_rule(s[0].nb[0] == 4, s[0], "a", "rows must be contiguous");
      }
      contiguous_dst();
      return;
    }
    case OP_SUM:
      sources(1, 1); f32(s[0], "a"); f32(d, "dst");
      c.shape_rule(is_shape(d, 1, 1, 1, 1), d, "dst", "must be a scalar");
      return;
    case OP_SUM_ROWS: case OP_MEAN:
      sources(1, 1); f32(s[0], "a"); f32(d, "dst");
      c.shape_rule(is_shape(d, 1, s[0].ne[1], s[0].ne[2], s[0].ne[3]), d, "dst", "must be [1, a.ne1, a.ne2, a.ne3]");
      contiguous_dst();
      return;
    case OP_ARGMAX:
      sources(1, 1); f32(s[0], "a"); c.type(d, "dst", {T_I32});
      c.shape_rule(s[0].ne[2] == 1 && s[0].ne[3] == 1, s[0], "a", "must be 2-D");
      c.shape_rule(is_shape(d, s[0].ne[1], 1, 1, 1), d, "dst", "must be [a.ne1]");
      contiguous_dst();
      return;
    case OP_COUNT_EQUAL:
      sources(2, 2); c.type(s[0], "a", {T_I32}); c.type(s[1], "b", {T_I32}); c.type(d, "dst", {T_I64});
      c.shape_rule(same_shape(s[0], s[1]), s[1], "b", "must have a's shape");
      c.shape_rule(is_shape(d, 1, 1, 1, 1), d, "dst", "must be a scalar");
      return;
    case OP_MUL_MAT:
      sources(2, 2); f32(s[1], "b"); f32(d, "dst");
      c.need(device_readable(s[0].type), std::string("a of type ") + type_name(s[0].type) + " is not supported");
      c.shape_rule(s[0].ne[0] == s[1].ne[0], s[1], "b", "ne0 must equal a.ne0");
      c.shape_rule(s[0].ne[2] > 0 && s[0].ne[3] > 0 && s[1].ne[2] % s[0].ne[2] == 0 && s[1].ne[3] % s[0].ne[3] == 0,
                   s[1], "b", "batch dims must be multiples of a's");
      c.need(s[0].nb[0] == type_size(s[0].type), "a must not be transposed");
      c.shape_rule(is_shape(d, s[0].ne[1], s[1].ne[1], s[1].ne[2], s[1].ne[3]), d, "dst", "must be [a.ne1, b.ne1, b.ne2, b.ne3]");
      contiguous_dst();
      return;
    case OP_MUL_MAT_ID:
      sources(3, 3); f32(s[1], "b"); c.type(s[2], "ids", {T_I32}); f32(d, "dst");
      c.need(device_readable(s[0].type), std::string("as of type ") + type_name(s[0].type) + " is not supported");
      c.shape_rule(s[0].ne[3] == 1 && s[1].ne[3] == 1 && s[2].ne[2] == 1 && s[2].ne[3] == 1, s[2], "ids", "as and b must be 3-D, ids 2-D");
      c.shape_rule(s[0].ne[0] == s[1].ne[0], s[1], "b", "ne0 must equal as.ne0");
      c.shape_rule(s[2].ne[1] == s[1].ne[2], s[2], "ids", "ne1 must equal b.ne2");
      c.shape_rule(s[1].ne[1] > 0 && s[2].ne[0] % s[1].ne[1] == 0, s[1], "b", "ne1 must divide ids.ne0");
      c.need(s[0].nb[0] == type_size(s[0].type), "as must not be transposed");
      c.shape_rule(is_shape(d, s[0].ne[1], s[2].ne[0], s[1].ne[2], 1), d, "dst", "must be [as.ne1, ids.ne0, b.ne2]");
      contiguous_dst();
      return;
    case OP_OUT_PROD:
      sources(2, 2); f32(s[0], "a"); f32(s[1], "b"); f32(d, "dst");
      c.shape_rule(s[0].ne[1] == s[1].ne[1], s[1], "b", "ne1 must equal a.ne1");
      c.shape_rule(s[0].ne[2] > 0 && s[0].ne[3] > 0 && s[1].ne[2] % s[0].ne[2] == 0 && s[1].ne[3] % s[0].ne[3] == 0,
                   s[1], "b", "batch dims must be multiples of a's");
      c.shape_rule(is_shape(d, s[0].ne[0], s[1].ne[0], s[1].ne[2], s[1].ne[3]), d, "dst", "must be [a.ne0, b.ne0, b.ne2, b.ne3]");
      contiguous_dst();
      return;
    case OP_SOFT_MAX:
      sources(1, 2); f32(s[0], "a"); f32(d, "dst");
      c.shape_rule(same_shape(d, s[0]), d, "dst", "must have a's shape");
      finite(0, "scale");
      c.need(std::isfinite(n.p[1]) && n.p[1] >= 0, "max_bias must be finite and >= 0");
      if (n.nsrc == 2) {
        c.type(s[1], "mask", {T_F32, T_F16});
        c.shape_rule(s[1].ne[0] == s[0].ne[0] && s[1].ne[1] >= s[0].ne[1] && s[1].ne[2] > 0 && s[1].ne[3] > 0 &&
                     s[0].ne[2] % s[1].ne[2] == 0 && s[0].ne[3] % s[1].ne[3] == 0, s[1], "mask", "must be [a.ne0, >=a.ne1, M2 | a.ne2, M3 | a.ne3]");
      }
      contiguous_dst();
      return;
    case OP_FLASH_ATTN_EXT: {
      sources(3, 4);
      const TensorDesc &q = s[0], &k = s[1], &v = s[2];
      f32(q, "q"); f32(d, "dst");
      c.type(k, "k", {T_F32, T_F16, T_BF16, T_Q8_0});
      c.type(v, "v", {T_F32, T_F16, T_BF16, T_Q8_0});
      c.shape_rule(k.ne[0] == q.ne[0], k, "k", "ne0 must equal q.ne0");
      c.shape_rule(v.ne[1] == k.ne[1] && v.ne[2] == k.ne[2] && v.ne[3] == k.ne[3], v, "v", "must match k in dims 1..3");
      c.shape_rule(k.ne[2] > 0 && q.ne[2] % k.ne[2] == 0 && k.ne[3] == q.ne[3], q, "q", "heads must be a multiple of kv heads, batch equal");
      c.shape_rule(q.ne[0] <= 2048, q, "q", "head size above 2048 is not supported");
      c.shape_rule(v.ne[0] <= 1024, v, "v", "value head size above 1024 is not supported");
      finite(0, "scale"); finite(1, "max_bias"); finite(2, "logit_softcap");
      c.need(n.p[1] >= 0, "max_bias must be >= 0");
      if (n.nsrc == 4) {
        c.type(s[3], "mask", {T_F32, T_F16});
        c.shape_rule(s[3].ne[0] == k.ne[1] && s[3].ne[1] >= q.ne[1] && s[3].ne[2] > 0 && s[3].ne[3] > 0 &&
                     q.ne[2] % s[3].ne[2] == 0 && q.ne[3] % s[3].ne[3] == 0, s[3], "mask", "must be [n_kv, >=n_q, M2 | H, M3 | B]");
      }
      c.shape_rule(is_shape(d, v.ne[0], q.ne[2], q.ne[1], q.ne[3]), d, "dst", "must be [Dv, H, n_q, B]");
      contiguous_dst();
      return;
    }
    case OP_ROPE: {
      sources(2, 3); f32(s[0], "a"); c.type(s[1], "pos", {T_I32}); f32(d, "dst");
      c.shape_rule(same_shape(d, s[0]), d, "dst", "must have a's shape");
      const int64_t nd = c.integer(n.p[0], "n_dims", 2, std::max<int64_t>(2, s[0].ne[0]));
      c.need(nd % 2 == 0 && nd <= s[0].ne[0], "n_dims must be even and <= a.ne0");
      const int64_t mode = c.integer(n.p[1], "mode", 0, 2);
      c.need(mode == 0 || mode == 2, "mode must be 0 (normal) or 2 (neox)");
      c.integer(n.p[2], "n_ctx_orig", 0, MAX_DIM);
      for (int i = 3; i < 9; i++) finite(i, "rope parameter");
      c.shape_rule(nelements(s[1]) == s[0].ne[2] && s[1].ne[0] == s[0].ne[2], s[1], "pos", "must be [a.ne2]");
      if (n.nsrc == 3) { f32(s[2], "freq_factors"); c.shape_rule(s[2].ne[0] >= nd / 2, s[2], "freq_factors", "needs n_dims/2 entries"); }
      contiguous_dst();
      return;
    }
    case OP_ARGSORT:
      sources(1, 1); f32(s[0], "a"); c.type(d, "dst", {T_I32});
      c.integer(n.p[0], "order", 0, 1);
      c.shape_rule(same_shape(d, s[0]), d, "dst", "must have a's shape");
      contiguous_dst();
      return;
    case OP_TOP_K: {
      sources(1, 1); f32(s[0], "a"); c.type(d, "dst", {T_I32});
      const int64_t k = c.integer(n.p[0], "k", 1, std::max<int64_t>(1, s[0].ne[0]));
      c.shape_rule(is_shape(d, k, s[0].ne[1], s[0].ne[2], s[0].ne[3]), d, "dst", "must be [k, a.ne1, a.ne2, a.ne3]");
      contiguous_dst();
      return;
    }
    case OP_TRI:
      sources(1, 1); f32(s[0], "a"); f32(d, "dst");
      c.integer(n.p[0], "type", 0, 3);
      c.shape_rule(s[0].ne[0] == s[0].ne[1] && same_shape(d, s[0]), s[0], "a", "must be square in dims 0 and 1");
      contiguous_dst();
      return;
    case OP_DIAG:
      sources(1, 1); f32(s[0], "a"); f32(d, "dst");
      c.shape_rule(s[0].ne[1] == 1 && is_shape(d, s[0].ne[0], s[0].ne[0], s[0].ne[2], s[0].ne[3]), d, "dst", "must be [n, n, a.ne2, a.ne3] for a [n,1,..]");
      contiguous_dst();
      return;
    case OP_SOLVE_TRI:
      sources(2, 2); f32(s[0], "A"); f32(s[1], "B"); f32(d, "dst");
      c.need(n.p[0] == 1 && n.p[1] == 1 && n.p[2] == 0, "only left=1, lower=1, uni=0 is supported");
      c.shape_rule(is_contiguous(s[0]) && s[0].ne[0] == s[0].ne[1], s[0], "A", "must be contiguous and square");
      c.shape_rule(is_contiguous(s[1]) && s[1].ne[1] == s[0].ne[0] && s[1].ne[2] == s[0].ne[2] && s[1].ne[3] == s[0].ne[3],
                   s[1], "B", "must be contiguous [k, n, A.ne2, A.ne3]");
      c.shape_rule(same_shape(d, s[1]), d, "dst", "must have B's shape");
      contiguous_dst();
      return;
    case OP_SSM_CONV:
      sources(2, 2); f32(s[0], "sx"); f32(s[1], "c"); f32(d, "dst");
      c.shape_rule(s[1].ne[2] == 1 && s[1].ne[3] == 1 && s[0].ne[3] == 1, s[1], "c", "c must be 2-D and sx 3-D");
      c.shape_rule(s[0].ne[1] == s[1].ne[1] && s[0].ne[0] >= s[1].ne[0], s[0], "sx", "must be [K-1+T, C, S] for c [K, C]");
      c.shape_rule(is_shape(d, s[1].ne[1], s[0].ne[0] - s[1].ne[0] + 1, s[0].ne[2], 1), d, "dst", "must be [C, T, S]");
      contiguous_dst();
      return;
    case OP_GATED_DELTA_NET: {
      sources(6, 6);
      const char* names[6] = {"q", "k", "v", "g", "beta", "state"};
      for (int i = 0; i < 6; i++) f32(s[i], names[i]);
      f32(d, "dst");
      const int64_t S = s[0].ne[0], Hk = s[0].ne[1], T = s[0].ne[2], N = s[0].ne[3], Hv = s[2].ne[1];
      c.shape_rule(same_shape(s[1], s[0]), s[1], "k", "must equal q's shape");
      c.shape_rule(s[2].ne[0] == S && s[2].ne[2] == T && s[2].ne[3] == N, s[2], "v", "must be [S, Hv, T, N]");
      c.shape_rule(Hk > 0 && Hv % Hk == 0, s[2], "v", "value heads must be a multiple of key heads");
      c.shape_rule((s[3].ne[0] == 1 || s[3].ne[0] == S) && s[3].ne[1] == Hv && s[3].ne[2] == T && s[3].ne[3] == N, s[3], "g", "must be [1 or S, Hv, T, N]");
      c.shape_rule(is_shape(s[4], 1, Hv, T, N), s[4], "beta", "must be [1, Hv, T, N]");
      c.shape_rule(is_shape(s[5], S, S, Hv, N), s[5], "state", "must be [S, S, Hv, N]");
      c.shape_rule(S <= 256, s[0], "q", "head size above 256 is not supported");
      c.shape_rule(is_shape(d, S * Hv * T * N + S * S * Hv * N, 1, 1, 1), d, "dst", "must be 1-D [S*Hv*T*N + S*S*Hv*N]");
      contiguous_dst();
      return;
    }
    default: c.fail("unknown op");
  }
}

}  // namespace

std::vector<Node> validate_graph(const double* rec, size_t count, const std::vector<BufferView>& buffers) {
  std::vector<Node> nodes;
  std::vector<TensorDesc> descs(count);
  for (size_t i = 0; i < count; i++) {
    const double* r = rec + i * REC;
    Checker c{(int)i, -1};
    Node n;
    n.record = (int)i;
    n.op = (int)c.integer(r[F::op], "op code", 0, OP_COUNT - 1);
    c.op = n.op;
    TensorDesc& t = n.dst;
    t.type = (int32_t)c.integer(r[F::type], "type id", 0, 1000);
    const int64_t bs = block_size(t.type), ts = type_size(t.type);
    c.need(bs > 0, "unknown tensor type id " + std::to_string(t.type));
    __int128 elems = 1;
    for (int k = 0; k < 4; k++) {
      t.ne[k] = c.integer(r[F::ne + k], "ne", 0, MAX_DIM);
      t.nb[k] = c.integer(r[F::nb + k], "nb", 0, MAX_BYTES);
      elems *= t.ne[k];
    }
    c.need(elems <= MAX_ELEMS, "too many elements");
    c.need(t.ne[0] % bs == 0, "ne0 must be a multiple of the type's block size");
    if (bs > 1) c.need(t.nb[0] == ts, "quantized rows must be contiguous (nb0 = bytes per block)");
    if (buffers.empty()) c.fail("no buffers given");
    const int64_t slot = c.integer(r[F::buffer], "buffer slot", 0, (int64_t)buffers.size() - 1);
    const BufferView& buf = buffers[(size_t)slot];
    const int64_t off = c.integer(r[F::offset], "byte offset", 0, MAX_BYTES);
    // Every element address lies in [off, off + span) (ggml_nbytes), which must fit the buffer.
    __int128 span = 0;
    if (elems > 0) {
      span = bs == 1 ? ts + (__int128)(t.ne[0] - 1) * t.nb[0] : (__int128)(t.ne[0] / bs) * ts;
      for (int k = 1; k < 4; k++) span += (__int128)(t.ne[k] - 1) * t.nb[k];
    }
    if ((__int128)off + span > (__int128)buf.size) {
      std::ostringstream s;
      s << "tensor " << shape(t) << " at byte offset " << off << " spans " << (int64_t)span
        << " bytes, beyond its buffer's " << buf.size << " bytes";
      c.fail(s.str());
    }
    // Device loads use the natural width of the element (2 bytes for quantized blocks).
    const int64_t align = bs > 1 ? 2 : ts;
    c.need(off % align == 0, "byte offset is not aligned to the element size");
    for (int k = 0; k < 4; k++) if (t.ne[k] > 1) c.need(t.nb[k] % align == 0, "stride is not a multiple of the element size");
    t.data = reinterpret_cast<char*>(buf.base + (uint64_t)off);
    n.nsrc = (int)c.integer(r[F::nSrc], "source count", 0, MAX_SRC);
    for (int k = 0; k < n.nsrc; k++) {
      const int64_t j = c.integer(r[F::src + k], "source record index", 0, (int64_t)i - 1);
      n.src[k] = descs[(size_t)j];
    }
    const int np = (int)c.integer(r[F::nParams], "parameter count", 0, MAX_PARAMS);
    c.need(np == op_param_count(n.op), "parameter count " + std::to_string(np) + " != " + std::to_string(op_param_count(n.op)));
    for (int k = 0; k < np; k++) {
      n.p[k] = r[F::params + k];
      c.need(!std::isnan(n.p[k]), "parameter " + std::to_string(k) + " is NaN");
    }
    n.flags = (int)c.integer(r[F::flags], "flags", 0, 15);
    c.need(((n.flags & RF::leaf) != 0) == (n.op == OP_NONE), "leaf flag disagrees with the op");
    c.need(((n.flags & RF::noCompute) != 0) == is_view_op(n.op), "noCompute flag disagrees with the op");
    check_op(c, n);
    descs[i] = t;
    if (is_view_op(n.op) || elems == 0) continue;
    c.need(!buf.readonly, "result would be written into a read-only weight buffer");
    nodes.push_back(n);
  }
  return nodes;
}

}  // namespace ggts_cuda
