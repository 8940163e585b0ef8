// Helpers shared by the quantized dot-product files (quants_dot.cpp: 32-element blocks, quants_dot_k.cpp:
// K-quant super-blocks). Internal to the kernels.
#pragma once
#include <cstring>

#include "quants.h"
#include "simd.h"

namespace ggts {
namespace mm {
namespace qd {

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

// Q3_K's 16 six-bit scales, minus 32. Scale t: low 4 bits from nibble t of bytes 0-7 (low nibbles first), high
// 2 bits from bits 2(t/4)..+1 of byte 8 + t%4; assembled four at a time in 32-bit words.
inline void q3k_scales(const uint8_t* s, int8_t* out) {
  uint32_t a[3], w[4];
  std::memcpy(a, s, 12);
  const uint32_t lo4 = 0x0f0f0f0fu, lo2 = 0x03030303u;
  w[0] = (a[0] & lo4) | ((a[2] & lo2) << 4);
  w[1] = (a[1] & lo4) | (((a[2] >> 2) & lo2) << 4);
  w[2] = ((a[0] >> 4) & lo4) | (((a[2] >> 4) & lo2) << 4);
  w[3] = ((a[1] >> 4) & lo4) | (((a[2] >> 6) & lo2) << 4);
  uint8_t u[16];
  std::memcpy(u, w, 16);
  for (int t = 0; t < 16; t++) out[t] = (int8_t)(u[t] - 32);
}

inline int iq4xs_scale(const BlockIQ4XS& b, int ib) {
  return (((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 15) | (((b.scales_h >> (2 * ib)) & 3) << 4)) - 32;
}

#if GGTS_MM_AVX2
// Low lane = int16 element 2c, high lane = element 2c+1 (two 16-element groups per 32 bytes); v holds the
// same 8 scales in both lanes.
inline __m256i bcast16_pair(__m256i v, int c) {
  return _mm256_shuffle_epi8(v, _mm256_set_m128i(_mm_set1_epi16((short)((4 * c + 2) | ((4 * c + 3) << 8))),
                                                 _mm_set1_epi16((short)((4 * c) | ((4 * c + 1) << 8)))));
}
// 16 int16 group scales → the two 8-scale halves, each repeated in both lanes.
inline void split_scales16(__m256i sc16, __m256i* h0, __m256i* h1) {
  *h0 = _mm256_permute2x128_si256(sc16, sc16, 0x00);
  *h1 = _mm256_permute2x128_si256(sc16, sc16, 0x11);
}
#endif

#if GGTS_MM_AVX2
// Multi-column kernels are templates over the column count; K<NC>::run(n, a, b, out).
template <template <int> class K>
void mdot_dispatch(int64_t n, const void* a, const void* const* b, int nc, float* out) {
  switch (nc) {
    case 1: K<1>::run(n, a, b, out); break;
    case 2: K<2>::run(n, a, b, out); break;
    case 3: K<3>::run(n, a, b, out); break;
    default: K<4>::run(n, a, b, out); break;
  }
}
#endif

// 32-element weight blocks of signed values (the types whose activations are Q8G): the block's values in element
// order, one at a time (at) or as 32 int8 (decode). Every block starts with its f16 scale d.
struct DecQ8_0 {
  using Block = BlockQ8_0;
  static int at(const Block& x, int j) { return x.qs[j]; }
#if GGTS_MM_AVX2
  static __m256i decode(const Block& x) { return _mm256_loadu_si256((const __m256i*)x.qs); }
#endif
};
struct DecQ4_0 {
  using Block = BlockQ4_0;
  static int at(const Block& x, int j) { return (j < 16 ? x.qs[j] & 15 : x.qs[j - 16] >> 4) - 8; }
#if GGTS_MM_AVX2
  static __m256i decode(const Block& x) { return _mm256_sub_epi8(nibbles_32(x.qs), _mm256_set1_epi8(8)); }
#endif
};
struct DecQ5_0 {
  using Block = BlockQ5_0;
  static int at(const Block& x, int j) {
    uint32_t qh;
    std::memcpy(&qh, x.qh, 4);
    return ((j < 16 ? x.qs[j] & 15 : x.qs[j - 16] >> 4) | (int)(((qh >> j) & 1) << 4)) - 16;
  }
#if GGTS_MM_AVX2
  static __m256i decode(const Block& x) {
    uint32_t qh;
    std::memcpy(&qh, x.qh, 4);
    // nibble | 0xf0 (= nibble − 16 as int8) where the high bit is clear
    return _mm256_or_si256(nibbles_32(x.qs), _mm256_andnot_si256(bits_to_bytes_32(qh), _mm256_set1_epi8((char)0xf0)));
  }
#endif
};
struct DecIQ4NL {
  using Block = BlockIQ4NL;
  static int at(const Block& x, int j) { return kvalues_iq4nl[j < 16 ? x.qs[j] & 15 : x.qs[j - 16] >> 4]; }
#if GGTS_MM_AVX2
  static __m256i decode(const Block& x) {
    const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i*)kvalues_iq4nl));
    return _mm256_shuffle_epi8(table, nibbles_32(x.qs));
  }
#endif
};

// f(decoder) for the Q8G weight types (a decoder object as the type tag), R() for the others.
template <class R, class F>
R q8g_select(int32_t type, F f) {
  switch (type) {
    case T_Q8_0: return f(DecQ8_0{});
    case T_Q4_0: return f(DecQ4_0{});
    case T_Q5_0: return f(DecQ5_0{});
    case T_IQ4_NL: return f(DecIQ4NL{});
    default: return R();
  }
}

// VNNI kernels (quants_dot_avx512.cpp) when the CPU has them; nullptr otherwise or for other types.
VecDotFn vec_dot_fn_avx512(int32_t type);
VecDotMultiFn vec_dot_multi_fn_avx512(int32_t type);

// The AVX2 / plain C++ K-quant and IQ4_XS kernels (quants_dot_k.cpp); nullptr for other types.
VecDotFn vec_dot_fn_k(int32_t type);
VecDotMultiFn vec_dot_multi_fn_k(int32_t type);

}  // namespace qd
}  // namespace mm
}  // namespace ggts
