// Quantized dot products: a row of a weight type · a row of activations already quantized to Q8A / Q8_K.
// Integer products per block, float scales per block (as ggml does); AVX2 paths with plain C++ fallbacks.
#include <cstring>

#include "quants.h"
#include "simd.h"

namespace ggts {
namespace mm {
namespace {

inline float h2f(uint16_t h) {
#if GGTS_MM_AVX2
  return _cvtsh_ss(h);
#else
  return half_to_float(h);
#endif
}

inline void kscales(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  for (int j = 0; j < 8; j++) {
    if (j < 4) {
      sc[j] = s[j] & 63;
      mn[j] = s[j + 4] & 63;
    } else {
      sc[j] = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
      mn[j] = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
  }
}

inline void q3k_scales(const uint8_t* s, int8_t* out) {
  for (int t = 0; t < 16; t++) {
    const int lo = t < 8 ? (s[t] & 15) : (s[t - 8] >> 4);
    const int hi = (s[8 + (t & 3)] >> (2 * (t >> 2))) & 3;
    out[t] = (int8_t)((lo | (hi << 4)) - 32);
  }
}

inline int iq4xs_scale(const BlockIQ4XS& b, int ib) {
  return (((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | (((b.scales_h >> (2 * ib)) & 3) << 4)) - 32;
}

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

#if GGTS_MM_VNNI
// vpdpbusd does maddubs + madd(1) in one instruction, without the int16 saturation step.
GGTS_TARGET_VNNI float dot_q8_0_vnni(int64_t n, const void* va, const void* vb) {
  const BlockQ8_0* a = (const BlockQ8_0*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  const int64_t nb = n / 32;
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    const __m256i q0 = _mm256_loadu_si256((const __m256i*)a[i].qs);
    const __m256i q1 = _mm256_loadu_si256((const __m256i*)a[i + 1].qs);
    const __m256i y0 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)b[i].qs), q0);
    const __m256i y1 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)b[i + 1].qs), q1);
    const __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(q0, q0), y0);
    const __m256i p1 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(q1, q1), y1);
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(a[i].d) * b[i].d), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(a[i + 1].d) * b[i + 1].d), _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; i < nb; i++) {
    const __m256i q0 = _mm256_loadu_si256((const __m256i*)a[i].qs);
    const __m256i y0 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)b[i].qs), q0);
    const __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(q0, q0), y0);
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(a[i].d) * b[i].d), _mm256_cvtepi32_ps(p0), acc0);
  }
  return hsum_f32_8(_mm256_add_ps(acc0, acc1));
}
#endif

float dot_q8_0(int64_t n, const void* va, const void* vb) {
  const BlockQ8_0* a = (const BlockQ8_0*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  const int64_t nb = n / 32;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    const __m256i q = _mm256_loadu_si256((const __m256i*)a[i].qs);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * b[i].d), block_dot(q, b[i]), acc);
  }
  return hsum_f32_8(acc);
#else
  float s = 0;
  for (int64_t i = 0; i < nb; i++) {
    int sum = 0;
    for (int j = 0; j < 32; j++) sum += a[i].qs[j] * b[i].qs[j];
    s += h2f(a[i].d) * b[i].d * (float)sum;
  }
  return s;
#endif
}

float dot_iq4_nl(int64_t n, const void* va, const void* vb) {
  const BlockIQ4NL* a = (const BlockIQ4NL*)va;
  const BlockQ8A* b = (const BlockQ8A*)vb;
  const int64_t nb = n / 32;
#if GGTS_MM_AVX2
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)kvalues_iq4nl));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
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

// ---------------------------------------------------------------- 256-element super-blocks
// Integer sums per super-block stay in 8 int32 lanes and are scaled into a float vector accumulator; the
// sub-block scales are applied as int16 multipliers (madd), broadcast from one register by byte shuffles.

