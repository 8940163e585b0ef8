// Data movement: CPY CONT DUP CONCAT PAD SET REPEAT GET_ROWS SET_ROWS.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "ops.h"

namespace ggts {
namespace cpu {

namespace {

bool same_ne(const TensorDesc& a, const TensorDesc& b) {
  return a.ne[0] == b.ne[0] && a.ne[1] == b.ne[1] && a.ne[2] == b.ne[2] && a.ne[3] == b.ne[3];
}

// n elements of ts bytes between strided rows; contiguous rows in one memmove (a CPY may copy a tensor onto itself).
inline void copy_elems(uint8_t* dp, int64_t dnb, const uint8_t* sp, int64_t snb, int64_t n, int64_t ts) {
  const bool contiguous = dnb == ts && snb == ts;
  if (ts == 4 && n <= 8 && (!contiguous || dp + 4 * n <= sp || sp + 4 * n <= dp)) {  // short rows: no library call
    for (int64_t i = 0; i < n; i++) std::memcpy(dp + i * dnb, sp + i * snb, 4);
    return;
  }
  if (contiguous) { std::memmove(dp, sp, (size_t)(n * ts)); return; }
  if (ts == 4) { for (int64_t i = 0; i < n; i++) std::memcpy(dp + i * dnb, sp + i * snb, 4); return; }
  for (int64_t i = 0; i < n; i++) std::memcpy(dp + i * dnb, sp + i * snb, (size_t)ts);
}

#if defined(__AVX2__)
inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}
#endif

// Columns [off, off + n) of 8 consecutive f32 destination rows from a transposed b (b's element k of row j sits
// at b0 + k·bnb0 + 4j): 8x8 register transposes instead of one strided load per element (a causal conv's
// new columns during prompt processing).
void concat_rows8_transposed(uint8_t* d0, int64_t dnb1, int64_t off, const uint8_t* b0, int64_t bnb0, int64_t n) {
  float* dr[8];
  for (int k = 0; k < 8; k++) dr[k] = (float*)(d0 + k * dnb1) + off;
  int64_t t = 0;
#if defined(__AVX2__)
  for (; t + 8 <= n; t += 8) {
    __m256 r[8];
    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps((const float*)(b0 + (t + j) * bnb0));
    transpose8x8(r);
    for (int k = 0; k < 8; k++) _mm256_storeu_ps(dr[k] + t, r[k]);
  }
#endif
  for (; t < n; t++)
    for (int k = 0; k < 8; k++) std::memcpy(dr[k] + t, b0 + t * bnb0 + 4 * k, 4);
}

// 8 consecutive destination rows of 2-byte elements from a transposed source (element k of row j at
// s0 + k·snb0 + 2j): 8x8 transposes of 16-bit lanes (an f16 KV cache view turned [n_kv, D] for attention).
void copy_rows8_transposed16(uint8_t* d0, int64_t dnb1, const uint8_t* s0, int64_t snb0, int64_t n) {
  int64_t t = 0;
#if defined(__AVX2__)
  for (; t + 8 <= n; t += 8) {
    __m128i r[8];
    for (int k = 0; k < 8; k++) r[k] = _mm_loadu_si128((const __m128i*)(s0 + (t + k) * snb0));
    // r[k] holds rows 0..7 of column t+k; after the three unpack rounds w[j] holds columns t..t+7 of row j
    const __m128i a0 = _mm_unpacklo_epi16(r[0], r[1]), a1 = _mm_unpackhi_epi16(r[0], r[1]);
    const __m128i a2 = _mm_unpacklo_epi16(r[2], r[3]), a3 = _mm_unpackhi_epi16(r[2], r[3]);
    const __m128i a4 = _mm_unpacklo_epi16(r[4], r[5]), a5 = _mm_unpackhi_epi16(r[4], r[5]);
    const __m128i a6 = _mm_unpacklo_epi16(r[6], r[7]), a7 = _mm_unpackhi_epi16(r[6], r[7]);
    const __m128i b0 = _mm_unpacklo_epi32(a0, a2), b1 = _mm_unpackhi_epi32(a0, a2);
    const __m128i b2 = _mm_unpacklo_epi32(a1, a3), b3 = _mm_unpackhi_epi32(a1, a3);
    const __m128i b4 = _mm_unpacklo_epi32(a4, a6), b5 = _mm_unpackhi_epi32(a4, a6);
    const __m128i b6 = _mm_unpacklo_epi32(a5, a7), b7 = _mm_unpackhi_epi32(a5, a7);
    const __m128i w[8] = {_mm_unpacklo_epi64(b0, b4), _mm_unpackhi_epi64(b0, b4), _mm_unpacklo_epi64(b1, b5),
                          _mm_unpackhi_epi64(b1, b5), _mm_unpacklo_epi64(b2, b6), _mm_unpackhi_epi64(b2, b6),
                          _mm_unpacklo_epi64(b3, b7), _mm_unpackhi_epi64(b3, b7)};
    for (int j = 0; j < 8; j++) _mm_storeu_si128((__m128i*)(d0 + j * dnb1 + 2 * t), w[j]);
  }
#endif
  for (; t < n; t++)
    for (int j = 0; j < 8; j++) std::memcpy(d0 + j * dnb1 + 2 * t, s0 + t * snb0 + 2 * j, 2);
}

// Copies elementwise in logical order; shapes may differ (same element count), types may differ.
void k_cpy(const KernelCtx& ctx, const Node& n) {
  const TensorDesc& s = n.src[0];
  const TensorDesc& d = n.dst;
  const int64_t ts = type_size(d.type);
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  if (same_ne(s, d)) {
    const bool plain_same = s.type == d.type && block_size(d.type) == 1;
    const bool quant_same = s.type == d.type && block_size(d.type) > 1;
    float* buf = thread_scratch(ctx, d.ne[0]);
    // A transposed source (consecutive destination rows adjacent in it): 8 rows at a time by register transposes.
    const bool transposed = plain_same && (ts == 4 || ts == 2) && s.nb[1] == ts && s.nb[0] != ts && d.nb[0] == ts;
    for (int64_t r = r0; r < r1; r++) {
      int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
      const uint8_t* sp = row(s, i1, i2, i3);
      uint8_t* dp = row(d, i1, i2, i3);
      if (transposed && r + 8 <= r1 && i1 + 8 <= d.ne[1]) {
        if (ts == 4) concat_rows8_transposed(dp, d.nb[1], 0, sp, s.nb[0], d.ne[0]);
        else copy_rows8_transposed16(dp, d.nb[1], sp, s.nb[0], d.ne[0]);
        r += 7;
        continue;
      }
      if (quant_same) std::memmove(dp, sp, d.ne[0] / block_size(d.type) * ts);
      else if (plain_same) copy_elems(dp, d.nb[0], sp, s.nb[0], d.ne[0], ts);
      else {
        read_row_f32(s, sp, buf);
        write_row_f32(d, dp, buf);
      }
    }
    return;
  }
  // Reshaping copy: walk the flat index of each destination row through the source's shape.
  const bool plain_same = s.type == d.type && block_size(d.type) == 1;
  float* dbuf = thread_scratch(ctx, d.ne[0] + s.ne[0]);
  float* sbuf = dbuf + d.ne[0];
  int64_t cached = -1;
  const int64_t sq = is_quantized(s.type) ? 1 : 0;
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    uint8_t* dp = row(d, i1, i2, i3);
    int64_t f = r * d.ne[0];
    int64_t j0 = f % s.ne[0], srow = f / s.ne[0];
    if (plain_same) {  // runs that stay inside one source row: one index computation and one copy per run
      for (int64_t i = 0; i < d.ne[0];) {
        int64_t a1, a2, a3; unravel_row(s, srow, a1, a2, a3);
        const int64_t len = std::min(d.ne[0] - i, s.ne[0] - j0);
        copy_elems(dp + i * d.nb[0], d.nb[0], at(s, j0, a1, a2, a3), s.nb[0], len, ts);
        i += len; j0 = 0; srow++;
      }
      continue;
    }
    for (int64_t i = 0; i < d.ne[0]; i++) {
      int64_t a1, a2, a3; unravel_row(s, srow, a1, a2, a3);
      if (sq) {
        if (cached != srow) { read_row_f32(s, row(s, a1, a2, a3), sbuf); cached = srow; }
        dbuf[i] = sbuf[j0];
      } else {
        dbuf[i] = load_elem(s.type, at(s, j0, a1, a2, a3));
      }
      if (++j0 == s.ne[0]) { j0 = 0; srow++; }
    }
    write_row_f32(d, dp, dbuf);
  }
}

// Each destination row comes from one source row (dim > 0) or from a row of a then a row of b (dim 0).
void k_concat(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &b = n.src[1], &d = n.dst;
  const int dim = (int)n.p[0];
  const int64_t ts = type_size(d.type);
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  RowIter it(d, r0);
  for (int64_t r = r0; r < r1; r++, it.next()) {
    int64_t i[4] = {0, it.i1, it.i2, it.i3};
    uint8_t* dp = row(d, i[1], i[2], i[3]);
    if (dim == 0 && ts == 4 && b.nb[1] == 4 && d.nb[0] == 4 && r + 8 <= r1 && it.i1 + 8 <= d.ne[1]) {
      for (int k = 0; k < 8; k++) copy_elems(dp + k * d.nb[1], 4, row(a, i[1] + k, i[2], i[3]), a.nb[0], a.ne[0], 4);
      concat_rows8_transposed(dp, d.nb[1], a.ne[0], row(b, i[1], i[2], i[3]), b.nb[0], b.ne[0]);
      for (int k = 0; k < 7; k++) it.next();
      r += 7;
      continue;
    }
    if (dim == 0) {
      copy_elems(dp, d.nb[0], row(a, i[1], i[2], i[3]), a.nb[0], a.ne[0], ts);
      copy_elems(dp + a.ne[0] * d.nb[0], d.nb[0], row(b, i[1], i[2], i[3]), b.nb[0], b.ne[0], ts);
      continue;
    }
    const TensorDesc* s = &a;
    if (i[dim] >= a.ne[dim]) { i[dim] -= a.ne[dim]; s = &b; }
    copy_elems(dp, d.nb[0], row(*s, i[1], i[2], i[3]), s->nb[0], d.ne[0], ts);
  }
}

void k_pad(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &d = n.dst;
  const int64_t lp[4] = {(int64_t)n.p[0], (int64_t)n.p[2], (int64_t)n.p[4], (int64_t)n.p[6]};
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    float* dp = (float*)row(d, i1, i2, i3);
    const int64_t j1 = i1 - lp[1], j2 = i2 - lp[2], j3 = i3 - lp[3];
    const bool inside = j1 >= 0 && j1 < a.ne[1] && j2 >= 0 && j2 < a.ne[2] && j3 >= 0 && j3 < a.ne[3];
    for (int64_t i0 = 0; i0 < d.ne[0]; i0++) {
      const int64_t j0 = i0 - lp[0];
      dp[i0] = inside && j0 >= 0 && j0 < a.ne[0] ? load_elem(T_F32, at(a, j0, j1, j2, j3)) : 0.f;
    }
  }
}

