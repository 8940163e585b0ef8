// The float row kernel body, once per vector width: included by dot_float.cpp inside a namespace that defines V
// (v: the vector type, LANES, zero, load, fma, sum, and ld(Loader, p, i): LANES weights from element i as floats).
// Also compiled for plain floats (LANES = 1) where there is no AVX2.

// NR weight rows · one f32 b row. Each row's sum runs the same four chains whatever NR is, so a row's result does
// not depend on whether it was paired. Two rows at a time (single-column products): the b row, 57 KB at k = 14336
// and so not in L1, is loaded once for both, and each thread keeps two weight streams in flight (f32 rows from
// memory, micro-benchmark: 17.8-18.1 → 21.2-21.4 GB/s with 2 threads, above a plain read's 19.1-19.4).
template <class L, int NR>
void dot_rows(int64_t n, const void* const* a, const float* b, float* out) {
  constexpr int64_t W = V::LANES;
  constexpr int LINES = 4 * W * L::SIZE / 64;  // cache lines of one row per step (none for plain floats)
  typename V::v acc[NR][4];
  for (int r = 0; r < NR; r++)
    for (int k = 0; k < 4; k++) acc[r][k] = V::zero();
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    for (int r = 0; r < NR; r++) prefetch_ahead<LINES>((const uint8_t*)a[r] + i * L::SIZE);
    for (int k = 0; k < 4; k++) {
      const typename V::v bk = V::load(b + i + W * k);
      for (int r = 0; r < NR; r++) acc[r][k] = V::fma(V::ld(L{}, a[r], i + W * k), bk, acc[r][k]);
    }
  }
  for (; i + W <= n; i += W) {
    const typename V::v bk = V::load(b + i);
    for (int r = 0; r < NR; r++) acc[r][0] = V::fma(V::ld(L{}, a[r], i), bk, acc[r][0]);
  }
  for (int r = 0; r < NR; r++) {
    float s = V::sum(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
    for (int64_t j = i; j < n; j++) s += L::at(a[r], j) * b[j];
    out[r] = s;
  }
}

template <class L>
float dot_row(int64_t n, const void* a, const void* b) {
  float out;
  dot_rows<L, 1>(n, &a, (const float*)b, &out);
  return out;
}
