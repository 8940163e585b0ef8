// Q4_K / Q5_K against Q8_K activations for 1-4 b columns (one column: token generation's weight stream).
// Included inside an anonymous namespace twice: by quants_dot_k.cpp for AVX2 and by quants_dot_avx512.cpp under
// the VNNI target. The includer defines madd_acc(acc, p, s) = acc + madd_epi16(p, s), one vpdpwssd with VNNI.
// The fixed-count loops are unrolled on purpose: the scale broadcasts then get constant shuffle controls instead
// of being rebuilt every step (Q4_K decode from cache: 13.4 → 9.8 ns per block; vpdpwssd and two sum chains: 9.0).

// Always inlined into the one-column and multi-column entry points below: one call per weight row, not two.
template <bool Q5, int NC>
__attribute__((always_inline)) inline void mdot_q45_K(int64_t n, const void* va, const void* const* vb, float* out) {
  const BlockQ8_K* b[NC];
  __m256 acc[NC], accm[NC];
  for (int c = 0; c < NC; c++) {
    b[c] = (const BlockQ8_K*)vb[c];
    acc[c] = _mm256_setzero_ps();
    accm[c] = _mm256_setzero_ps();
  }
  const __m256i m4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / QKK; i++) {
    const uint8_t *scales, *qs, *qh = nullptr;
    const uint16_t* dpair;  // d, dmin: adjacent halves, converted together
    if constexpr (Q5) {
      const BlockQ5_K& x = ((const BlockQ5_K*)va)[i];
      scales = x.scales; qs = x.qs; qh = x.qh; dpair = &x.d;
    } else {
      const BlockQ4_K& x = ((const BlockQ4_K*)va)[i];
      scales = x.scales; qs = x.qs; dpair = &x.d;
    }
    prefetch_ahead<3>(scales);  // 3 lines ≥ one block of either type
    uint32_t u[4];
    kscales_packed(scales, u);
    const __m128i packed = _mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]);  // 8 scales, 8 mins
    const __m256i sc = _mm256_cvtepu8_epi16(_mm_unpacklo_epi64(packed, packed));
    // each min twice: one madd with the 16 bsums gives min_j * (sum of sub-block j), no horizontal add of bsums
    const __m256i mins = _mm256_cvtepu8_epi16(
        _mm_shuffle_epi8(packed, _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)));
    uint32_t dbits;
    std::memcpy(&dbits, dpair, 4);
    const __m128 ddm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)dbits));  // [d, dmin]
    __m128 bdd[NC];  // [b.d * d, b.d * dmin]
    __m256i s0[NC], s1[NC];  // two chains: the sub-block products of one block overlap
#pragma GCC unroll 4
    for (int c = 0; c < NC; c++) {
      bdd[c] = _mm_mul_ps(ddm, _mm_set1_ps(b[c][i].d));
      const __m256i bs = _mm256_loadu_si256((const __m256i*)b[c][i].bsums);
      accm[c] = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(bdd[c])), _mm256_cvtepi32_ps(_mm256_madd_epi16(mins, bs)),
                                accm[c]);
      s0[c] = s1[c] = _mm256_setzero_si256();
    }
    __m256i hbits = Q5 ? _mm256_loadu_si256((const __m256i*)qh) : _mm256_setzero_si256();
#pragma GCC unroll 4
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
#pragma GCC unroll 4
      for (int c = 0; c < NC; c++) {
        const __m256i ylo = _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 64 * j));
        const __m256i yhi = _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 64 * j + 32));
        s0[c] = madd_acc(s0[c], _mm256_maddubs_epi16(lo, ylo), slo);
        s1[c] = madd_acc(s1[c], _mm256_maddubs_epi16(hi, yhi), shi);
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < NC; c++)
      acc[c] = _mm256_fmadd_ps(_mm256_broadcastss_ps(bdd[c]), _mm256_cvtepi32_ps(_mm256_add_epi32(s0[c], s1[c])), acc[c]);
  }
  for (int c = 0; c < NC; c++) out[c] = hsum_f32_8(_mm256_sub_ps(acc[c], accm[c]));
}

template <int NC> struct MQ4_K { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q45_K<false, NC>(n, a, b, o); } };
template <int NC> struct MQ5_K { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q45_K<true, NC>(n, a, b, o); } };

// One column: the token-generation dot product.
template <bool Q5>
float dot_q45_K(int64_t n, const void* a, const void* b) {
  float out;
  mdot_q45_K<Q5, 1>(n, a, &b, &out);
  return out;
}
