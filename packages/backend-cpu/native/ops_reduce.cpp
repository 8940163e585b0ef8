// Reductions and row-wise ops: SUM SUM_ROWS MEAN ARGMAX COUNT_EQUAL CUMSUM RMS_NORM NORM L2_NORM ARGSORT TOP_K,
// plus the mask builders TRI FILL DIAG.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>
#include "ops.h"

namespace ggts {
namespace cpu {

namespace {

double row_sum(const float* x, int64_t n) {
  int64_t i = 0;
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  alignas(32) double t[4];
  _mm256_store_pd(t, _mm256_add_pd(a0, a1));
  double s = t[0] + t[1] + t[2] + t[3];
  for (; i < n; i++) s += x[i];
  return s;
}

double row_sum_sq(const float* x, int64_t n, double mean = 0) {
  int64_t i = 0;
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  const __m256d m = _mm256_set1_pd(mean);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256d lo = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), m);
    const __m256d hi = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), m);
    a0 = _mm256_fmadd_pd(lo, lo, a0);
    a1 = _mm256_fmadd_pd(hi, hi, a1);
  }
  alignas(32) double t[4];
  _mm256_store_pd(t, _mm256_add_pd(a0, a1));
  double s = t[0] + t[1] + t[2] + t[3];
  for (; i < n; i++) { const double d = x[i] - mean; s += d * d; }
  return s;
}

// Per-thread partial results (one cache line each) at the end of the node's scratch.
template <typename T>
T* partials(const KernelCtx& ctx) {
  return reinterpret_cast<T*>(ctx.wdata + ((ctx.wsize - 64 * (size_t)ctx.nth - 64) & ~size_t(63)));
}

// Visits rows of src0 as contiguous f32 (copied to scratch when strided) with the matching dst row.
template <typename F>
void each_row(const KernelCtx& ctx, const Node& n, F f) {
  const TensorDesc& a = n.src[0];
  float* tmp = a.nb[0] == 4 ? nullptr : thread_scratch(ctx, a.ne[0]);
  int64_t r0, r1; split(nrows(a), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(a, r, i1, i2, i3);
    const float* x = (const float*)row(a, i1, i2, i3);
    if (tmp) { read_row_f32(a, (const uint8_t*)x, tmp); x = tmp; }
    f(x, r, i1, i2, i3);
  }
}

void k_sum(const KernelCtx& ctx, const Node& n) {
  double* part = partials<double>(ctx);
  double s = 0;
  each_row(ctx, n, [&](const float* x, int64_t, int64_t, int64_t, int64_t) { s += row_sum(x, n.src[0].ne[0]); });
  part[ctx.ith * 8] = s;
  ctx.barrier();
  if (ctx.ith == 0) {
    double t = 0;
    for (int i = 0; i < ctx.nth; i++) t += part[i * 8];
    *(float*)n.dst.data = (float)t;
  }
}

void k_count_equal(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &b = n.src[1];
  int64_t* part = partials<int64_t>(ctx);
  int64_t c = 0;
  int64_t r0, r1; split(nrows(a), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(a, r, i1, i2, i3);
    for (int64_t i0 = 0; i0 < a.ne[0]; i0++)
      c += *(const int32_t*)at(a, i0, i1, i2, i3) == *(const int32_t*)at(b, i0, i1, i2, i3);
  }
  part[ctx.ith * 8] = c;
  ctx.barrier();
  if (ctx.ith == 0) {
    int64_t t = 0;
    for (int i = 0; i < ctx.nth; i++) t += part[i * 8];
    std::memcpy(n.dst.data, &t, 8);
  }
}