#if GGTS_MM_AVX2
// Both 128-bit lanes = int16 element k (one scale per 32 elements).
inline __m256i bcast16(__m256i v, int k) {
  return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)((2 * k) | ((2 * k + 1) << 8))));
}
// Low lane = int16 element 2c, high lane = element 2c+1 (two 16-element groups per 32 bytes); v holds the
// same 8 scales in both lanes.
inline __m256i bcast16_pair(__m256i v, int c) {
  return _mm256_shuffle_epi8(v, _mm256_set_m128i(_mm_set1_epi16((short)((4 * c + 2) | ((4 * c + 3) << 8))),
                                                 _mm_set1_epi16((short)((4 * c) | ((4 * c + 1) << 8)))));
}
inline float hsum_f32_4(__m128 r) {
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}
// 16 int16 group scales → the two 8-scale halves, each repeated in both lanes.
inline void split_scales16(__m256i sc16, __m256i* h0, __m256i* h1) {
  *h0 = _mm256_permute2x128_si256(sc16, sc16, 0x00);
  *h1 = _mm256_permute2x128_si256(sc16, sc16, 0x11);
}
#endif

float dot_q2_K(int64_t n, const void* va, const void* vb) {
  const BlockQ2_K* a = (const BlockQ2_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
  const __m256i m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < nb; i++) {
    const __m128i sc8 = _mm_loadu_si128((const __m128i*)a[i].scales);
    const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc8, _mm_set1_epi8(0x0f)));
    const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0f)));
    const __m256i bs = _mm256_loadu_si256((const __m256i*)b[i].bsums);
    accm = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].dmin)), _mm256_cvtepi32_ps(_mm256_madd_epi16(mn16, bs)), accm);
    __m256i sch[2];
    split_scales16(sc16, &sch[0], &sch[1]);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
      const __m256i bits = _mm256_loadu_si256((const __m256i*)(a[i].qs + 32 * h));
      for (int j = 0; j < 4; j++) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), m3);
        const __m256i y = _mm256_loadu_si256((const __m256i*)(b[i].qs + 128 * h + 32 * j));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), bcast16_pair(sch[h], j)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_f32_8(_mm256_sub_ps(acc, accm));
#else
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
#endif
}

float dot_q3_K(int64_t n, const void* va, const void* vb) {
  const BlockQ3_K* a = (const BlockQ3_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < nb; i++) {
    int8_t sc[16];
    q3k_scales(a[i].scales, sc);
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)sc));
    // q + 4 = low2 | hbit<<2 ∈ [0,7]; the −4 comes back through the group sums
    const __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i*)b[i].bsums));
    __m256i sch[2];
    split_scales16(sc16, &sch[0], &sch[1]);
    const __m256i hbits = _mm256_loadu_si256((const __m256i*)a[i].hmask);
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
      const __m256i bits = _mm256_loadu_si256((const __m256i*)(a[i].qs + 32 * h));
      for (int j = 0; j < 4; j++) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), m3);
        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hbits, 4 * h + j), one);
        const __m256i q = _mm256_or_si256(lo, _mm256_slli_epi16(hb, 2));
        const __m256i y = _mm256_loadu_si256((const __m256i*)(b[i].qs + 128 * h + 32 * j));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), bcast16_pair(sch[h], j)));
      }
    }
    sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 2));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_f32_8(acc);
#else
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
#endif
}

// Q4_K/Q5_K scales and mins (6 bits each, 8 of each) unpacked from the 12 packed bytes into 8+8 bytes.
inline void kscales_packed(const uint8_t* s, uint32_t out[4]) {
  uint32_t u0, u1, u2;
  std::memcpy(&u0, s, 4);
  std::memcpy(&u1, s + 4, 4);
  std::memcpy(&u2, s + 8, 4);
  out[0] = u0 & 0x3f3f3f3fu;                                             // scales 0..3
  out[1] = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);        // scales 4..7
  out[2] = u1 & 0x3f3f3f3fu;                                             // mins 0..3
  out[3] = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4); // mins 4..7
}

