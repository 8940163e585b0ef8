// Q4_K / Q5_K against Q8_K activations for 1-4 b columns (one column: token generation's weight stream).
// Included inside an anonymous namespace twice: by quants_dot_k.cpp for AVX2 and by quants_dot_avx512.cpp under
// the VNNI target. The includer defines madd_acc(acc, p, s) = acc + madd_epi16(p, s), one vpdpwssd with VNNI.
// The fixed-count loops are unrolled on purpose: every scale load and quant load then has a constant offset
// (Q4_K decode from cache: 13.4 → 9.8 ns per block; vpdpwssd and two sum chains: 9.0).

// The eight 6-bit scales and mins of a block as bytes [s0..s7, m0..m7], unpacked in one register from the 12 scale
// bytes (the 16-byte load also reads 4 bytes of the block's quants, which are masked off).
__attribute__((always_inline)) inline __m128i k45_scales(const uint8_t* scales) {
  const __m128i v = _mm_loadu_si128((const __m128i*)scales);
  // [u0, u2, u1, u2 >> 4] masked to scales 0-3, low bits of scales 4-7, mins 0-3, low bits of mins 4-7
  const __m128i w = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi8(v, _mm_setr_epi8(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11)),
                                                 _mm_setr_epi32(0, 0, 0, 4)),
                                  _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  // the top two bits of u0 / u1 bytes as bits 4-5 of scales / mins 4-7
  const __m128i h = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi8(v, _mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7)), 2),
                                  _mm_set1_epi8(0x30));
  return _mm_or_si128(w, h);
}

// Always inlined into the one-column and multi-column entry points below: one call per weight row, not two.
// Port pressure, not latency, bounds this loop (three vector ALU ports shared by ~70 µops per block), so values
// needed in every lane are stored once and broadcast from memory, which costs a load µop instead of a shuffle:
// the sub-block scales as int16 pairs and the block's float factors (Q4_K from cache: 9.8 → 8.7 ns per block).
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
  // scale j as (s_j, s_j) int16 pairs in dword j; each min twice (one madd with the 16 bsums gives min_j times the
  // sum of sub-block j, no horizontal add of bsums)
  const __m256i to_sw = _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1,
                                         4, -1, 4, -1, 5, -1, 5, -1, 6, -1, 6, -1, 7, -1, 7, -1);
  const __m256i to_mins = _mm256_setr_epi8(8, -1, 8, -1, 9, -1, 9, -1, 10, -1, 10, -1, 11, -1, 11, -1,
                                           12, -1, 12, -1, 13, -1, 13, -1, 14, -1, 14, -1, 15, -1, 15, -1);
  alignas(32) int32_t sw[8];
  alignas(16) float bdd[NC][4];  // [b.d * d, b.d * dmin] per column
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
    const __m256i packed = _mm256_broadcastsi128_si256(k45_scales(scales));
    _mm256_store_si256((__m256i*)sw, _mm256_shuffle_epi8(packed, to_sw));
    const __m256i mins = _mm256_shuffle_epi8(packed, to_mins);
    uint32_t dbits;
    std::memcpy(&dbits, dpair, 4);
    const __m128 ddm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)dbits));  // [d, dmin]
    for (int c = 0; c < NC; c++) _mm_store_ps(bdd[c], _mm_mul_ps(ddm, _mm_set1_ps(b[c][i].d)));
    __asm__ volatile("" ::: "memory");  // keep the broadcasts below as loads from sw / bdd
#pragma GCC unroll 4
    for (int c = 0; c < NC; c++) {
      const __m256i bs = _mm256_loadu_si256((const __m256i*)b[c][i].bsums);
      accm[c] = _mm256_fmadd_ps(_mm256_broadcast_ss(&bdd[c][1]), _mm256_cvtepi32_ps(_mm256_madd_epi16(mins, bs)), accm[c]);
    }
    __m256i s0[NC], s1[NC];  // two chains: the sub-block products of one block overlap
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
      const __m256i slo = _mm256_set1_epi32(sw[2 * j]), shi = _mm256_set1_epi32(sw[2 * j + 1]);
#pragma GCC unroll 4
      for (int c = 0; c < NC; c++) {
        const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 64 * j)));
        const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i*)(b[c][i].qs + 64 * j + 32)));
        s0[c] = j ? madd_acc(s0[c], plo, slo) : _mm256_madd_epi16(plo, slo);
        s1[c] = j ? madd_acc(s1[c], phi, shi) : _mm256_madd_epi16(phi, shi);
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < NC; c++)
      acc[c] = _mm256_fmadd_ps(_mm256_broadcast_ss(&bdd[c][0]), _mm256_cvtepi32_ps(_mm256_add_epi32(s0[c], s1[c])), acc[c]);
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
