// Row dequantization, bit-identical to ggml's to_float, and the block-size tables.
// ggml computes these without fused multiply-add; contraction would change the last bit of `q·d + m`.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "quants.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quants_internal.h"
#include "simd.h"

namespace ggts {
namespace mm {

const int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

int type_block(int32_t type) {
  switch (type) {
    case T_F32: case T_F16: case T_BF16: return 1;
    case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0: case T_Q8_1: case T_IQ4_NL: return 32;
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_Q8_K: case T_IQ4_XS: return 256;
    case VT_Q8A: return 32;
    default: return 0;
  }
}

int type_bytes(int32_t type) {
  switch (type) {
    case T_F32: return 4;
    case T_F16: case T_BF16: return 2;
    case T_Q4_0: return 18;
    case T_Q4_1: return 20;
    case T_Q5_0: return 22;
    case T_Q5_1: return 24;
    case T_Q8_0: return 34;
    case T_Q8_1: return 36;
    case T_IQ4_NL: return 18;
    case T_Q2_K: return 84;
    case T_Q3_K: return 110;
    case T_Q4_K: return 144;
    case T_Q5_K: return 176;
    case T_Q6_K: return 210;
    case T_Q8_K: return 292;
    case T_IQ4_XS: return 136;
    case VT_Q8A: return (int)sizeof(BlockQ8A);
    default: return 0;
  }
}

namespace {

inline float h2f(uint16_t h) { return half_to_float(h); }

#if GGTS_MM_AVX2
// y[0..32) = (float)q[i] · d − m for 32 signed bytes (the same two roundings as ggml's scalar code); the first 16
// use (d0, m0), the last 16 (d1, m1).
inline void store32(__m256i q, float d0, float m0, float d1, float m1, float* y) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m256 vd0 = _mm256_set1_ps(d0), vm0 = _mm256_set1_ps(m0), vd1 = _mm256_set1_ps(d1), vm1 = _mm256_set1_ps(m1);
  _mm256_storeu_ps(y, _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), vd0), vm0));
  _mm256_storeu_ps(y + 8, _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), vd0), vm0));
  _mm256_storeu_ps(y + 16, _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), vd1), vm1));
  _mm256_storeu_ps(y + 24, _mm256_sub_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), vd1), vm1));
}
// Same for formats without an offset (x = q·d, one rounding).
inline void store32_scaled(__m256i q, float d0, float d1, float* y) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m256 vd0 = _mm256_set1_ps(d0), vd1 = _mm256_set1_ps(d1);
  _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), vd0));
  _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), vd0));
  _mm256_storeu_ps(y + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), vd1));
  _mm256_storeu_ps(y + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), vd1));
}
#endif

// ---------------------------------------------------------------- dequantization

void deq_f16(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
#if GGTS_MM_AVX2
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(x + i))));
#endif
  for (; i < n; i++) y[i] = h2f(x[i]);
}

void deq_bf16(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
#if GGTS_MM_AVX2
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(x + i)));
    _mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
  }
#endif
  for (; i < n; i++) y[i] = bf16_to_float(x[i]);
}

void deq_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += 32) {
    const float d = h2f(x[i].d);
#if GGTS_MM_AVX2
    store32_scaled(_mm256_sub_epi8(nibbles_32(x[i].qs), _mm256_set1_epi8(8)), d, d, y);
#else
    for (int j = 0; j < 16; j++) {
      y[j] = (float)((x[i].qs[j] & 15) - 8) * d;
      y[j + 16] = (float)((x[i].qs[j] >> 4) - 8) * d;
    }
#endif
  }
}

void deq_q4_1(const BlockQ4_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += 32) {
    const float d = h2f(x[i].d), m = h2f(x[i].m);
#if GGTS_MM_AVX2
    store32(nibbles_32(x[i].qs), d, -m, d, -m, y);  // q·d − (−m) is exactly q·d + m
#else
    for (int j = 0; j < 16; j++) {
      y[j] = (float)(x[i].qs[j] & 15) * d + m;
      y[j + 16] = (float)(x[i].qs[j] >> 4) * d + m;
    }
#endif
  }
}