void k_rowwise(const KernelCtx& ctx, const Node& n) {
  const TensorDesc& d = n.dst;
  const int64_t ne0 = n.src[0].ne[0];
  const double eps = n.p[0];
  each_row(ctx, n, [&](const float* x, int64_t, int64_t i1, int64_t i2, int64_t i3) {
    switch (n.op) {
      case OP_SUM_ROWS: *(float*)row(d, i1, i2, i3) = (float)row_sum(x, ne0); break;
      case OP_MEAN: *(float*)row(d, i1, i2, i3) = (float)(row_sum(x, ne0) / ne0); break;
      case OP_ARGMAX: {
        int64_t best = 0;
        for (int64_t i = 1; i < ne0; i++) if (x[i] >= x[best]) best = i;
        *(int32_t*)(d.data + i1 * d.nb[0]) = (int32_t)best;
        break;
      }
      case OP_CUMSUM: {
        float* y = (float*)row(d, i1, i2, i3);
        double s = 0;
        for (int64_t i = 0; i < ne0; i++) { s += x[i]; y[i] = (float)s; }
        break;
      }
      case OP_RMS_NORM: case OP_NORM: case OP_L2_NORM: {
        float* y = (float*)row(d, i1, i2, i3);
        float mu = 0, k;
        if (n.op == OP_RMS_NORM) k = (float)(1.0 / std::sqrt(row_sum_sq(x, ne0) / ne0 + eps));
        else if (n.op == OP_L2_NORM) k = (float)(1.0 / std::max(std::sqrt(row_sum_sq(x, ne0)), eps));
        else {
          const double m = row_sum(x, ne0) / ne0;
          mu = (float)m;
          k = (float)(1.0 / std::sqrt(row_sum_sq(x, ne0, m) / ne0 + eps));
        }
        for (int64_t i = 0; i < ne0; i++) y[i] = (x[i] - mu) * k;
        break;
      }
      case OP_FILL: {
        float* y = (float*)row(d, i1, i2, i3);
        const float c = (float)n.p[0];
        for (int64_t i = 0; i < ne0; i++) y[i] = c;
        break;
      }
      case OP_TRI: {
        float* y = (float*)row(d, i1, i2, i3);
        const int t = (int)n.p[0];
        for (int64_t c = 0; c < ne0; c++) {
          const bool keep = t == 3 ? c < i1 : t == 2 ? c <= i1 : t == 1 ? c > i1 : c >= i1;
          y[c] = keep ? x[c] : 0.f;
        }
        break;
      }
      default: break;
    }
  });
}

void k_sort(const KernelCtx& ctx, const Node& n) {
  const TensorDesc& d = n.dst;
  const int64_t ne0 = n.src[0].ne[0];
  const bool topk = n.op == OP_TOP_K;
  const bool desc = topk || n.p[0] == 1;
  std::vector<int32_t> idx(ne0);
  each_row(ctx, n, [&](const float* x, int64_t, int64_t i1, int64_t i2, int64_t i3) {
    std::iota(idx.begin(), idx.end(), 0);
    if (desc) std::stable_sort(idx.begin(), idx.end(), [x](int32_t a, int32_t b) { return x[a] > x[b]; });
    else std::stable_sort(idx.begin(), idx.end(), [x](int32_t a, int32_t b) { return x[a] < x[b]; });
    std::memcpy(row(d, i1, i2, i3), idx.data(), d.ne[0] * 4);
  });
}

void k_diag(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &d = n.dst;
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    float* y = (float*)row(d, i1, i2, i3);
    for (int64_t i = 0; i < d.ne[0]; i++) y[i] = 0.f;
    y[i1] = *(const float*)at(a, i1, 0, i2, i3);
  }
}

}  // namespace

KernelFn kernel_reduce(Node& n, int nth) {
  n.wsize = scratch_bytes(n.src[0].ne[0], nth) + (size_t)nth * 64 + 128;
  switch (n.op) {
    case OP_SUM: return k_sum;
    case OP_COUNT_EQUAL: return k_count_equal;
    case OP_ARGSORT: case OP_TOP_K: return k_sort;
    case OP_DIAG: return k_diag;
    default: return k_rowwise;
  }
}

}  // namespace cpu
}  // namespace ggts
