// Float weight rows · f32 b rows: 256-bit (AVX2), 512-bit (chosen at run time on AVX-512 VNNI CPUs, like the
// quantized kernels) and plain-float forms of one kernel body (dot_float_rows.h).
// Weights convert to f32 in registers; the b row stays f32 (no f16 rounding of activations, unlike ggml's f16
// path). The 512-bit form halves the conversion and FMA instructions per element, which bound these rows when the
// matrix sits in L2/L3 (f16 rows of Kimi's expert shapes, 2 threads, micro-benchmark: 5-12 % faster); from
// memory both forms run at the bandwidth.
#include "dot_float.h"

#include "avx512_quiet.h"
#include "simd.h"

namespace ggts {
namespace mm {
namespace {

// Weight element loaders: the element size and one element as a float (tails); each width's V converts LANES.
struct LoadF32 {
  static constexpr int SIZE = 4;
  static float at(const void* p, int64_t i) { return ((const float*)p)[i]; }
};
struct LoadF16 {
  static constexpr int SIZE = 2;
  static float at(const void* p, int64_t i) { return half_to_float(((const uint16_t*)p)[i]); }
};
struct LoadBF16 {
  static constexpr int SIZE = 2;
  static float at(const void* p, int64_t i) { return bf16_to_float(((const uint16_t*)p)[i]); }
};

#if GGTS_MM_AVX2
namespace base {
struct V {
  using v = __m256;
  static constexpr int LANES = 8;
  static v zero() { return _mm256_setzero_ps(); }
  static v load(const float* p) { return _mm256_loadu_ps(p); }
  static v fma(v a, v b, v c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(v a, v b, v c, v d) { return hsum_f32_8(_mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d))); }
  static v ld(LoadF32, const void* p, int64_t i) { return _mm256_loadu_ps((const float*)p + i); }
  static v ld(LoadF16, const void* p, int64_t i) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)((const uint16_t*)p + i))); }
  static v ld(LoadBF16, const void* p, int64_t i) {
    const __m128i h = _mm_loadu_si128((const __m128i*)((const uint16_t*)p + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
};
#include "dot_float_rows.h"
}  // namespace base
#else
namespace base {  // no AVX2: the same body on plain floats
struct V {
  using v = float;
  static constexpr int LANES = 1;
  static v zero() { return 0.0f; }
  static v load(const float* p) { return *p; }
  static v fma(v a, v b, v c) { return c + a * b; }
  static float sum(v a, v b, v c, v d) { return (a + b) + (c + d); }
  template <class L>
  static v ld(L, const void* p, int64_t i) { return L::at(p, i); }
};
#include "dot_float_rows.h"
}  // namespace base
#endif

#if GGTS_MM_VNNI
GGTS_BEGIN_TARGET_VNNI
namespace w512 {
struct V {
  using v = __m512;
  static constexpr int LANES = 16;
  static v zero() { return _mm512_setzero_ps(); }
  static v load(const float* p) { return _mm512_loadu_ps(p); }
  static v fma(v a, v b, v c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(v a, v b, v c, v d) { return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d))); }
  static v ld(LoadF32, const void* p, int64_t i) { return _mm512_loadu_ps((const float*)p + i); }
  static v ld(LoadF16, const void* p, int64_t i) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)((const uint16_t*)p + i))); }
  static v ld(LoadBF16, const void* p, int64_t i) {
    const __m256i h = _mm256_loadu_si256((const __m256i*)((const uint16_t*)p + i));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};
#include "dot_float_rows.h"
}  // namespace w512
GGTS_END_TARGET_VNNI
#endif

// The kernel for the weight type's loader, nullptr for other types.
template <class F>
auto by_type(int32_t type, F pick) -> decltype(pick(LoadF32{})) {
  switch (type) {
    case T_F32: return pick(LoadF32{});
    case T_F16: return pick(LoadF16{});
    case T_BF16: return pick(LoadBF16{});
    default: return nullptr;
  }
}

}  // namespace

VecDotFn float_dot_fn(int32_t type) {
#if GGTS_MM_VNNI
  if (use_vnni()) return by_type(type, [](auto l) -> VecDotFn { return w512::dot_row<decltype(l)>; });
#endif
  return by_type(type, [](auto l) -> VecDotFn { return base::dot_row<decltype(l)>; });
}

RowPairFn float_pair_fn(int32_t type) {
#if GGTS_MM_VNNI
  if (use_vnni()) return by_type(type, [](auto l) -> RowPairFn { return w512::dot_rows<decltype(l), 2>; });
#endif
  return by_type(type, [](auto l) -> RowPairFn { return base::dot_rows<decltype(l), 2>; });
}

}  // namespace mm
}  // namespace ggts
