// Quantized dot products for 256-element super-blocks (Q2_K..Q6_K, IQ4_XS) against Q8_K activations, one or
// several b columns at a time. Integer sums per super-block stay in 8 int32 lanes and are scaled into a float
// vector accumulator; sub-block scales are applied as int16 multipliers (madd), broadcast by byte shuffles or,
// where each is needed in every lane (Q4_K/Q5_K), from memory. Bodies shared with the VNNI build live in
// quants_dot_k23.h (Q2_K, Q3_K) and quants_dot_k45.h (Q4_K, Q5_K).
#include <cstring>

#include "quants.h"
#include "quants_internal.h"
#include "simd.h"

namespace ggts {
namespace mm {
namespace qd {
namespace {

#if !GGTS_MM_AVX2
float dot_q2_K(int64_t n, const void* va, const void* vb) {
  const BlockQ2_K* a = (const BlockQ2_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    int summ = 0;
    for (int j = 0; j < 16; j++) summ += (a[i].scales[j] >> 4) * b[i].bsums[j];
    int isum = 0;
    for (int h = 0; h < 2; h++)
      for (int j = 0; j < 4; j++)
        for (int r = 0; r < 32; r++) {
          const int q = (a[i].qs[32 * h + r] >> (2 * j)) & 3;
          const int sc = a[i].scales[8 * h + 2 * j + (r >> 4)] & 15;
          isum += sc * q * b[i].qs[128 * h + 32 * j + r];
        }
    s += b[i].d * h2f(a[i].d) * (float)isum - b[i].d * h2f(a[i].dmin) * (float)summ;
  }
  return s;
}

float dot_q3_K(int64_t n, const void* va, const void* vb) {
  const BlockQ3_K* a = (const BlockQ3_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    int8_t sc[16];
    q3k_scales(a[i].scales, sc);
    int corr = 0;
    for (int j = 0; j < 16; j++) corr += sc[j] * b[i].bsums[j];
    int isum = 0;
    for (int h = 0; h < 2; h++)
      for (int j = 0; j < 4; j++)
        for (int r = 0; r < 32; r++) {
          const int q = ((a[i].qs[32 * h + r] >> (2 * j)) & 3) | (((a[i].hmask[r] >> (4 * h + j)) & 1) << 2);
          isum += sc[8 * h + 2 * j + (r >> 4)] * q * b[i].qs[128 * h + 32 * j + r];
        }
    s += b[i].d * h2f(a[i].d) * (float)(isum - 4 * corr);
  }
  return s;
}
#endif

#if GGTS_MM_AVX2
inline __m256i madd_acc(__m256i acc, __m256i p, __m256i s) { return _mm256_add_epi32(acc, _mm256_madd_epi16(p, s)); }
#include "quants_dot_k23.h"
#include "quants_dot_k45.h"
#else
template <bool Q5>
float dot_q45_K(int64_t n, const void* va, const void* vb) {
  const int64_t nb = n / QKK;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    const uint8_t *scales, *qs, *qh = nullptr;
    float d, dmin;
    if constexpr (Q5) {
      const BlockQ5_K& x = ((const BlockQ5_K*)va)[i];
      scales = x.scales; qs = x.qs; qh = x.qh; d = h2f(x.d); dmin = h2f(x.dmin);
    } else {
      const BlockQ4_K& x = ((const BlockQ4_K*)va)[i];
      scales = x.scales; qs = x.qs; d = h2f(x.d); dmin = h2f(x.dmin);
    }
    uint8_t sc[8], mn[8];
    kscales(scales, sc, mn);
    int summ = 0;
    for (int j = 0; j < 8; j++) summ += mn[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
    int isum = 0;
    for (int j = 0; j < 4; j++)
      for (int r = 0; r < 32; r++) {
        int lo = qs[32 * j + r] & 15, hi = qs[32 * j + r] >> 4;
        if constexpr (Q5) {
          lo |= ((qh[r] >> (2 * j)) & 1) << 4;
          hi |= ((qh[r] >> (2 * j + 1)) & 1) << 4;
        }
        isum += sc[2 * j] * lo * b[i].qs[64 * j + r] + sc[2 * j + 1] * hi * b[i].qs[64 * j + 32 + r];
      }
    s += b[i].d * (d * (float)isum - dmin * (float)summ);
  }
  return s;
}
#endif

float dot_q6_K(int64_t n, const void* va, const void* vb) {
  const BlockQ6_K* a = (const BlockQ6_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<4>(&a[i]);
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)a[i].scales));
    const __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i*)b[i].bsums));  // q is stored +32
    __m256i sch[2];
    split_scales16(sc16, &sch[0], &sch[1]);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int h = 0; h < 2; h++) {
      const __m256i l0 = _mm256_loadu_si256((const __m256i*)(a[i].ql + 64 * h));
      const __m256i l1 = _mm256_loadu_si256((const __m256i*)(a[i].ql + 64 * h + 32));
      const __m256i hb = _mm256_loadu_si256((const __m256i*)(a[i].qh + 32 * h));
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4));
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4));
      const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4));
      const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4));
      const int8_t* y = b[i].qs + 128 * h;
      const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(q0, _mm256_loadu_si256((const __m256i*)y)), bcast16_pair(sch[h], 0));
      const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(q1, _mm256_loadu_si256((const __m256i*)(y + 32))), bcast16_pair(sch[h], 1));
      const __m256i p2 = _mm256_madd_epi16(_mm256_maddubs_epi16(q2, _mm256_loadu_si256((const __m256i*)(y + 64))), bcast16_pair(sch[h], 2));
      const __m256i p3 = _mm256_madd_epi16(_mm256_maddubs_epi16(q3, _mm256_loadu_si256((const __m256i*)(y + 96))), bcast16_pair(sch[h], 3));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(_mm256_add_epi32(p0, p1), _mm256_add_epi32(p2, p3)));
    }
    sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 5));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_f32_8(acc);
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    const int8_t* sc = a[i].scales;
    int corr = 0;  // q is stored +32
    for (int j = 0; j < 16; j++) corr += sc[j] * b[i].bsums[j];
    int isum = 0;
    for (int h = 0; h < 2; h++)
      for (int g = 0; g < 4; g++)
        for (int r = 0; r < 32; r++) {
          const uint8_t l = a[i].ql[64 * h + 32 * (g & 1) + r];
          const int lo = g < 2 ? (l & 15) : (l >> 4);
          const int hi = (a[i].qh[32 * h + r] >> (2 * g)) & 3;
          isum += sc[8 * h + 2 * g + (r >> 4)] * (lo | (hi << 4)) * b[i].qs[128 * h + 32 * g + r];
        }
    s += b[i].d * h2f(a[i].d) * (float)(isum - 32 * corr);
  }
  return s;
