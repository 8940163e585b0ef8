// SIMD helpers shared by the matmul and quantization kernels.
// The addon is built for x86-64-v3 (AVX2/FMA/F16C); every intrinsic path is guarded so a build without AVX2
// (another ISA or a baseline x86 build) falls back to plain C++. AVX-512 VNNI is chosen at run time.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define GGTS_MM_AVX2 1
#else
#define GGTS_MM_AVX2 0
#endif

// Functions using 256-bit VNNI (vpdpbusd) get this target; call them only when cpu_has_vnni() says so.
#if GGTS_MM_AVX2 && defined(__GNUC__)
#define GGTS_MM_VNNI 1
#define GGTS_VNNI_FEATURES "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"
#define GGTS_TARGET_VNNI __attribute__((target(GGTS_VNNI_FEATURES)))
// The same target for every function between BEGIN and END (a shared kernel header included there). The pragma
// text is built by stringizing after expansion, so the feature list is written once.
#define GGTS_PRAGMA_(x) _Pragma(#x)
#define GGTS_PRAGMA(x) GGTS_PRAGMA_(x)
#if defined(__clang__)
#define GGTS_BEGIN_TARGET_VNNI GGTS_PRAGMA(clang attribute push(__attribute__((target(GGTS_VNNI_FEATURES))), apply_to = function))
#define GGTS_END_TARGET_VNNI _Pragma("clang attribute pop")
#else
#define GGTS_BEGIN_TARGET_VNNI _Pragma("GCC push_options") GGTS_PRAGMA(GCC target(GGTS_VNNI_FEATURES))
#define GGTS_END_TARGET_VNNI _Pragma("GCC pop_options")
#endif
#else
#define GGTS_MM_VNNI 0
#define GGTS_TARGET_VNNI
#endif

namespace ggts {
namespace mm {

// Token generation streams each weight row once. Asking for the bytes PREFETCH_AHEAD past the block being
// decoded keeps more memory requests in flight than the hardware prefetcher does alone (Q4_K decode from memory:
// ~60 % → ~70-75 % of the read bandwidth with 2 threads, BENCHMARKS.md). Prefetches never fault, so running past
// the end of a matrix is harmless. LINES cache lines cover one block (or one loop step) of the caller.
constexpr int PREFETCH_AHEAD = 4096;
// The first PREFETCH_AHEAD bytes of a stream that starts at p (a chunk of rows a thread just claimed): the
// kernels' own prefetches only reach that far ahead once they are running.
inline void prefetch_start(const void* p, int64_t bytes) {
#if defined(__x86_64__) || defined(__i386__)
  const int64_t n = bytes < PREFETCH_AHEAD ? bytes : PREFETCH_AHEAD;
  for (int64_t o = 0; o < n; o += 64) _mm_prefetch((const char*)p + o, _MM_HINT_T0);
#else
  (void)p; (void)bytes;
#endif
}
template <int LINES>
inline void prefetch_ahead(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  for (int l = 0; l < LINES; l++) _mm_prefetch((const char*)p + PREFETCH_AHEAD + 64 * l, _MM_HINT_T0);
#else
  (void)p;
#endif
}

inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// Exact IEEE half → float, subnormals included (bit-identical to F16C's vcvtph2ps).
inline float half_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp == 0) {
    if (man == 0) return bits_f32(sign);
    const float v = (float)man * 5.9604644775390625e-8f;  // man · 2^-24, exact
    return bits_f32(sign | f32_bits(v));
  }
  if (exp == 31) return bits_f32(sign | 0x7f800000u | (man ? 0x400000u : 0u) | (man << 13));  // NaN quieted, as F16C
  return bits_f32(sign | ((exp + 112) << 23) | (man << 13));
}

// float → IEEE half, round to nearest even, overflow to inf, NaN stays NaN (same results as F16C vcvtps2ph).
inline uint16_t float_to_half(float f) {
  const uint32_t w = f32_bits(f);
  const uint32_t sign = (w >> 16) & 0x8000;
  const uint32_t aw = w & 0x7fffffff;
  if (aw > 0x7f800000) return (uint16_t)(sign | 0x7e00 | ((aw >> 13) & 0x3ff));
  if (aw >= 0x477ff000) return (uint16_t)(sign | 0x7c00);  // rounds to ≥ 65520 → inf
  if (aw < 0x38800000) {                                    // half subnormal or zero
    // Adding 0.5 (2^-1) lines the half's subnormal grid up with the float's ulp and rounds to nearest even.
    const float v = bits_f32(aw) + 0.5f;
    return (uint16_t)(sign | (f32_bits(v) - 0x3f000000u));
  }
  const uint32_t odd = (aw >> 13) & 1;
  return (uint16_t)(sign | ((aw + 0xc8000fffu + odd) >> 13));
}

inline float bf16_to_float(uint16_t h) { return bits_f32((uint32_t)h << 16); }
inline uint16_t float_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64);
  return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

// ggml's nearest_int: round half to even via the 1.5·2^23 trick (|x| < 2^22).
inline int nearest_int(float fval) {
  const float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, 4);
  return (i & 0x007fffff) - 0x00400000;
}

bool cpu_has_vnni();
// GGTS_NO_AVX512 (set to anything) keeps every kernel on its AVX2 path: A/B timing of the AVX-512 variants.
inline bool avx512_opted_out() {
  static const bool off = std::getenv("GGTS_NO_AVX512") != nullptr;
  return off;
}
// The run-time-selected AVX-512 VNNI kernels (quantized and float rows) are in use.
inline bool use_vnni() { return cpu_has_vnni() && !avx512_opted_out(); }

#if GGTS_MM_AVX2
inline float hsum_f32_8(__m256 x) {
  __m128 r = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}
inline float hmax_f32_8(__m256 x) {
  __m128 r = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  r = _mm_max_ps(r, _mm_movehl_ps(r, r));
  r = _mm_max_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}
inline int hsum_i32_8(__m256i x) {
  __m128i r = _mm_add_epi32(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
  r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0x4e));
  r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0xb1));
  return _mm_cvtsi128_si32(r);
}
// 16 packed nibbles → 32 bytes: low nibbles in bytes 0..15, high nibbles in bytes 16..31.
inline __m256i nibbles_32(const uint8_t* p) {
  const __m128i t = _mm_loadu_si128((const __m128i*)p);
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}
// 32 bits → 32 bytes, 0xff where the bit is set.
inline __m256i bits_to_bytes_32(uint32_t bits) {
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL, 0x0101010101010101LL, 0);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), shuf);
  const __m256i mask = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfeLL);
  v = _mm256_or_si256(v, mask);
  return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}
// Σ of signed x·y byte pairs into 8 int32 lanes (x, y signed int8, |x| ≤ 127 so the abs/sign trick is exact).
inline __m256i dot_i8_i32(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}
// Σ of unsigned x (≤ 127) · signed y into 8 int32 lanes.
inline __m256i dot_u8_i32(__m256i x, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}
#endif

}  // namespace mm
}  // namespace ggts