template <bool Q5>
float dot_q45_K(int64_t n, const void* va, const void* vb) {
  const int64_t nb = n / QKK;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  __m128 accm = _mm_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < nb; i++) {
    const uint8_t *scales, *qs, *qh = nullptr;
    uint16_t dh, dmh;
    if constexpr (Q5) {
      const BlockQ5_K& x = ((const BlockQ5_K*)va)[i];
      scales = x.scales; qs = x.qs; qh = x.qh; dh = x.d; dmh = x.dmin;
    } else {
      const BlockQ4_K& x = ((const BlockQ4_K*)va)[i];
      scales = x.scales; qs = x.qs; dh = x.d; dmh = x.dmin;
    }
    uint32_t u[4];
    kscales_packed(scales, u);
    const __m128i scm = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)u[1], (int)u[0]));
    const __m128i mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)u[3], (int)u[2]));
    const __m256i bs = _mm256_loadu_si256((const __m256i*)b[i].bsums);
    const __m128i bsum8 = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
    accm = _mm_fmadd_ps(_mm_set1_ps(b[i].d * h2f(dmh)), _mm_cvtepi32_ps(_mm_madd_epi16(mins, bsum8)), accm);
    const __m256i sc = _mm256_broadcastsi128_si256(scm);
    __m256i hbits = Q5 ? _mm256_loadu_si256((const __m256i*)qh) : _mm256_setzero_si256();
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
      const __m256i bits = _mm256_loadu_si256((const __m256i*)(qs + 32 * j));
      __m256i lo = _mm256_and_si256(bits, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
      if constexpr (Q5) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
        hbits = _mm256_srli_epi16(hbits, 2);
      }
      const __m256i ylo = _mm256_loadu_si256((const __m256i*)(b[i].qs + 64 * j));
      const __m256i yhi = _mm256_loadu_si256((const __m256i*)(b[i].qs + 64 * j + 32));
      const __m256i plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, ylo), bcast16(sc, 2 * j));
      const __m256i phi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, yhi), bcast16(sc, 2 * j + 1));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(plo, phi));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(dh)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_f32_8(acc) - hsum_f32_4(accm);
#else
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
#endif
}

float dot_q6_K(int64_t n, const void* va, const void* vb) {
  const BlockQ6_K* a = (const BlockQ6_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
#if GGTS_MM_AVX2
  __m256 acc = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < nb; i++) {
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)a[i].scales));
    const __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i*)b[i].bsums));  // q is stored +32
    __m256i sch[2];
    split_scales16(sc16, &sch[0], &sch[1]);
    __m256i sumi = _mm256_setzero_si256();
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
    __m256i sumi = _mm256_setzero_si256();
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
void mdot_q8_0(int64_t n, const void* va, const void* const* vb, float* out) {
  const BlockQ8_0* a = (const BlockQ8_0*)va;
  const BlockQ8A* b[NC];
  __m256 acc[NC];
  for (int c = 0; c < NC; c++) { b[c] = (const BlockQ8A*)vb[c]; acc[c] = _mm256_setzero_ps(); }
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < n / 32; i++) {
    const __m256i q = _mm256_loadu_si256((const __m256i*)a[i].qs);
    const __m256i aq = _mm256_sign_epi8(q, q);
    const float da = h2f(a[i].d);
    for (int c = 0; c < NC; c++) {
      const __m256i y = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*)b[c][i].qs), q);
      const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, y), ones);
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(da * b[c][i].d), _mm256_cvtepi32_ps(p), acc[c]);
    }
  }
  for (int c = 0; c < NC; c++) out[c] = hsum_f32_8(acc[c]);
}

