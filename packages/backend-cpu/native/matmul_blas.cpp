// C = B·Aᵀ per batch through cblas_sgemm (row-major: M b rows × N weight rows, inner dimension K).
#include "matmul_blas.h"

#ifdef GGTS_BLAS
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>

#include "quants.h"
#endif

namespace ggts {
namespace mm {

#ifdef GGTS_BLAS
namespace {

constexpr int64_t BLAS_MIN_DIM = 32;          // ggml's threshold for its BLAS path
constexpr size_t PANEL_BYTES = size_t(16) << 20;  // dequantised weight rows per sgemm call

bool disabled() {
  static const bool off = [] { const char* v = std::getenv("GGTS_NO_BLAS"); return v && v[0] == '1'; }();
  return off;
}

int64_t panel_rows(int64_t N, int64_t K) {
  return std::clamp<int64_t>((int64_t)(PANEL_BYTES / (4 * (size_t)std::max<int64_t>(K, 1))), 16, std::max<int64_t>(N, 16));
}

void use_threads(int n) {
  static std::atomic<int> current{0};
  if (current.exchange(n) != n) openblas_set_num_threads(n);
}

}  // namespace

bool blas_wanted(const TensorDesc& a, const TensorDesc& b) {
  if (disabled()) return false;
  const int64_t K = a.ne[0], N = a.ne[1], M = b.ne[1];
  if (M < BLAS_MIN_DIM || N < BLAS_MIN_DIM || K < BLAS_MIN_DIM || M > INT_MAX || N > INT_MAX || K > INT_MAX) return false;
  if (b.type != T_F32 || b.nb[0] != 4 || b.nb[1] % 4 != 0 || b.nb[1] / 4 < K || b.nb[1] / 4 > INT_MAX) return false;
  if (a.type == T_F32 && (a.nb[1] % 4 != 0 || a.nb[1] / 4 > INT_MAX)) return false;
  return dequantize_row_supported(a.type);
}

bool blas_dst_ok(const TensorDesc& a, const TensorDesc& dst) {
  return dst.nb[0] == 4 && dst.nb[1] % 4 == 0 && dst.nb[1] / 4 >= a.ne[1] && dst.nb[1] / 4 <= INT_MAX;
}

size_t blas_scratch_floats(const TensorDesc& a) {
  return a.type == T_F32 ? 0 : (size_t)panel_rows(a.ne[1], a.ne[0]) * (size_t)a.ne[0];
}

void blas_mul_mat(const KernelCtx& ctx, const TensorDesc& a, const TensorDesc& b, const TensorDesc& dst, float* scratch) {
  const int64_t K = a.ne[0], N = a.ne[1], M = b.ne[1];
  const int64_t r2 = b.ne[2] / a.ne[2], r3 = b.ne[3] / a.ne[3];
  const bool direct = a.type == T_F32;
  const int64_t pr = direct ? N : panel_rows(N, K);
  for (int64_t i3 = 0; i3 < b.ne[3]; i3++)
    for (int64_t i2 = 0; i2 < b.ne[2]; i2++) {
      const uint8_t* abase = a.data + (i2 / r2) * a.nb[2] + (i3 / r3) * a.nb[3];
      const float* B = (const float*)(b.data + i2 * b.nb[2] + i3 * b.nb[3]);
      float* C = (float*)(dst.data + i2 * dst.nb[2] + i3 * dst.nb[3]);
      for (int64_t n0 = 0; n0 < N; n0 += pr) {
        const int64_t nr = std::min(pr, N - n0);
        const float* A = (const float*)(abase + n0 * a.nb[1]);
        int64_t lda = a.nb[1] / 4;
        if (!direct) {
          for (int64_t r = nr * ctx.ith / ctx.nth; r < nr * (ctx.ith + 1) / ctx.nth; r++)
            dequantize_row(a.type, abase + (n0 + r) * a.nb[1], scratch + r * K, K);
          ctx.barrier();
          A = scratch;
          lda = K;
        }
        if (ctx.ith == 0) {
          use_threads(ctx.nth);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)nr, (int)K, 1.f, B, (int)(b.nb[1] / 4), A,
                      (int)lda, 0.f, C + n0, (int)(dst.nb[1] / 4));
        }
        if (!direct) ctx.barrier();  // the panel is rewritten next
      }
    }
}
#else
bool blas_wanted(const TensorDesc&, const TensorDesc&) { return false; }
bool blas_dst_ok(const TensorDesc&, const TensorDesc&) { return false; }
size_t blas_scratch_floats(const TensorDesc&) { return 0; }
void blas_mul_mat(const KernelCtx&, const TensorDesc&, const TensorDesc&, const TensorDesc&, float*) {}
#endif

}  // namespace mm
}  // namespace ggts