void k_set(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &b = n.src[1], &d = n.dst;
  const int64_t bytes = nelements(d) * 4;
  if (d.data != a.data) {
    int64_t c0, c1; split(bytes / 64 + 1, ctx.ith, ctx.nth, c0, c1);
    c0 = std::min(bytes, c0 * 64); c1 = std::min(bytes, c1 * 64);
    if (c1 > c0) std::memmove(d.data + c0, a.data + c0, c1 - c0);
  }
  ctx.barrier();
  const int64_t nb1 = (int64_t)n.p[0], nb2 = (int64_t)n.p[1], nb3 = (int64_t)n.p[2], off = (int64_t)n.p[3];
  int64_t r0, r1; split(nrows(b), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(b, r, i1, i2, i3);
    uint8_t* dp = d.data + off + i1 * nb1 + i2 * nb2 + i3 * nb3;
    for (int64_t i0 = 0; i0 < b.ne[0]; i0++) std::memcpy(dp + i0 * 4, at(b, i0, i1, i2, i3), 4);
  }
}

void k_repeat(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &d = n.dst;
  const int64_t ts = type_size(d.type);
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    uint8_t* dp = row(d, i1, i2, i3);
    const uint8_t* sp = row(a, i1 % a.ne[1], i2 % a.ne[2], i3 % a.ne[3]);
    for (int64_t i0 = 0; i0 < d.ne[0]; i0++) std::memcpy(dp + i0 * ts, sp + (i0 % a.ne[0]) * a.nb[0], ts);
  }
}

