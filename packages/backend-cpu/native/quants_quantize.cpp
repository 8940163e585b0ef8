// ggml's reference quantizers (quantize_row_*_ref rounding, for CPY/SET_ROWS into quantized caches) and the
// activation quantizers of the dot-product paths (Q8A, Q8_K scratch rows).
// ggml computes these without fused multiply-add; contraction would change the last bit of the scales.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quants.h"
#include "simd.h"

namespace ggts {
namespace mm {
namespace {

// ---------------------------------------------------------------- reference quantizers

void q_f16(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
#if GGTS_MM_AVX2
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i*)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; i++) y[i] = float_to_half(x[i]);
}

void q_bf16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = float_to_bf16(x[i]);
}

// Largest |x| and the signed value holding it (first one wins on ties, like ggml).
inline void absmax(const float* x, int n, float* amax, float* max) {
  float a = 0, m = 0;
  for (int j = 0; j < n; j++) {
    const float v = std::fabs(x[j]);
    if (a < v) { a = v; m = x[j]; }
  }
  *amax = a;
  *max = m;
}

inline void minmax(const float* x, int n, float* mn, float* mx) {
  float lo = FLT_MAX, hi = -FLT_MAX;
  for (int j = 0; j < n; j++) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *mn = lo;
  *mx = hi;
}

void q_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float amax, max;
    absmax(x, 32, &amax, &max);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    for (int j = 0; j < 16; j++) {
      const int xi0 = std::min(15, (int)(int8_t)(x[j] * id + 8.5f));
      const int xi1 = std::min(15, (int)(int8_t)(x[16 + j] * id + 8.5f));
      y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
    }
  }
}

void q_q4_1(const float* x, BlockQ4_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float mn, mx;
    minmax(x, 32, &mn, &mx);
    const float d = (mx - mn) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    y[i].m = float_to_half(mn);
    for (int j = 0; j < 16; j++) {
      const int xi0 = std::min(15, (int)(int8_t)((x[j] - mn) * id + 0.5f));
      const int xi1 = std::min(15, (int)(int8_t)((x[16 + j] - mn) * id + 0.5f));
      y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
    }
  }
}