template <bool Q5, int NC>
void mdot_q45_K(int64_t n, const void* va, const void* const* vb, float* out) {
  const BlockQ8_K* b[NC];
  __m256 acc[NC];
  __m128 accm[NC];
  for (int c = 0; c < NC; c++) {
    b[c] = (const BlockQ8_K*)vb[c];
    acc[c] = _mm256_setzero_ps();
    accm[c] = _mm_setzero_ps();
  }
  const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / QKK; i++) {
    const uint8_t *scales, *qs, *qh = nullptr;
    uint16_t dh, dmh;
    if constexpr (Q5) {
      const BlockQ5_K& x = ((const BlockQ5_K*)va)[i];
      scales = x.scales; qs = x.qs; qh = x.qh; dh = x.d; dmh = x.dmin;
    } else {
      const BlockQ4_K& x = ((const BlockQ4_K*)va)[i];
      scales = x.scales; qs = x.qs; dh = x.d; dmh = x.dmin;
    }
    uint32_t u[4];
    kscales_packed(scales, u);
    const __m128i mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)u[3], (int)u[2]));
    const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, (int)u[1], (int)u[0])));
    const float d = h2f(dh), dmin = h2f(dmh);
    __m256i sumi[NC];
    for (int c = 0; c < NC; c++) {
      const __m256i bs = _mm256_loadu_si256((const __m256i*)b[c][i].bsums);
      const __m128i bsum8 = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
      accm[c] = _mm_fmadd_ps(_mm_set1_ps(b[c][i].d * dmin), _mm_cvtepi32_ps(_mm_madd_epi16(mins, bsum8)), accm[c]);
      sumi[c] = _mm256_setzero_si256();
    }
    __m256i hbits = Q5 ? _mm256_loadu_si256((const __m256i*)qh) : _mm256_setzero_si256();
    for (int j = 0; j < 4; j++) {
      const __m256i bits = _mm256_loadu_si256((const __m256i*)(qs + 32 * j));
      __m256i lo = _mm256_and_si256(bits, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
      if constexpr (Q5) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
        hbits = _mm256_srli_epi16(hbits, 2);
      }
      const __m256i slo = bcast16(sc, 2 * j), shi = bcast16(sc, 2 * j + 1);
      for (int c = 0; c < NC; c++) {
        const __m256i ylo = _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 64 * j));
        const __m256i yhi = _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 64 * j + 32));
        const __m256i plo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, ylo), slo);
        const __m256i phi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, yhi), shi);
        sumi[c] = _mm256_add_epi32(sumi[c], _mm256_add_epi32(plo, phi));
      }
    }
    for (int c = 0; c < NC; c++)
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b[c][i].d * d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
  }
  for (int c = 0; c < NC; c++) out[c] = hsum_f32_8(acc[c]) - hsum_f32_4(accm[c]);
}

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
    for (int c = 0; c < NC; c++)  // q is stored +32: start from −32·Σ scale·bsum
      sumi[c] = _mm256_slli_epi32(
          _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i*)b[c][i].bsums))), 5);
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
      for (int g = 0; g < 4; g++) {
        const __m256i s = bcast16_pair(sch[h], g);
        for (int c = 0; c < NC; c++) {
          const __m256i y = _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 128 * h + 32 * g));
          sumi[c] = _mm256_add_epi32(sumi[c], _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], y), s));
        }
      }
    }
    const float d = h2f(a[i].d);
    for (int c = 0; c < NC; c++)
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b[c][i].d * d), _mm256_cvtepi32_ps(sumi[c]), acc[c]);
  }
  for (int c = 0; c < NC; c++) out[c] = hsum_f32_8(acc[c]);
}

template <template <int> class K>
void mdot_dispatch(int64_t n, const void* a, const void* const* b, int nc, float* out) {
  switch (nc) {
    case 1: K<1>::run(n, a, b, out); break;
    case 2: K<2>::run(n, a, b, out); break;
    case 3: K<3>::run(n, a, b, out); break;
    default: K<4>::run(n, a, b, out); break;
  }
}
template <int NC> struct MQ8_0 { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q8_0<NC>(n, a, b, o); } };
template <int NC> struct MQ4_K { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q45_K<false, NC>(n, a, b, o); } };
template <int NC> struct MQ5_K { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q45_K<true, NC>(n, a, b, o); } };
template <int NC> struct MQ6_K { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q6_K<NC>(n, a, b, o); } };
#endif

}  // namespace

VecDotFn vec_dot_fn(int32_t type) {
  switch (type) {
    case T_Q4_0: return dot_q4_0;
    case T_Q4_1: return dot_q4_1;
    case T_Q5_0: return dot_q5_0;
    case T_Q5_1: return dot_q5_1;
#if GGTS_MM_VNNI
    case T_Q8_0: return cpu_has_vnni() ? dot_q8_0_vnni : dot_q8_0;
#else
    case T_Q8_0: return dot_q8_0;
#endif
    case T_IQ4_NL: return dot_iq4_nl;
    case T_Q2_K: return dot_q2_K;
    case T_Q3_K: return dot_q3_K;
    case T_Q4_K: return dot_q45_K<false>;
    case T_Q5_K: return dot_q45_K<true>;
    case T_Q6_K: return dot_q6_K;
    case T_IQ4_XS: return dot_iq4_xs;
    default: return nullptr;
  }
}

VecDotMultiFn vec_dot_multi_fn(int32_t type) {
#if GGTS_MM_AVX2
  switch (type) {
    case T_Q8_0: return mdot_dispatch<MQ8_0>;
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

}  // namespace mm
}  // namespace ggts

namespace ggts {
namespace mm {
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