void k_get_rows(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &idx = n.src[1], &d = n.dst;
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t j, b2, b3; unravel_row(d, r, j, b2, b3);
    int32_t ri; std::memcpy(&ri, at(idx, j, b2, b3, 0), 4);
    if (ri < 0 || ri >= a.ne[1]) {
      n.fail("GET_ROWS: index " + std::to_string(ri) + " out of range [0, " + std::to_string(a.ne[1]) + ")");
      return;
    }
    const uint8_t* sp = row(a, ri, b2, b3);
    uint8_t* dp = row(d, j, b2, b3);
    if (a.type == T_I32) for (int64_t i = 0; i < d.ne[0]; i++) std::memcpy(dp + 4 * i, sp + i * a.nb[0], 4);
    else read_row_f32(a, sp, (float*)dp);
  }
}

void k_set_rows(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &d = n.dst, &s = n.src[1], &idx = n.src[2];
  float* buf = thread_scratch(ctx, s.ne[0]);
  int64_t r0, r1; split(nrows(s), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t j, b2, b3; unravel_row(s, r, j, b2, b3);
    const uint8_t* ip = at(idx, j, b2 % idx.ne[1], b3 % idx.ne[2], 0);
    int64_t ri;
    if (idx.type == T_I32) { int32_t v; std::memcpy(&v, ip, 4); ri = v; } else std::memcpy(&ri, ip, 8);
    if (ri < 0 || ri >= d.ne[1]) {
      n.fail("SET_ROWS: index " + std::to_string(ri) + " out of range [0, " + std::to_string(d.ne[1]) + ")");
      return;
    }
    read_row_f32(s, row(s, j, b2, b3), buf);
    write_row_f32(d, row(d, ri, b2, b3), buf);
  }
}

}  // namespace

KernelFn kernel_copy(Node& n, int nth) {
  switch (n.op) {
    case OP_CPY: case OP_CONT: case OP_DUP:
      n.wsize = scratch_bytes(n.dst.ne[0] + n.src[0].ne[0], nth);
      return k_cpy;
    case OP_CONCAT: return k_concat;
    case OP_PAD: return k_pad;
    case OP_SET: return k_set;
    case OP_REPEAT: return k_repeat;
    case OP_GET_ROWS: return k_get_rows;
    case OP_SET_ROWS: n.wsize = scratch_bytes(n.src[1].ne[0], nth); return k_set_rows;
    default: return nullptr;
  }
}

}  // namespace cpu
}  // namespace ggts