void deq_q5_0(const BlockQ5_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += 32) {
    const float d = h2f(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
#if GGTS_MM_AVX2
    const __m256i hi = _mm256_andnot_si256(bits_to_bytes_32(qh), _mm256_set1_epi8((char)0xf0));
    store32_scaled(_mm256_or_si256(nibbles_32(x[i].qs), hi), d, d, y);
    continue;
#endif
    for (int j = 0; j < 16; j++) {
      const int x0 = ((x[i].qs[j] & 15) | (((qh >> j) << 4) & 0x10)) - 16;
      const int x1 = ((x[i].qs[j] >> 4) | ((qh >> (j + 12)) & 0x10)) - 16;
      y[j] = (float)x0 * d;
      y[j + 16] = (float)x1 * d;
    }
  }
}

void deq_q5_1(const BlockQ5_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += 32) {
    const float d = h2f(x[i].d), m = h2f(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
#if GGTS_MM_AVX2
    const __m256i hi = _mm256_and_si256(bits_to_bytes_32(qh), _mm256_set1_epi8(0x10));
    store32(_mm256_or_si256(nibbles_32(x[i].qs), hi), d, -m, d, -m, y);
    continue;
#endif
    for (int j = 0; j < 16; j++) {
      const int x0 = (x[i].qs[j] & 15) | (((qh >> j) << 4) & 0x10);
      const int x1 = (x[i].qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
      y[j] = (float)x0 * d + m;
      y[j + 16] = (float)x1 * d + m;
    }
  }
}

template <typename B>
void deq_q8(const B* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += 32) {
    const float d = h2f(x[i].d);
#if GGTS_MM_AVX2
    store32_scaled(_mm256_loadu_si256((const __m256i*)x[i].qs), d, d, y);
#else
    for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
#endif
  }
}

void deq_iq4_nl(const BlockIQ4NL* x, float* y, int64_t nb) {
#if GGTS_MM_AVX2
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)kvalues_iq4nl));
#endif
  for (int64_t i = 0; i < nb; i++, y += 32) {
    const float d = h2f(x[i].d);
#if GGTS_MM_AVX2
    store32_scaled(_mm256_shuffle_epi8(table, nibbles_32(x[i].qs)), d, d, y);
    continue;
#endif
    for (int j = 0; j < 16; j++) {
      y[j] = d * (float)kvalues_iq4nl[x[i].qs[j] & 15];
      y[j + 16] = d * (float)kvalues_iq4nl[x[i].qs[j] >> 4];
    }
  }
}

void deq_q2_K(const BlockQ2_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++) {
    const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int n = 0; n < QKK; n += 128) {
      int shift = 0;
#if GGTS_MM_AVX2
      const __m256i bits = _mm256_loadu_si256((const __m256i*)q);
      for (int j = 0; j < 4; j++, is += 2, y += 32) {
        const uint8_t s0 = x[i].scales[is], s1 = x[i].scales[is + 1];
        const __m256i qv = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), _mm256_set1_epi8(3));
        store32(qv, d * (float)(s0 & 15), dmin * (float)(s0 >> 4), d * (float)(s1 & 15), dmin * (float)(s1 >> 4), y);
      }
      (void)shift;
#else
      for (int j = 0; j < 4; j++) {
        for (int half = 0; half < 2; half++) {
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * (float)(sc & 15), ml = dmin * (float)(sc >> 4);
          for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l + 16 * half] >> shift) & 3) - ml;
        }
        shift += 2;
      }
#endif
      q += 32;
    }
  }
}

using qd::q3k_scales;

