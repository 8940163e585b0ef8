// Quantized dot products for 32-element blocks: a row of Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/IQ4_NL weights · a row of
// quantized activations. Integer products per block, float scales per block (as ggml does); AVX2 paths (VNNI
// when the CPU has it) with plain C++ fallbacks. The signed types meet activations in the grouped Q8G layout
// (quants.h, kernels in quants_dot_q8g.h); Q4_1/Q5_1, whose offsets need the activation sums as ggml rounds
// them, meet Q8A.
#include <algorithm>
#include <cstring>

#include "quants.h"
#include "quants_internal.h"
#include "simd.h"

namespace ggts {
namespace mm {
namespace {
using namespace qd;

// ---------------------------------------------------------------- 32-element blocks


float dot_q4_1(int64_t n, const void* va, const void* vb) {
  const BlockQ4_1* a = (const BlockQ4_1*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  const int64_t nb = n / 32;
  float smin = 0;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<1>(&a[i]);
    const __m256i q = nibbles_32(a[i].qs);
    const __m256i p = dot_u8_i32(q, _mm256_loadu_si256((const __m256i*)b[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), _mm256_cvtepi32_ps(p), acc);
    smin += h2f(a[i].m) * b[i].s;
  }
  return hsum_f32_8(acc) + smin;
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    int sum = 0;
    for (int j = 0; j < 16; j++) sum += (a[i].qs[j] & 15) * b[i].qs[j] + (a[i].qs[j] >> 4) * b[i].qs[j + 16];
    s += h2f(a[i].d) * b[i].d * (float)sum;
    smin += h2f(a[i].m) * b[i].s;
  }
  return s + smin;
#endif
}


float dot_q5_1(int64_t n, const void* va, const void* vb) {
  const BlockQ5_1* a = (const BlockQ5_1*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  const int64_t nb = n / 32;
  float smin = 0;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<1>(&a[i]);
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, 4);
    const __m256i hi = _mm256_and_si256(bits_to_bytes_32(qh), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_or_si256(nibbles_32(a[i].qs), hi);
    const __m256i p = dot_u8_i32(q, _mm256_loadu_si256((const __m256i*)b[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), _mm256_cvtepi32_ps(p), acc);
    smin += h2f(a[i].m) * b[i].s;
  }
  return hsum_f32_8(acc) + smin;
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, 4);
    int sum = 0;
    for (int j = 0; j < 16; j++) {
      const int x0 = (a[i].qs[j] & 15) | (((qh >> j) & 1) << 4);
      const int x1 = (a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      sum += x0 * b[i].qs[j] + x1 * b[i].qs[j + 16];
    }
    s += h2f(a[i].d) * b[i].d * (float)sum;
    smin += h2f(a[i].m) * b[i].s;
  }
  return s + smin;
#endif
}

#if GGTS_MM_AVX2
// Q8G kernels (quants_dot_q8g.h): the signed weights' absolute values against the activations carrying their signs.
struct Q8W { __m256i abs, sign; };
inline Q8W q8_prep(__m256i q) { return {_mm256_sign_epi8(q, q), q}; }
inline __m256i q8_prod(const Q8W& w, __m256i y, int32_t) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w.abs, _mm256_sign_epi8(y, w.sign)), _mm256_set1_epi16(1));
}
#include "quants_dot_q8g.h"
#else
template <class Dec>
float dot_q8g(int64_t n, const void* va, const void* vb) {
  const typename Dec::Block* a = (const typename Dec::Block*)va;
  const BlockQ8G* g = (const BlockQ8G*)vb;
  float s = 0;
  for (int64_t i = 0; i < n / 32; i++) {
    const BlockQ8G& y = g[i / 8];
    int sum = 0;
    for (int j = 0; j < 32; j++) sum += Dec::at(a[i], j) * y.qs[i % 8][j];
    s += h2f(a[i].d) * y.d[i % 8] * (float)sum;
  }
  return s;
}
inline VecDotFn q8g_dot_fn(int32_t type) {
  return q8g_select<VecDotFn>(type, [](auto dec) -> VecDotFn { return dot_q8g<decltype(dec)>; });
}
#endif

}  // namespace

// Every type: the run-time-selected VNNI kernel where there is one, else the AVX2 / plain C++ one.
VecDotFn vec_dot_fn(int32_t type) {
  if (const VecDotFn v = qd::vec_dot_fn_avx512(type)) return v;
  if (const VecDotFn f = q8g_dot_fn(type)) return f;
  switch (type) {
    case T_Q4_1: return dot_q4_1;
    case T_Q5_1: return dot_q5_1;
    default: return qd::vec_dot_fn_k(type);
  }
}

VecDotMultiFn vec_dot_multi_fn(int32_t type) {
  if (const VecDotMultiFn v = qd::vec_dot_multi_fn_avx512(type)) return v;
#if GGTS_MM_AVX2
  if (const VecDotMultiFn f = q8g_multi_fn(type)) return f;
#endif
  return qd::vec_dot_multi_fn_k(type);
}

bool cpu_has_vnni() {
#if GGTS_MM_VNNI
  static const bool ok = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512bw");
  return ok;
#else
  return false;
#endif
}

}  // namespace mm
}  // namespace ggts
