// Q2_K / Q3_K against Q8_K activations, one column. Included inside an anonymous namespace twice: by
// quants_dot_k.cpp for AVX2 and by quants_dot_avx512.cpp under the VNNI target, where madd_acc (acc + madd) is
// one vpdpwssd.

// Σ over a block's sixteen 16-element groups of scale · q · y, where q is the 2-bit quant (Q2_K) or, with HIGH,
// the 2-bit quant plus the hmask bit at bit 2 (Q3_K: q + 4). sch: the two 8-scale halves (split_scales16).
template <bool HIGH>
__attribute__((always_inline)) inline __m256i sum_2bit(const uint8_t* qs, __m256i hbits, const int8_t* yq, const __m256i* sch) {
  const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4);
  __m256i sumi = _mm256_setzero_si256();
#pragma GCC unroll 4
  for (int h = 0; h < 2; h++) {
    const __m256i bits = _mm256_loadu_si256((const __m256i*)(qs + 32 * h));
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
      __m256i q = _mm256_and_si256(j ? _mm256_srli_epi16(bits, 2 * j) : bits, m3);
      if constexpr (HIGH) {
        // hmask bit 4h+j of each byte at bit 2 (16-bit shifts keep each byte's bits within the byte up to bit 7)
        const int s = 4 * h + j - 2;
        q = _mm256_or_si256(q, _mm256_and_si256(s > 0 ? _mm256_srli_epi16(hbits, s) : s < 0 ? _mm256_slli_epi16(hbits, -s) : hbits, m4));
      }
      const __m256i y = _mm256_loadu_si256((const __m256i*)(yq + 128 * h + 32 * j));
      sumi = madd_acc(sumi, _mm256_maddubs_epi16(q, y), bcast16_pair(sch[h], j));
    }
  }
  return sumi;
}

float dot_q2_K(int64_t n, const void* va, const void* vb) {
  const BlockQ2_K* a = (const BlockQ2_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
  __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<2>(&a[i]);
    const __m128i sc8 = _mm_loadu_si128((const __m128i*)a[i].scales);
    const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sc8, _mm_set1_epi8(0x0f)));
    const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc8, 4), _mm_set1_epi8(0x0f)));
    const __m256i bs = _mm256_loadu_si256((const __m256i*)b[i].bsums);
    accm = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].dmin)), _mm256_cvtepi32_ps(_mm256_madd_epi16(mn16, bs)), accm);
    __m256i sch[2];
    split_scales16(sc16, &sch[0], &sch[1]);
    const __m256i sumi = sum_2bit<false>(a[i].qs, _mm256_setzero_si256(), b[i].qs, sch);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_f32_8(_mm256_sub_ps(acc, accm));
}

// The 16 signed 6-bit sub-block scales of a Q3_K block as int8, unpacked in one register. The 16-byte load starts
// 4 bytes before the 12 scale bytes (inside the block: the quants' tail), so it never reads past the block.
inline __m128i q3k_scales16(const uint8_t* scales) {
  const __m128i v = _mm_loadu_si128((const __m128i*)(scales - 4));  // dwords [q tail, a0, a1, a2]
  // low 4 bits: scales 0-3 = a0, 4-7 = a1, 8-11 = a0 >> 4, 12-15 = a1 >> 4
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0x99), _mm_setr_epi32(0, 0, 4, 4)), _mm_set1_epi8(0x0f));
  // high 2 bits: bits 0-1 / 2-3 / 4-5 / 6-7 of a2's bytes, moved to bits 4-5
  const __m128i hi = _mm_and_si128(_mm_slli_epi32(_mm_srlv_epi32(_mm_shuffle_epi32(v, 0xff), _mm_setr_epi32(0, 2, 4, 6)), 4), _mm_set1_epi8(0x30));
  return _mm_sub_epi8(_mm_or_si128(lo, hi), _mm_set1_epi8(32));
}

float dot_q3_K(int64_t n, const void* va, const void* vb) {
  const BlockQ3_K* a = (const BlockQ3_K*)va;
  const BlockQ8_K* b = (const BlockQ8_K*)vb;
  const int64_t nb = n / QKK;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; i++) {
    prefetch_ahead<2>(&a[i]);
    const __m256i sc16 = _mm256_cvtepi8_epi16(q3k_scales16(a[i].scales));
    // q + 4 = low2 | hbit<<2 ∈ [0,7]; the −4 comes back through the group sums
    const __m256i corr = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i*)b[i].bsums));
    __m256i sch[2];
    split_scales16(sc16, &sch[0], &sch[1]);
    const __m256i hbits = _mm256_loadu_si256((const __m256i*)a[i].hmask);
    __m256i sumi = sum_2bit<true>(a[i].qs, hbits, b[i].qs, sch);
    sumi = _mm256_sub_epi32(sumi, _mm256_slli_epi32(corr, 2));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
  }
  return hsum_f32_8(acc);
}