void q_q5_0(const float* x, BlockQ5_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float amax, max;
    absmax(x, 32, &amax, &max);
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
      const uint32_t xi0 = (uint32_t)std::min(31, (int)(int8_t)(x[j] * id + 16.5f));
      const uint32_t xi1 = (uint32_t)std::min(31, (int)(int8_t)(x[16 + j] * id + 16.5f));
      y[i].qs[j] = (uint8_t)((xi0 & 15) | ((xi1 & 15) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << j;
      qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void q_q5_1(const float* x, BlockQ5_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float mn, mx;
    minmax(x, 32, &mn, &mx);
    const float d = (mx - mn) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    y[i].m = float_to_half(mn);
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
      const uint32_t xi0 = (uint8_t)((x[j] - mn) * id + 0.5f);
      const uint32_t xi1 = (uint8_t)((x[16 + j] - mn) * id + 0.5f);
      y[i].qs[j] = (uint8_t)((xi0 & 15) | ((xi1 & 15) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << j;
      qh |= ((xi1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void q_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)std::roundf(x[j] * id);
  }
}

inline int best_index_int8(int n, const int8_t* val, float x) {
  if (x <= val[0]) return 0;
  if (x >= val[n - 1]) return n - 1;
  int ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    const int mav = (ml + mu) / 2;
    if (x < val[mav]) mu = mav; else ml = mav;
  }
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

// ggml's quantize_row_iq4_nl_impl for one 32-block without importance weights (weights = x², 7 scale tries).
void q_iq4_nl_block(const float* x, BlockIQ4NL* y) {
  constexpr int ntry = 7;
  const int8_t* values = kvalues_iq4nl;
  float weight[32];
  uint8_t L[32];
  std::memset(y->qs, 0, 16);
  y->d = float_to_half(0.f);
  for (int j = 0; j < 32; j++) weight[j] = x[j] * x[j];
  float amax = 0, max = 0;
  for (int j = 0; j < 32; j++) {
    const float ax = std::fabs(x[j]);
    if (ax > amax) { amax = ax; max = x[j]; }
  }
  float scale = 0;
  if (amax >= 1e-15f) {
    float d = -max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < 32; j++) {
      const int l = best_index_int8(16, values, id * x[j]);
      L[j] = (uint8_t)l;
      const float q = values[l], w = weight[j];
      sumqx += w * q * x[j];
      sumq2 += w * q * q;
    }
    d = sumqx / sumq2;
    float best = d * sumqx;
    for (int itry = -ntry; itry <= ntry; itry++) {
      id = (itry + values[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < 32; j++) {
        const int l = best_index_int8(16, values, id * x[j]);
        const float q = values[l], w = weight[j];
        sumqx += w * q * x[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scale = d;
  }
  y->d = float_to_half(scale);
  const float id = scale != 0.0f ? 1 / scale : 0;
  for (int j = 0; j < 32; j++) L[j] = (uint8_t)best_index_int8(16, values, id * x[j]);
  for (int j = 0; j < 16; j++) y->qs[j] = (uint8_t)(L[j] | (L[16 + j] << 4));
}

}  // namespace

// ---------------------------------------------------------------- activation quantizers (scratch formats)

namespace {

// One block of 32 activations to int8 with a shared scale (the absmax / 127, not yet rounded); returns the scale
// and stores the quants' sum.
inline float quantize_block_q8(const float* x, int8_t* qs, int* qsum) {
#if GGTS_MM_AVX2
  __m256 v[4];
  __m256 am = _mm256_setzero_ps();
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int k = 0; k < 4; k++) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    am = _mm256_max_ps(am, _mm256_andnot_ps(sign, v[k]));
  }
  const float amax = hmax_f32_8(am);
  const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.f / amax : 0.0f);
  __m256i q[4];
  for (int k = 0; k < 4; k++)
    q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], id), _MM_ROUND_NEAREST | _MM_FROUND_NO_EXC));
  *qsum = hsum_i32_8(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
  // pack 32-bit → 8-bit; packs interleave 128-bit lanes, the permute restores element order
  const __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
  const __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
  __m256i p = _mm256_packs_epi16(p01, p23);
  p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256((__m256i*)qs, p);
  return amax / 127.f;
#else
  float amax = 0;
  for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[j]));
  const float id = amax != 0.0f ? 127.f / amax : 0.0f;
  int sum = 0;
  for (int j = 0; j < 32; j++) {
    const int q = (int)std::nearbyint(x[j] * id);
    qs[j] = (int8_t)q;
    sum += q;
  }
  *qsum = sum;
  return amax / 127.f;
#endif
}

// ggml stores the activation scales as f16 (block_q8_0/q8_1); rounding them the same way keeps our
// quantized-weight products within float-summation noise of llama.cpp's.
inline float f16_round(float f) { return half_to_float(float_to_half(f)); }

}  // namespace

void quantize_row_q8a(const float* x, BlockQ8A* y, int64_t n) {
  for (int64_t i = 0; i < n / 32; i++, x += 32) {
    int sum;
    const float d = quantize_block_q8(x, y[i].qs, &sum);
    y[i].d = f16_round(d);
    y[i].s = f16_round(d * (float)sum);
  }
}

void quantize_row_q8g(const float* x, BlockQ8G* y, int64_t n) {
  const int64_t nb = n / 32;
  for (int64_t i = 0; i < nb; i++, x += 32) {
    BlockQ8G& g = y[i / 8];
    const int k = (int)(i % 8);
    int sum;
    g.d[k] = f16_round(quantize_block_q8(x, g.qs[k], &sum));
    g.corr[k] = -16 * sum;
  }
  if (nb % 8) {
    BlockQ8G& g = y[nb / 8];
    for (int k = (int)(nb % 8); k < 8; k++) {
      g.d[k] = 0;
      g.corr[k] = 0;
      std::memset(g.qs[k], 0, 32);
    }
  }
}

void quantize_row_q8k(const float* x, BlockQ8_K* y, int64_t n) {
  const int64_t nb = n / QKK;
  for (int64_t i = 0; i < nb; i++, x += QKK) {
#if GGTS_MM_AVX2
    // A scalar max chain costs ~4 cycles per value (one row of 2304 took ~5 µs, more than a 1024-row q4_K
    // product's share per thread from cache); four vector chains. The new value is max_ps's first operand so
    // that a NaN is skipped like std::max skips it.
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 am[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int j = 0; j < QKK; j += 32)
      for (int k = 0; k < 4; k++) am[k] = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j + 8 * k)), am[k]);
    const float amax = hmax_f32_8(_mm256_max_ps(_mm256_max_ps(am[0], am[1]), _mm256_max_ps(am[2], am[3])));
