// Elementwise: ADD SUB MUL DIV (tile broadcast), SCALE, CLAMP, unary math, GLU. dst is contiguous and may
// alias src0 (in-place ops).
#include <algorithm>
#include <cmath>
#include "ops.h"
#include "vec_math.h"

namespace ggts {
namespace cpu {

namespace {

constexpr float GELU_C = 0.7978845608028654f;  // sqrt(2/pi)
inline float gelu1(float x) { return 0.5f * x * (1.f + std::tanh(GELU_C * (x + 0.044715f * x * x * x))); }
inline float gelu_erf1(float x) { return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f)); }

template <int OP>
inline float bin(float a, float b) {
  if constexpr (OP == OP_ADD) return a + b;
  else if constexpr (OP == OP_SUB) return a - b;
  else if constexpr (OP == OP_MUL) return a * b;
  else return a / b;
}

template <int OP>
void k_binary(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &b = n.src[1], &d = n.dst;
  const int64_t ne0 = d.ne[0];
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    const uint8_t* ap = row(a, i1, i2, i3);
    const uint8_t* bp = row(b, i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
    float* dp = (float*)row(d, i1, i2, i3);
    if (a.nb[0] == 4 && b.nb[0] == 4 && b.ne[0] == ne0) {
      const float* x = (const float*)ap; const float* y = (const float*)bp;
      for (int64_t i = 0; i < ne0; i++) dp[i] = bin<OP>(x[i], y[i]);
    } else if (a.nb[0] == 4 && b.ne[0] == 1) {
      const float* x = (const float*)ap; const float y = *(const float*)bp;
      for (int64_t i = 0; i < ne0; i++) dp[i] = bin<OP>(x[i], y);
    } else {
      const int64_t nb0 = b.ne[0];
      for (int64_t i = 0; i < ne0; i++)
        dp[i] = bin<OP>(*(const float*)(ap + i * a.nb[0]), *(const float*)(bp + (i % nb0) * b.nb[0]));
    }
  }
}

// Applies f to each row (contiguous f32 in scratch-free form when possible).
template <typename RowFn>
void for_rows(const KernelCtx& ctx, const Node& n, RowFn f) {
  const TensorDesc &a = n.src[0], &d = n.dst;
  const int64_t ne0 = d.ne[0];
  float* tmp = a.nb[0] == 4 ? nullptr : thread_scratch(ctx, ne0);
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    const float* x = (const float*)row(a, i1, i2, i3);
    if (tmp) { read_row_f32(a, (const uint8_t*)x, tmp); x = tmp; }
    f(x, (float*)row(d, i1, i2, i3), ne0);
  }
}

template <int OP>
void k_unary(const KernelCtx& ctx, const Node& n) {
  const float p0 = (float)n.p[0], p1 = (float)n.p[1];
  for_rows(ctx, n, [&](const float* x, float* y, int64_t ne0) {
    if constexpr (OP == OP_EXP) { vec_exp(ne0, x, y); return; }
    if constexpr (OP == OP_SILU) { vec_silu(ne0, x, y); return; }
    if constexpr (OP == OP_SOFTPLUS) { vec_softplus(ne0, x, y); return; }
    if constexpr (OP == OP_SIGMOID) { vec_sigmoid(ne0, x, y); return; }
    for (int64_t i = 0; i < ne0; i++) {
      const float v = x[i];
      float o;
      if constexpr (OP == OP_SCALE) o = v * p0 + p1;
      else if constexpr (OP == OP_CLAMP) o = std::min(std::max(v, p0), p1);
      else if constexpr (OP == OP_NEG) o = -v;
      else if constexpr (OP == OP_ABS) o = std::fabs(v);
      else if constexpr (OP == OP_SQR) o = v * v;
      else if constexpr (OP == OP_SQRT) o = std::sqrt(v);
      else if constexpr (OP == OP_LOG) o = std::log(v);
      else if constexpr (OP == OP_SIN) o = std::sin(v);
      else if constexpr (OP == OP_COS) o = std::cos(v);
      else if constexpr (OP == OP_TANH) o = std::tanh(v);
      else if constexpr (OP == OP_RELU) o = v > 0.f ? v : 0.f;
      else if constexpr (OP == OP_GELU) o = gelu1(v);
      else o = gelu_erf1(v);
      y[i] = o;
    }
  });
}

inline float glu_act(int op, float x) {
  switch (op) {
    case 0: return x > 0.f ? x : 0.f;
    case 1: return gelu1(x);
    case 2: return silu1(x);
    default: return gelu_erf1(x);
  }
}

void k_glu(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &d = n.dst;
  const int op = (int)n.p[0];
  const bool swapped = n.p[1] != 0, split_form = n.nsrc == 2;
  const int64_t h = d.ne[0];
  float* tmp = thread_scratch(ctx, 3 * (a.ne[0] + 8));
  float* xa = tmp; float* xb = tmp + a.ne[0] + 8; float* act = xb + a.ne[0] + 8;
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    read_row_f32(a, row(a, i1, i2, i3), xa);
    const float *x, *g;
    if (split_form) { read_row_f32(n.src[1], row(n.src[1], i1, i2, i3), xb); x = xa; g = xb; }
    else { x = swapped ? xa + h : xa; g = swapped ? xa : xa + h; }
    float* y = (float*)row(d, i1, i2, i3);
    if (op == 2) vec_silu(h, x, act);
    else for (int64_t i = 0; i < h; i++) act[i] = glu_act(op, x[i]);
    for (int64_t i = 0; i < h; i++) y[i] = act[i] * g[i];
  }
}

}  // namespace

KernelFn kernel_elementwise(Node& n, int nth) {
  n.wsize = scratch_bytes(3 * (n.src[0].ne[0] + 8), nth);
  switch (n.op) {
    case OP_ADD: return k_binary<OP_ADD>;
    case OP_SUB: return k_binary<OP_SUB>;
    case OP_MUL: return k_binary<OP_MUL>;
    case OP_DIV: return k_binary<OP_DIV>;
    case OP_SCALE: return k_unary<OP_SCALE>;
    case OP_CLAMP: return k_unary<OP_CLAMP>;
    case OP_NEG: return k_unary<OP_NEG>;
    case OP_ABS: return k_unary<OP_ABS>;
    case OP_SQR: return k_unary<OP_SQR>;
    case OP_SQRT: return k_unary<OP_SQRT>;
    case OP_LOG: return k_unary<OP_LOG>;
    case OP_EXP: return k_unary<OP_EXP>;
    case OP_SIN: return k_unary<OP_SIN>;
    case OP_COS: return k_unary<OP_COS>;
    case OP_TANH: return k_unary<OP_TANH>;
    case OP_RELU: return k_unary<OP_RELU>;
    case OP_SIGMOID: return k_unary<OP_SIGMOID>;
    case OP_SILU: return k_unary<OP_SILU>;
    case OP_SOFTPLUS: return k_unary<OP_SOFTPLUS>;
    case OP_GELU: return k_unary<OP_GELU>;
    case OP_GELU_ERF: return k_unary<OP_GELU_ERF>;
    case OP_GLU: return k_glu;
    default: return nullptr;
  }
}

}  // namespace cpu
}  // namespace ggts