#endif
}

float dot_iq4_xs(int64_t n, const void* va, const void* vb) {
  const BlockIQ4XS* a = (const BlockIQ4XS*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
#if GGTS_MM_AVX2
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)kvalues_iq4nl));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<3>(&a[i]);
    __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int ib = 0; ib < 8; ib += 2) {
      const __m256i q0 = _mm256_shuffle_epi8(table, nibbles_32(a[i].qs + 16 * ib));
      const __m256i q1 = _mm256_shuffle_epi8(table, nibbles_32(a[i].qs + 16 * ib + 16));
      const __m256i y0 = _mm256_loadu_si256((const __m256i*)(b[i].qs + 32 * ib));
      const __m256i y1 = _mm256_loadu_si256((const __m256i*)(b[i].qs + 32 * ib + 32));
      const __m256i p0 = _mm256_maddubs_epi16(_mm256_sign_epi8(q0, q0), _mm256_sign_epi8(y0, q0));
      const __m256i p1 = _mm256_maddubs_epi16(_mm256_sign_epi8(q1, q1), _mm256_sign_epi8(y1, q1));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p0, _mm256_set1_epi16((short)iq4xs_scale(a[i], ib))));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p1, _mm256_set1_epi16((short)iq4xs_scale(a[i], ib + 1))));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_f32_8(acc);
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    int isum = 0;
    for (int ib = 0; ib < 8; ib++) {
      int sum = 0;
      for (int j = 0; j < 16; j++)
        sum += kvalues_iq4nl[a[i].qs[16 * ib + j] & 15] * b[i].qs[32 * ib + j] +
               kvalues_iq4nl[a[i].qs[16 * ib + j] >> 4] * b[i].qs[32 * ib + 16 + j];
      isum += iq4xs_scale(a[i], ib) * sum;
    }
    s += b[i].d * h2f(a[i].d) * (float)isum;
  }
  return s;