void deq_q3_K(const BlockQ3_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++) {
    const float d_all = h2f(x[i].d);
    int8_t sc[16];
    q3k_scales(x[i].scales, sc);
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    uint8_t m = 1;
    int is = 0;
    for (int n = 0; n < QKK; n += 128) {
      int shift = 0;
#if GGTS_MM_AVX2
      const __m256i bits = _mm256_loadu_si256((const __m256i*)q);
      const __m256i hbits = _mm256_loadu_si256((const __m256i*)hm);
      for (int j = 0; j < 4; j++, is += 2, y += 32, m <<= 1) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), _mm256_set1_epi8(3));
        // −4 where the hmask bit is clear
        const __m256i hb = _mm256_cmpeq_epi8(_mm256_and_si256(hbits, _mm256_set1_epi8((char)m)), _mm256_setzero_si256());
        const __m256i qv = _mm256_sub_epi8(lo, _mm256_and_si256(hb, _mm256_set1_epi8(4)));
        store32_scaled(qv, d_all * (float)sc[is], d_all * (float)sc[is + 1], y);
      }
      (void)shift;
      q += 32;
      continue;
#endif
      for (int j = 0; j < 4; j++) {
        for (int half = 0; half < 2; half++) {
          const float dl = d_all * (float)sc[is++];
          for (int l = 16 * half; l < 16 * half + 16; l++) {
            const int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
            *y++ = dl * (float)v;
          }
        }
        shift += 2;
        m <<= 1;
      }
      q += 32;
    }
  }
}

inline void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

void deq_q4_K(const BlockQ4_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++) {
    const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int j = 0; j < 4; j++, q += 32) {
      uint8_t sc, m;
      scale_min_k4(2 * j, x[i].scales, &sc, &m);
      const float d1 = d * (float)sc, m1 = dmin * (float)m;
      scale_min_k4(2 * j + 1, x[i].scales, &sc, &m);
      const float d2 = d * (float)sc, m2 = dmin * (float)m;
#if GGTS_MM_AVX2
      const __m256i bits = _mm256_loadu_si256((const __m256i*)q);
      const __m256i m4 = _mm256_set1_epi8(0x0f);
      store32(_mm256_and_si256(bits, m4), d1, m1, d1, m1, y);
      store32(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4), d2, m2, d2, m2, y + 32);
      y += 64;
#else
      for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 15) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
#endif
    }
  }
}

void deq_q5_K(const BlockQ5_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++) {
    const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 4; j++, ql += 32, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      scale_min_k4(2 * j, x[i].scales, &sc, &m);
      const float d1 = d * (float)sc, m1 = dmin * (float)m;
      scale_min_k4(2 * j + 1, x[i].scales, &sc, &m);
      const float d2 = d * (float)sc, m2 = dmin * (float)m;
#if GGTS_MM_AVX2
      const __m256i bits = _mm256_loadu_si256((const __m256i*)ql);
      const __m256i hb = _mm256_srli_epi16(_mm256_loadu_si256((const __m256i*)qh), 2 * j);
      const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
      const __m256i lo = _mm256_or_si256(_mm256_and_si256(bits, m4), _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
      const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bits, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4));
      store32(lo, d1, m1, d1, m1, y);
      store32(hi, d2, m2, d2, m2, y + 32);
      y += 64;
#else
      for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 15) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
#endif
    }
  }
}

void deq_q6_K(const BlockQ6_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++) {
    const float d = h2f(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n = 0; n < QKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
#if GGTS_MM_AVX2
      const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3), o32 = _mm256_set1_epi8(32);
      const __m256i l0 = _mm256_loadu_si256((const __m256i*)ql), l1 = _mm256_loadu_si256((const __m256i*)(ql + 32));
      const __m256i hb = _mm256_loadu_si256((const __m256i*)qh);
      auto q6 = [&](__m256i lo, int shift) {
        const __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, shift), m3), 4);
        return _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(lo, m4), h2), o32);
      };
      store32_scaled(q6(l0, 0), d * (float)sc[0], d * (float)sc[1], y);
      store32_scaled(q6(l1, 2), d * (float)sc[2], d * (float)sc[3], y + 32);
      store32_scaled(q6(_mm256_srli_epi16(l0, 4), 4), d * (float)sc[4], d * (float)sc[5], y + 64);
      store32_scaled(q6(_mm256_srli_epi16(l1, 4), 6), d * (float)sc[6], d * (float)sc[7], y + 96);
      continue;
