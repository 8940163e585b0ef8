#include <cmath>
#include "cpu_common.h"
#include "vec_math.h"

namespace ggts {
namespace cpu {

static inline float exp1(float x) {
  float buf[8] = {x};
  _mm256_storeu_ps(buf, exp256(_mm256_loadu_ps(buf)));
  return buf[0];
}

void vec_exp(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp256(_mm256_loadu_ps(x + i)));
  for (; i < n; i++) y[i] = exp1(x[i]);
}

float vec_max(int64_t n, const float* x) {
  float m = -INFINITY;
  int64_t i = 0;
  if (n >= 8) {
    __m256 v = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= n; i += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(x + i));
    m = hmax_f32_8(v);
  }
  for (; i < n; i++) m = std::fmax(m, x[i]);
  return m;
}

float vec_exp_sub_sum(int64_t n, const float* x, float m, float* y) {
  int64_t i = 0;
  __m256 acc = _mm256_setzero_ps();
  const __m256 vm = _mm256_set1_ps(m);
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(y + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  double s = hsum_f32_8(acc);
  for (; i < n; i++) { y[i] = exp1(x[i] - m); s += y[i]; }
  return (float)s;
}

namespace {
// x / (1 + e^−x) (silu) or 1 / (1 + e^−x) (sigmoid): one loop, only the numerator differs.
template <bool Silu>
void vec_logistic(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  const __m256 one = _mm256_set1_ps(1.f);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), v));
    _mm256_storeu_ps(y + i, _mm256_div_ps(Silu ? v : one, _mm256_add_ps(one, e)));
  }
  for (; i < n; i++) y[i] = (Silu ? x[i] : 1.f) / (1.f + exp1(-x[i]));
}
}  // namespace

void vec_silu(int64_t n, const float* x, float* y) { vec_logistic<true>(n, x, y); }
void vec_sigmoid(int64_t n, const float* x, float* y) { vec_logistic<false>(n, x, y); }

void vec_softplus(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, softplus256(_mm256_loadu_ps(x + i)));
  if (i < n) {
    float buf[8] = {};
    for (int64_t k = i; k < n; k++) buf[k - i] = x[k];
    _mm256_storeu_ps(buf, softplus256(_mm256_loadu_ps(buf)));
    for (int64_t k = i; k < n; k++) y[k] = buf[k - i];
  }
}

}  // namespace cpu
}  // namespace ggts