#endif
}

// ---------------------------------------------------------------- several b columns per weight row

#if GGTS_MM_AVX2
template <int NC>
void mdot_q6_K(int64_t n, const void* va, const void* const* vb, float* out) {
  const BlockQ6_K* a = (const BlockQ6_K*)va;
  const BlockQ8_K* b[NC];
  __m256 acc[NC];
  for (int c = 0; c < NC; c++) { b[c] = (const BlockQ8_K*)vb[c]; acc[c] = _mm256_setzero_ps(); }
  const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / QKK; i++) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)a[i].scales));
    __m256i sch[2];
    split_scales16(sc16, &sch[0], &sch[1]);
    __m256i sumi[NC];
#pragma GCC unroll 4
    for (int c = 0; c < NC; c++)  // q is stored +32: start from −32·Σ scale·bsum
      sumi[c] = _mm256_slli_epi32(
          _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i*)b[c][i].bsums))), 5);
#pragma GCC unroll 4
    for (int h = 0; h < 2; h++) {
      const __m256i l0 = _mm256_loadu_si256((const __m256i*)(a[i].ql + 64 * h));
      const __m256i l1 = _mm256_loadu_si256((const __m256i*)(a[i].ql + 64 * h + 32));
      const __m256i hb = _mm256_loadu_si256((const __m256i*)(a[i].qh + 32 * h));
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4));
#pragma GCC unroll 4
      for (int g = 0; g < 4; g++) {
        const __m256i s = bcast16_pair(sch[h], g);
#pragma GCC unroll 4
        for (int c = 0; c < NC; c++) {
          const __m256i y = _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 128 * h + 32 * g));
          sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], y), s));
        }
      }
    }
    const float d = h2f(a[i].d);
#pragma GCC unroll 4
    for (int c = 0; c < NC; c++)
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b[c][i].d * d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
  }
  for (int c = 0; c < NC; c++) out[c] = hsum_f32_8(acc[c]);
}
template <int NC> struct MQ6_K { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q6_K<NC>(n, a, b, o); } };
#endif

}  // namespace

VecDotFn vec_dot_fn_k(int32_t type) {
  switch (type) {
    case T_Q2_K: return dot_q2_K;
    case T_Q3_K: return dot_q3_K;
    case T_Q4_K: return dot_q45_K<false>;
    case T_Q5_K: return dot_q45_K<true>;
    case T_Q6_K: return dot_q6_K;
    case T_IQ4_XS: return dot_iq4_xs;
    default: return nullptr;
  }
}

VecDotMultiFn vec_dot_multi_fn_k(int32_t type) {
#if GGTS_MM_AVX2
  switch (type) {
    case T_Q4_K: return mdot_dispatch<MQ4_K>;
    case T_Q5_K: return mdot_dispatch<MQ5_K>;
    case T_Q6_K: return mdot_dispatch<MQ6_K>;
    default: return nullptr;
  }
#else
  (void)type;
  return nullptr;
#endif
}

}  // namespace qd
}  // namespace mm
}  // namespace ggts
