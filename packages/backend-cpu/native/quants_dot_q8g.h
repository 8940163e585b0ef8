// 32-element weight blocks of signed values (Q8_0, Q4_0, Q5_0, IQ4_NL; the decoders of quants_internal.h)
// against Q8G activations for 1-4 b columns (one column: a token's product with a weight row).
// Included inside an anonymous namespace twice: by quants_dot.cpp for AVX2 and by quants_dot_avx512.cpp under
// the VNNI target. The includer defines the block product: Q8W q8_prep(q) once per weight block of 32 int8
// values, then q8_prod(w, y, corr) per column, Σ q·y over the block in eight int32 lanes.
// Converting the eight f16 weight scales of a group at once and scaling them by the activation group's scales
// with one multiply (instead of a scalar convert, multiply and broadcast per block) took ~22 % off the Q8_0 time
// per block from L1/L2 (micro-benchmark, with the VNNI product).

// The f16 scales of nk ≤ 8 consecutive weight blocks as floats (the rest zero).
template <class Block>
__attribute__((always_inline)) inline __m256 q8g_weight_scales(const Block* a, int nk) {
  if (nk == 8) {
    __m128i h = _mm_cvtsi32_si128(a[0].d);
    h = _mm_insert_epi16(h, a[1].d, 1);
    h = _mm_insert_epi16(h, a[2].d, 2);
    h = _mm_insert_epi16(h, a[3].d, 3);
    h = _mm_insert_epi16(h, a[4].d, 4);
    h = _mm_insert_epi16(h, a[5].d, 5);
    h = _mm_insert_epi16(h, a[6].d, 6);
    h = _mm_insert_epi16(h, a[7].d, 7);
    return _mm256_cvtph_ps(h);
  }
  alignas(16) uint16_t h[8] = {};
  for (int k = 0; k < nk; k++) h[k] = a[k].d;
  return _mm256_cvtph_ps(_mm_load_si128((const __m128i*)h));
}

template <class Dec, int NC>
__attribute__((always_inline)) inline void mdot_q8g(int64_t n, const void* va, const void* const* vb, float* out) {
  using Block = typename Dec::Block;
  const Block* a = (const Block*)va;
  const BlockQ8G* g[NC];
  __m256 acc[NC][2];
  for (int c = 0; c < NC; c++) {
    g[c] = (const BlockQ8G*)vb[c];
    acc[c][0] = acc[c][1] = _mm256_setzero_ps();
  }
  alignas(32) float ds[NC][8];  // weight scale × activation scale of each block of the group
  const int64_t nb = n / QK;
  constexpr int LINES = (8 * (int)sizeof(Block) + 63) / 64;  // cache lines of one group of weight blocks
  // one block k of the group at a: two sum chains per column (even and odd blocks)
  auto block = [&](const Block* a, int64_t gi, int k) __attribute__((always_inline)) {
    const Q8W w = q8_prep(Dec::decode(a[k]));
    for (int c = 0; c < NC; c++) {
      const BlockQ8G& y = g[c][gi];
      const __m256i p = q8_prod(w, _mm256_loadu_si256((const __m256i*)y.qs[k]), y.corr[k]);
      acc[c][k & 1] = _mm256_fmadd_ps(_mm256_broadcast_ss(&ds[c][k]), _mm256_cvtepi32_ps(p), acc[c][k & 1]);
    }
  };
  for (int64_t i = 0; i < nb; i += 8) {
    const int64_t gi = i / 8;
    const int nk = (int)std::min<int64_t>(8, nb - i);
    prefetch_ahead<LINES>(a + i);
    const __m256 wd = q8g_weight_scales(a + i, nk);
    for (int c = 0; c < NC; c++) _mm256_store_ps(ds[c], _mm256_mul_ps(wd, _mm256_loadu_ps(g[c][gi].d)));
    if (nk == 8)
      for (int k = 0; k < 8; k++) block(a + i, gi, k);
    else
      for (int k = 0; k < nk; k++) block(a + i, gi, k);
  }
  for (int c = 0; c < NC; c++) out[c] = hsum_f32_8(_mm256_add_ps(acc[c][0], acc[c][1]));
}

template <class Dec>
float dot_q8g(int64_t n, const void* a, const void* b) {
  float out;
  mdot_q8g<Dec, 1>(n, a, &b, &out);
  return out;
}
template <class Dec> struct MQ8G {
  template <int NC> struct K { static void run(int64_t n, const void* a, const void* const* b, float* o) { mdot_q8g<Dec, NC>(n, a, b, o); } };
};

// The kernels by weight type (nullptr: not a Q8G type).
inline VecDotFn q8g_dot_fn(int32_t type) {
  return q8g_select<VecDotFn>(type, [](auto dec) -> VecDotFn { return dot_q8g<decltype(dec)>; });
}
inline VecDotMultiFn q8g_multi_fn(int32_t type) {
  return q8g_select<VecDotMultiFn>(type, [](auto dec) -> VecDotMultiFn { return mdot_dispatch<MQ8G<decltype(dec)>::template K>; });
}
