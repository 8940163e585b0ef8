// Quantized dot products for 32-element blocks: a row of Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/IQ4_NL weights · a row of
// activations already quantized to Q8A. Integer products per block, float scales per block (as ggml does);
// AVX2 paths (VNNI for Q8_0 when the CPU has it) with plain C++ fallbacks. Q8_0 meets activations in the grouped
// Q8G layout (quants.h), the others Q8A.
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

#if GGTS_MM_AVX2
// q: 32 signed weight values of one block; returns Σ q·y as 8 int32 lanes converted to float.
inline __m256 block_dot(__m256i q, const BlockQ8A& y) {
  return _mm256_cvtepi32_ps(dot_i8_i32(q, _mm256_loadu_si256((const __m256i*)y.qs)));
}
#endif

float dot_q4_0(int64_t n, const void* va, const void* vb) {
  const BlockQ4_0* a = (const BlockQ4_0*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  const int64_t nb = n / 32;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<1>(&a[i]);
    const __m256i q = _mm256_sub_epi8(nibbles_32(a[i].qs), _mm256_set1_epi8(8));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), block_dot(q, b[i]), acc);
  }
  return hsum_f32_8(acc);
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    int sum = 0;
    for (int j = 0; j < 16; j++)
      sum += ((a[i].qs[j] & 15) - 8) * b[i].qs[j] + ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
    s += h2f(a[i].d) * b[i].d * (float)sum;
  }
  return s;
#endif
}

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

float dot_q5_0(int64_t n, const void* va, const void* vb) {
  const BlockQ5_0* a = (const BlockQ5_0*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  const int64_t nb = n / 32;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<1>(&a[i]);
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, 4);
    // nibble | 0xf0 (= nibble − 16 as int8) where the high bit is clear
    const __m256i hi = _mm256_andnot_si256(bits_to_bytes_32(qh), _mm256_set1_epi8((char)0xf0));
    const __m256i q = _mm256_or_si256(nibbles_32(a[i].qs), hi);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), block_dot(q, b[i]), acc);
  }
  return hsum_f32_8(acc);
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, 4);
    int sum = 0;
    for (int j = 0; j < 16; j++) {
      const int x0 = ((a[i].qs[j] & 15) | (((qh >> j) & 1) << 4)) - 16;
      const int x1 = ((a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
      sum += x0 * b[i].qs[j] + x1 * b[i].qs[j + 16];
    }
    s += h2f(a[i].d) * b[i].d * (float)sum;
  }
  return s;
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
// Q8_0 (quants_dot_q8_0.h): the signed weights' absolute values against the activations carrying their signs.
struct Q8W { __m256i abs, sign; };
inline Q8W q8_0_prep(__m256i q) { return {_mm256_sign_epi8(q, q), q}; }
inline __m256i q8_0_prod(const Q8W& w, __m256i y, int32_t) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w.abs, _mm256_sign_epi8(y, w.sign)), _mm256_set1_epi16(1));
}
#include "quants_dot_q8_0.h"
#else
float dot_q8_0(int64_t n, const void* va, const void* vb) {
  const BlockQ8_0* a = (const BlockQ8_0*)va;
  const BlockQ8G* g = (const BlockQ8G*)vb;
  float s = 0;
  for (int64_t i = 0; i < n / 32; i++) {
    const BlockQ8G& y = g[i / 8];
    int sum = 0;
    for (int j = 0; j < 32; j++) sum += a[i].qs[j] * y.qs[i % 8][j];
    s += h2f(a[i].d) * y.d[i % 8] * (float)sum;
  }
  return s;
}
#endif

float dot_iq4_nl(int64_t n, const void* va, const void* vb) {
  const BlockIQ4NL* a = (const BlockIQ4NL*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  const int64_t nb = n / 32;
#if GGTS_MM_AVX2
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)kvalues_iq4nl));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<1>(&a[i]);
    const __m256i q = _mm256_shuffle_epi8(table, nibbles_32(a[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), block_dot(q, b[i]), acc);
  }
  return hsum_f32_8(acc);
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    int sum = 0;
    for (int j = 0; j < 16; j++)
      sum += kvalues_iq4nl[a[i].qs[j] & 15] * b[i].qs[j] + kvalues_iq4nl[a[i].qs[j] >> 4] * b[i].qs[j + 16];
    s += h2f(a[i].d) * b[i].d * (float)sum;
  }
  return s;
#endif
}

}  // namespace

VecDotFn vec_dot_fn(int32_t type) {
  switch (type) {
    case T_Q4_0: return dot_q4_0;
    case T_Q4_1: return dot_q4_1;
    case T_Q5_0: return dot_q5_0;
    case T_Q5_1: return dot_q5_1;
    case T_Q8_0: {
      const VecDotFn f = qd::vec_dot_fn_avx512(type);
      return f ? f : dot_q8_0;
    }
    case T_IQ4_NL: return dot_iq4_nl;
    default: return qd::vec_dot_fn_k(type);
  }
}

VecDotMultiFn vec_dot_multi_fn(int32_t type) {
#if GGTS_MM_AVX2
  if (type == T_Q8_0) {
    const VecDotMultiFn f = qd::vec_dot_multi_fn_avx512(type);
    return f ? f : qd::mdot_dispatch<MQ8_0>;
  }
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
