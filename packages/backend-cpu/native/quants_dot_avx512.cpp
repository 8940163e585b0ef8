// 512-bit VNNI single-column dot products. Token generation streams every weight once, so the kernels must decode
// faster than memory delivers: vpdpbusd does the u8·s8 products and their 4-way sums in one instruction.
// Only where measured faster than the AVX2 kernels (which use three vector ports to 512-bit code's two): Q6_K,
// ~20 % (512-bit Q4_K/Q5_K variants were 0-7 % slower and are not used; their 256-bit kernels gain from vpdpwssd).
// Sums stay exact integers within a super-block.
// Chosen at run time (cpu_has_vnni; GGTS_NO_AVX512 turns it off for A/B timing, avx512_opted_out); compiled with a function target
// (GGTS_TARGET_VNNI) so the addon stays x86-64-v3.

#include "avx512_quiet.h"
#include "quants_internal.h"

namespace ggts {
namespace mm {
namespace qd {
namespace {

#if GGTS_MM_VNNI
GGTS_TARGET_VNNI inline __m256i fold_512(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

// Q6_K: ql[64h..64h+64) and qh[32h..32h+32) give elements 128h..128h+128 as two zmm of 64 consecutive elements,
// so activations load straight; each group of 16 lanes of a dpbusd result shares one of the 16 int8 scales.
GGTS_TARGET_VNNI float dot_q6_K_512(int64_t n, const void* va, const void* vb) {
  const BlockQ6_K* a = (const BlockQ6_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
  const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
  // high bits of elements 0-31 / 32-63 are qh bits 0-1 / 2-3 (moved to bits 4-5), of 64-95 / 96-127 bits 4-5 / 6-7
  const int S4 = 0x00040004, S2 = 0x00020002;  // int16 shift counts, two per dword
  const __m512i shl01 = _mm512_set_epi32(S2, S2, S2, S2, S2, S2, S2, S2, S4, S4, S4, S4, S4, S4, S4, S4);
  const __m512i shr23 = _mm512_set_epi32(S2, S2, S2, S2, S2, S2, S2, S2, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i quad = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<4>(&a[i]);
    const __m128i sc8 = _mm_loadu_si128((const __m128i*)a[i].scales);
    const __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), _mm256_loadu_si256((const __m256i*)b[i].bsums));
    // scales as int16 (scale, 0) pairs: a dpbusd lane sums four products of 6-bit by 8-bit values (|p| < 2^15), so one
    // vpdpwssd scales and accumulates it (vpmulld + vpaddd were three µops)
    const __m512i sc = _mm512_and_si512(_mm512_cvtepi8_epi32(sc8), _mm512_set1_epi32(0xffff));
    __m512i sumi = _mm512_setzero_si512();
    for (int h = 0; h < 2; h++) {
      const __m512i l = _mm512_loadu_si512((const void*)(a[i].ql + 64 * h));
      const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i*)(a[i].qh + 32 * h)));
      const __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(hb, shl01), m30));
      const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                          _mm512_and_si512(_mm512_srlv_epi16(hb, shr23), m30));
      const int8_t* y = b[i].qs + 128 * h;
      const __m512i p01 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q01, _mm512_loadu_si512((const void*)y));
      const __m512i p23 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q23, _mm512_loadu_si512((const void*)(y + 64)));
      const __m512i s01 = _mm512_permutexvar_epi32(_mm512_add_epi32(quad, _mm512_set1_epi32(8 * h)), sc);
      const __m512i s23 = _mm512_permutexvar_epi32(_mm512_add_epi32(quad, _mm512_set1_epi32(8 * h + 4)), sc);
      sumi = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(sumi, p01, s01), p23, s23);
    }
    const __m256i tot = _mm256_sub_epi32(fold_512(sumi), _mm256_slli_epi32(corr, 5));  // q is stored +32
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(tot), acc);
  }
  return hsum_f32_8(acc);
}

// Q2_K..Q5_K: the AVX2 kernels' code with each scaled madd + add fused into one vpdpwssd (Q4_K: ~8 % faster from
// cache).
GGTS_BEGIN_TARGET_VNNI
inline __m256i madd_acc(__m256i acc, __m256i p, __m256i s) { return _mm256_dpwssd_epi32(acc, p, s); }
#include "quants_dot_k23.h"
#include "quants_dot_k45.h"
GGTS_END_TARGET_VNNI

// Q8G types (Q8_0, Q4_0, Q5_0, IQ4_NL): the signed weights XOR 0x80 are w + 128 as unsigned bytes, vpdpbusd's
// first operand; starting from the activation block's corr lanes (-128·Σy in all) leaves exactly Σ w·y, with no
// sign fix-ups per block (Q8_0: ~10 %).
GGTS_BEGIN_TARGET_VNNI
struct Q8W { __m256i u; };
inline Q8W q8_prep(__m256i q) { return {_mm256_xor_si256(q, _mm256_set1_epi8((char)0x80))}; }
inline __m256i q8_prod(const Q8W& w, __m256i y, int32_t corr) { return _mm256_dpbusd_epi32(_mm256_set1_epi32(corr), w.u, y); }
#include "quants_dot_q8g.h"
GGTS_END_TARGET_VNNI
#endif

}  // namespace

VecDotFn vec_dot_fn_avx512(int32_t type) {
#if GGTS_MM_VNNI
  if (!use_vnni()) return nullptr;  // GGTS_NO_AVX512: A/B timing against the AVX2 kernels
  switch (type) {
    case T_Q2_K: return dot_q2_K;
    case T_Q3_K: return dot_q3_K;
    case T_Q4_K: return dot_q45_K<false>;
    case T_Q5_K: return dot_q45_K<true>;
    case T_Q6_K: return dot_q6_K_512;
    default: return q8g_dot_fn(type);
  }
#else
  (void)type;
  return nullptr;
#endif
}

VecDotMultiFn vec_dot_multi_fn_avx512(int32_t type) {
#if GGTS_MM_VNNI
  if (!use_vnni()) return nullptr;
  switch (type) {
    case T_Q4_K: return mdot_dispatch<MQ4_K>;
    case T_Q5_K: return mdot_dispatch<MQ5_K>;
    default: return q8g_multi_fn(type);
  }
#else
  (void)type;
  return nullptr;
#endif
}

}  // namespace qd
}  // namespace mm
}  // namespace ggts