#endif
      for (int l = 0; l < 32; l++) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * (float)sc[is] * (float)q1;
        y[l + 32] = d * (float)sc[is + 2] * (float)q2;
        y[l + 64] = d * (float)sc[is + 4] * (float)q3;
        y[l + 96] = d * (float)sc[is + 6] * (float)q4;
      }
    }
  }
}

void deq_q8_K(const BlockQ8_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++)
    for (int j = 0; j < QKK; j++) *y++ = x[i].d * (float)x[i].qs[j];
}

void deq_iq4_xs(const BlockIQ4XS* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++) {
    const float d = h2f(x[i].d);
    const uint8_t* qs = x[i].qs;
    for (int ib = 0; ib < 8; ib++, qs += 16, y += 32) {
      const int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | (((x[i].scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * (float)(ls - 32);
#if GGTS_MM_AVX2
      const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)kvalues_iq4nl));
      store32_scaled(_mm256_shuffle_epi8(table, nibbles_32(qs)), dl, dl, y);
#else
      for (int j = 0; j < 16; j++) {
        y[j] = dl * (float)kvalues_iq4nl[qs[j] & 15];
        y[j + 16] = dl * (float)kvalues_iq4nl[qs[j] >> 4];
      }
#endif
    }
  }
}

}  // namespace
}  // namespace mm

bool dequantize_row_supported(int32_t type) {
  switch (type) {
    case T_F32: case T_F16: case T_BF16: case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0:
    case T_Q8_1: case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_Q8_K: case T_IQ4_NL:
    case T_IQ4_XS: return true;
    default: return false;
  }
}

void dequantize_row(int32_t type, const void* src, float* dst, int64_t n) {
  using namespace mm;
  const int64_t nb = type_block(type) > 0 ? n / type_block(type) : 0;
  switch (type) {
    case T_F32: std::memmove(dst, src, (size_t)n * 4); break;
    case T_F16: deq_f16((const uint16_t*)src, dst, n); break;
    case T_BF16: deq_bf16((const uint16_t*)src, dst, n); break;
    case T_Q4_0: deq_q4_0((const BlockQ4_0*)src, dst, nb); break;
    case T_Q4_1: deq_q4_1((const BlockQ4_1*)src, dst, nb); break;
    case T_Q5_0: deq_q5_0((const BlockQ5_0*)src, dst, nb); break;
    case T_Q5_1: deq_q5_1((const BlockQ5_1*)src, dst, nb); break;
    case T_Q8_0: deq_q8((const BlockQ8_0*)src, dst, nb); break;
    case T_Q8_1: deq_q8((const BlockQ8_1*)src, dst, nb); break;
    case T_IQ4_NL: deq_iq4_nl((const BlockIQ4NL*)src, dst, nb); break;
    case T_Q2_K: deq_q2_K((const BlockQ2_K*)src, dst, nb); break;
    case T_Q3_K: deq_q3_K((const BlockQ3_K*)src, dst, nb); break;
    case T_Q4_K: deq_q4_K((const BlockQ4_K*)src, dst, nb); break;
    case T_Q5_K: deq_q5_K((const BlockQ5_K*)src, dst, nb); break;
    case T_Q6_K: deq_q6_K((const BlockQ6_K*)src, dst, nb); break;
    case T_Q8_K: deq_q8_K((const BlockQ8_K*)src, dst, nb); break;
    case T_IQ4_XS: deq_iq4_xs((const BlockIQ4XS*)src, dst, nb); break;
    default: break;  // callers check dequantize_row_supported
  }
}

}  // namespace ggts