#else
    float amax = 0;
    for (int j = 0; j < QKK; j++) amax = std::max(amax, std::fabs(x[j]));
#endif
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = 127.f / amax;
#if GGTS_MM_AVX2
    const __m256 vs = _mm256_set1_ps(iscale);
    __m256i half = _mm256_setzero_si256();  // per-lane partial sums of the previous 32 values
    __m128i sums[4];  // bsums of 64 values each step, as int32 (|q| ≤ 127, so no saturation to account for)
    for (int j = 0; j < QKK; j += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; k++)
        q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), vs),
                                                  _MM_ROUND_NEAREST | _MM_FROUND_NO_EXC));
      __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256((__m256i*)(y[i].qs + j), p);
      // two hadds and a lane add reduce four 16-value groups (two steps) to [g0, g1, g2, g3]
      const __m256i t = _mm256_hadd_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
      if ((j & 32) == 0) {
        half = t;
      } else {
        const __m256i u = _mm256_hadd_epi32(half, t);
        sums[j / 64] = _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
      }
    }
    _mm_storeu_si128((__m128i*)y[i].bsums, _mm_packs_epi32(sums[0], sums[1]));
    _mm_storeu_si128((__m128i*)(y[i].bsums + 8), _mm_packs_epi32(sums[2], sums[3]));
#else
    for (int j = 0; j < QKK; j++) y[i].qs[j] = (int8_t)std::min(127, nearest_int(iscale * x[j]));
    for (int j = 0; j < 16; j++) {
      int sum = 0;
      for (int l = 0; l < 16; l++) sum += y[i].qs[16 * j + l];
      y[i].bsums[j] = (int16_t)sum;
    }
#endif
    y[i].d = 1 / iscale;
  }
}

int32_t vec_dot_type(int32_t type) {
  switch (type) {
    case T_Q4_1: case T_Q5_1: return VT_Q8A;
    case T_Q4_0: case T_Q5_0: case T_Q8_0: case T_IQ4_NL: return VT_Q8G;
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_IQ4_XS: return T_Q8_K;
    default: return T_F32;
  }
}

void convert_row_vdt(int32_t vt, const float* x, void* y, int64_t n) {
  if (vt == VT_Q8A) quantize_row_q8a(x, (BlockQ8A*)y, n);
  else if (vt == VT_Q8G) quantize_row_q8g(x, (BlockQ8G*)y, n);
  else if (vt == T_Q8_K) quantize_row_q8k(x, (BlockQ8_K*)y, n);
  else std::memcpy(y, x, (size_t)n * 4);
}

}  // namespace mm

bool quantize_row_supported(int32_t type) {
  switch (type) {
    case T_F32: case T_F16: case T_BF16: case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0:
    case T_IQ4_NL: return true;
    default: return false;
  }
}

void quantize_row(int32_t type, const float* src, void* dst, int64_t n) {
  using namespace mm;
  const int64_t nb = n / 32;
  switch (type) {
    case T_F32: std::memmove(dst, src, (size_t)n * 4); break;
    case T_F16: q_f16(src, (uint16_t*)dst, n); break;
    case T_BF16: q_bf16(src, (uint16_t*)dst, n); break;
    case T_Q4_0: q_q4_0(src, (BlockQ4_0*)dst, nb); break;
    case T_Q4_1: q_q4_1(src, (BlockQ4_1*)dst, nb); break;
    case T_Q5_0: q_q5_0(src, (BlockQ5_0*)dst, nb); break;
    case T_Q5_1: q_q5_1(src, (BlockQ5_1*)dst, nb); break;
    case T_Q8_0: q_q8_0(src, (BlockQ8_0*)dst, nb); break;
    case T_IQ4_NL:
      for (int64_t i = 0; i < nb; i++) q_iq4_nl_block(src + 32 * i, (BlockIQ4NL*)dst + i);
      break;
    default: break;  // callers check quantize_row_supported
  }
}

}  // namespace ggts
