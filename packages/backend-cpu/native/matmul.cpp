// MUL_MAT and MUL_MAT_ID. Two paths:
//  - few b columns (decode): b rows converted once to a's vec-dot type (f32, Q8A or Q8_K), then row·row dot
//    products; weights stream once, threads split the flattened (batch, a row, b column) space;
//  - many b columns (prompt processing): b packed for the f32 GEMM of matmul_gemm.cpp, a dequantized per panel.
#include "matmul.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "dot_float.h"
#include "matmul_blas.h"
#include "matmul_gemm.h"
#include "quants.h"
#include "simd.h"

namespace ggts {
namespace mm {
int64_t g_gemm_min_m_override = 0;
}
namespace {
using namespace mm;

// b columns from which the GEMM path wins (measured crossovers: ~6 for float weights; 8..12 for quantized ones,
// whose int8 dot path is cheap per column while the GEMM pays for dequantizing each panel).
inline int64_t gemm_min_m(int32_t type) {
  if (g_gemm_min_m_override > 0) return g_gemm_min_m_override;
  return (type == T_F32 || type == T_F16 || type == T_BF16) ? 6 : 10;
}

// Chunks of the vec-dot path: enough for dynamic balancing (up to 16 per thread), each at least ~64 KiB of
// weights so claiming one (an atomic add) stays negligible.
inline int64_t vec_chunks(int64_t items, size_t weight_bytes, int nth) {
  const int64_t wanted = std::clamp<int64_t>((int64_t)(weight_bytes >> 16), nth, 16 * (int64_t)nth);
  return std::max<int64_t>(1, std::min(items, wanted));
}

// At most this many b rows: every thread converts them into its own scratch, so no barrier is needed.
constexpr int64_t PRIVATE_CONV_ROWS = 4;

// Float weights take their own row kernels (b rows stay f32); the others the quantized vec-dot kernels.
VecDotFn dot_fn(int32_t type) {
  const VecDotFn f = float_dot_fn(type);
  return f ? f : vec_dot_fn(type);
}

// ---------------------------------------------------------------- scratch layout

struct Layout {
  size_t off = 0;
  size_t take(size_t bytes) {
    off = (off + 63) & ~(size_t)63;
    const size_t o = off;
    off += bytes;
    return o;
  }
};

inline const uint8_t* b_row(const TensorDesc& b, int64_t i1, int64_t i2, int64_t i3) {
  return b.data + i1 * b.nb[1] + i2 * b.nb[2] + i3 * b.nb[3];
}

// Copy a strided f32 row into dst (k elements).
inline void gather_row(const uint8_t* src, int64_t nb0, int64_t k, float* dst) {
  for (int64_t i = 0; i < k; i++) std::memcpy(dst + i, src + i * nb0, 4);
}

// Row r of b as contiguous f32: in place when possible, else gathered into tmp.
inline const float* b_row_f32(const uint8_t* src, int64_t nb0, int64_t k, float* tmp) {
  if (nb0 == 4) return (const float*)src;
  gather_row(src, nb0, k, tmp);
  return tmp;
}

// Static split of [0, total) into nth contiguous ranges.
inline void split(int64_t total, int ith, int nth, int64_t* s, int64_t* e) {
  *s = total * ith / nth;
  *e = total * (ith + 1) / nth;
}

// a rows per GEMM job: a multiple of 16, ≤ GEMM_NC, small enough that every thread gets work.
// dst = 0 (an empty sum when K = 0), rows split across threads.
void zero_dst(const KernelCtx& ctx, const TensorDesc& dst) {
  const int64_t rows = dst.ne[1] * dst.ne[2] * dst.ne[3];
  int64_t s, e;
  split(rows, ctx.ith, ctx.nth, &s, &e);
  for (int64_t r = s; r < e; r++) {
    uint8_t* p = dst.data + (r % dst.ne[1]) * dst.nb[1] + ((r / dst.ne[1]) % dst.ne[2]) * dst.nb[2] +
                 (r / (dst.ne[1] * dst.ne[2])) * dst.nb[3];
    for (int64_t i = 0; i < dst.ne[0]; i++) std::memset(p + i * dst.nb[0], 0, 4);
  }
}

inline int64_t gemm_rows_per_job(int64_t N, int64_t batches, int nth) {
  int64_t r = GEMM_NC;
  while (r > GEMM_NR && batches * ((N + r - 1) / r) < 2 * (int64_t)nth) r /= 2;
  return r;
}

// ---------------------------------------------------------------- MUL_MAT plan

struct MMPlan {
  int64_t K, N, M, B2, B3, nbatch;
  bool gemm;
  bool blas;       // cblas_sgemm takes it (BLAS builds), when dst allows
  int32_t vdt;
  bool b_direct;   // vec path reads b rows in place
  bool priv;       // vec path: each thread converts all b rows itself (few rows, no barrier)
  size_t vrow;     // bytes of one converted b row
  size_t off_conv, off_tmp, off_bpack, off_apanel, off_blas, total;
  size_t tmp_floats;  // per thread
};

MMPlan plan_mul_mat(const TensorDesc& a, const TensorDesc& b, int nth) {
  MMPlan p{};
  p.K = a.ne[0];
  p.N = a.ne[1];
  p.M = b.ne[1];
  p.B2 = b.ne[2];
  p.B3 = b.ne[3];
  p.nbatch = p.B2 * p.B3;
  p.gemm = p.M >= gemm_min_m(a.type);
  p.blas = blas_wanted(a, b);
  p.vdt = vec_dot_type(a.type);
  p.b_direct = !p.gemm && p.vdt == T_F32 && b.nb[0] == 4;
  p.vrow = row_bytes(p.vdt, p.K);
  p.tmp_floats = (size_t)GEMM_MR * (size_t)p.K;
  Layout l;
  const int nt = std::max(1, nth);
  p.off_tmp = l.take(p.tmp_floats * 4 * (size_t)nt);
  if (p.gemm) {
    p.off_bpack = l.take(gemm_bpack_floats(p.M, p.K) * 4 * (size_t)p.nbatch);
    p.off_apanel = l.take(GEMM_THREAD_FLOATS * 4 * (size_t)nt);
  } else if (!p.b_direct) {
    p.priv = p.M * p.nbatch <= PRIVATE_CONV_ROWS;
    p.off_conv = l.take(p.vrow * (size_t)(p.M * p.nbatch) * (p.priv ? (size_t)nt : 1));
  }
  if (p.blas) p.off_blas = l.take(blas_scratch_floats(a) * 4);
  p.total = l.off + 64;
  return p;
}

}  // namespace

bool mul_mat_supports(int32_t type) {
  switch (type) {
    case T_F32: case T_F16: case T_BF16: case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0:
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_IQ4_NL: case T_IQ4_XS: return true;
    default: return false;
  }
}

size_t mul_mat_wsize(const TensorDesc& a, const TensorDesc& b, int nth) { return plan_mul_mat(a, b, nth).total; }

void mul_mat(const KernelCtx& ctx, const TensorDesc& a, const TensorDesc& b, const TensorDesc& dst) {
  if (a.ne[0] == 0) return zero_dst(ctx, dst);
  const MMPlan p = plan_mul_mat(a, b, ctx.nth);
  uint8_t* w = (uint8_t*)(((uintptr_t)ctx.wdata + 63) & ~(uintptr_t)63);
  float* tmp = (float*)(w + p.off_tmp) + p.tmp_floats * (size_t)ctx.ith;
  const int64_t K = p.K, N = p.N, M = p.M;
  const int64_t r2 = p.B2 / a.ne[2], r3 = p.B3 / a.ne[3];

  if (p.blas && blas_dst_ok(a, dst)) return blas_mul_mat(ctx, a, b, dst, (float*)(w + p.off_blas));
  if (p.gemm) {
    // 1. pack b: (batch, group of 6 rows) items shared by all threads
    const int64_t ngroups = gemm_groups(M);
    const size_t bstride = gemm_bpack_floats(M, K);
    float* bpack = (float*)(w + p.off_bpack);
    int64_t s, e;
    split(p.nbatch * ngroups, ctx.ith, ctx.nth, &s, &e);
    for (int64_t it = s; it < e; it++) {
      const int64_t bi = it / ngroups, g = it % ngroups;
      const int64_t i2 = bi % p.B2, i3 = bi / p.B2;
      const float* rows[GEMM_MR];
      const int nr = (int)std::min<int64_t>(GEMM_MR, M - g * GEMM_MR);
      for (int r = 0; r < nr; r++) rows[r] = b_row_f32(b_row(b, g * GEMM_MR + r, i2, i3), b.nb[0], K, tmp + r * K);
      gemm_pack_b_group(rows, nr, K, bpack + bi * bstride + g * GEMM_MR * K);
    }
    ctx.barrier();
    // 2. (batch, a-row panel) jobs, handed out dynamically
    const int64_t rows = gemm_rows_per_job(N, p.nbatch, ctx.nth);
    const int64_t npan = (N + rows - 1) / rows;
    float* apanel = (float*)(w + p.off_apanel) + GEMM_THREAD_FLOATS * (size_t)ctx.ith;
    std::vector<uint8_t*> cols((size_t)M);
    int64_t last_bi = -1;
    Chunks jobs(ctx, p.nbatch * npan);
    for (int64_t it; jobs.next(&it);) {
      const int64_t bi = it / npan, pi = it % npan;
      const int64_t i2 = bi % p.B2, i3 = bi / p.B2;
      if (bi != last_bi) {
        for (int64_t m = 0; m < M; m++) cols[m] = dst.data + m * dst.nb[1] + i2 * dst.nb[2] + i3 * dst.nb[3];
        last_bi = bi;
      }
      const GemmA ga{a.type, a.data + (i2 / r2) * a.nb[2] + (i3 / r3) * a.nb[3], a.nb[1]};
      gemm_run(ga, pi * rows, std::min(N, (pi + 1) * rows), K, bpack + bi * bstride, M, cols.data(), dst.nb[0], apanel);
    }
    return;
  }

  // vec-dot path. 1. convert b rows
  uint8_t* conv = w + p.off_conv + (p.priv ? p.vrow * (size_t)(M * p.nbatch) * (size_t)ctx.ith : 0);
  if (!p.b_direct) {
    int64_t s = 0, e = M * p.nbatch;
    if (!p.priv) split(M * p.nbatch, ctx.ith, ctx.nth, &s, &e);
    for (int64_t r = s; r < e; r++) {
      const int64_t m = r % M, bi = r / M;
      const float* x = b_row_f32(b_row(b, m, bi % p.B2, bi / p.B2), b.nb[0], K, tmp);
      convert_row_vdt(p.vdt, x, conv + (size_t)r * p.vrow, K);
    }
  }
  if (!p.b_direct && !p.priv) ctx.barrier();
  // 2. flattened (batch, n, m) dot products in contiguous chunks handed out dynamically
  const size_t arow_bytes = row_bytes(a.type, K);
  const VecDotFn dot = dot_fn(a.type);
  const VecDotMultiFn mdot = M > 1 && !p.b_direct ? vec_dot_multi_fn(a.type) : nullptr;
  const RowPairFn pair = M == 1 ? float_pair_fn(a.type) : nullptr;  // float weights: the b column is f32
  const int64_t total = p.nbatch * N * M;
  const int64_t nchunk = vec_chunks(total, arow_bytes * (size_t)(N * p.nbatch), ctx.nth);
  const int64_t per = (total + nchunk - 1) / nchunk;
  Chunks chunks(ctx, (total + per - 1) / per);
  for (int64_t c; chunks.next(&c);) {
    const int64_t e = std::min(total, (c + 1) * per);
    // (batch, a row, b column) of the chunk's first item, then advanced without divisions
    int64_t it = c * per;
    int64_t bi = it / (N * M), n = (it % (N * M)) / M, m0 = it % M;
    int64_t i2 = 0, i3 = 0;
    const uint8_t* abase = nullptr;
    uint8_t* dbase = nullptr;
    auto set_batch = [&] {
      i2 = bi % p.B2;
      i3 = bi / p.B2;
      abase = a.data + (i2 / r2) * a.nb[2] + (i3 / r3) * a.nb[3];
      dbase = dst.data + i2 * dst.nb[2] + i3 * dst.nb[3];
    };
    set_batch();
    auto b_col = [&](int64_t m) {  // b column m of the current batch, as the dot kernels take it
      return p.b_direct ? (const void*)b_row(b, m, i2, i3) : (const void*)(conv + (size_t)(bi * M + m) * p.vrow);
    };
    prefetch_start(abase + n * a.nb[1], (e - it + M - 1) / M * (int64_t)arow_bytes);
    while (it < e) {
      const uint8_t* arow = abase + n * a.nb[1];
      if (pair && e - it >= 2 && n + 1 < N) {  // one column (M == 1): two weight rows against it
        const void* rows[2] = {arow, arow + a.nb[1]};
        float out[2];
        pair(K, rows, (const float*)b_col(0), out);
        *(float*)(dbase + n * dst.nb[0]) = out[0];
        *(float*)(dbase + (n + 1) * dst.nb[0]) = out[1];
        it += 2;
        n += 2;
        if (n == N) { n = 0; bi++; if (it < e) set_batch(); }
        continue;
      }
      const int64_t m1 = std::min(M, m0 + (e - it));
      uint8_t* drow = dbase + n * dst.nb[0];
      int64_t m = m0;
      if (mdot)
        for (; m < m1; m += VEC_DOT_MAX_COLS) {  // several columns per decoded weight block
          const int nc = (int)std::min<int64_t>(VEC_DOT_MAX_COLS, m1 - m);
          const void* bs[VEC_DOT_MAX_COLS];
          float out[VEC_DOT_MAX_COLS];
          for (int k = 0; k < nc; k++) bs[k] = conv + (size_t)(bi * M + m + k) * p.vrow;
          mdot(K, arow, bs, nc, out);
          for (int k = 0; k < nc; k++) *(float*)(drow + (m + k) * dst.nb[1]) = out[k];
        }
      for (; m < m1; m++) *(float*)(drow + m * dst.nb[1]) = dot(K, arow, b_col(m));
      it += m1 - m0;
      m0 = 0;
      if (++n == N) { n = 0; bi++; if (it < e) set_batch(); }
    }
  }
}

// ---------------------------------------------------------------- MUL_MAT_ID

namespace {

struct IdPlan {
  int64_t K, N, E, nb1, T, kk;
  int32_t vdt;
  bool b_direct;
  bool priv;  // few b rows and no GEMM expert possible: per-thread conversion, no barrier
  size_t vrow;
  size_t off_tmp, off_conv, off_bpack, off_apanel, total;
  size_t tmp_floats;
};

IdPlan plan_mul_mat_id(const TensorDesc& as, const TensorDesc& b, const TensorDesc& ids, int nth) {
  IdPlan p{};
  p.K = as.ne[0];
  p.N = as.ne[1];
  p.E = as.ne[2];
  p.nb1 = b.ne[1];
  p.T = b.ne[2];
  p.kk = ids.ne[0];
  p.vdt = vec_dot_type(as.type);
  p.b_direct = p.vdt == T_F32 && b.nb[0] == 4;
  p.vrow = row_bytes(p.vdt, p.K);
  p.tmp_floats = (size_t)GEMM_MR * (size_t)p.K;
  const int nt = std::max(1, nth);
  const int64_t minm = gemm_min_m(as.type);
  const int64_t slots = p.kk * p.T;
  Layout l;
  p.off_tmp = l.take(p.tmp_floats * 4 * (size_t)nt);
  p.priv = slots < minm && p.nb1 * p.T <= PRIVATE_CONV_ROWS;
  if (!p.b_direct) p.off_conv = l.take(p.vrow * (size_t)(p.nb1 * p.T) * (p.priv ? (size_t)nt : 1));
  if (slots >= minm) {
    const int64_t gemm_experts = std::min<int64_t>(p.E, slots / minm);
    p.off_bpack = l.take(((size_t)slots + (size_t)(GEMM_MR - 1) * (size_t)gemm_experts) * (size_t)p.K * 4);
    p.off_apanel = l.take(GEMM_THREAD_FLOATS * 4 * (size_t)nt);
  }
  p.total = l.off + 64;
  return p;
}

inline int32_t id_at(const TensorDesc& ids, int64_t s, int64_t t) {
  int32_t v;
  std::memcpy(&v, ids.data + s * ids.nb[0] + t * ids.nb[1], 4);
  return v;
}

}  // namespace

bool mul_mat_id_bad_id(const TensorDesc& as, const TensorDesc& ids, int64_t* s, int64_t* t, int32_t* id) {
  for (int64_t tt = 0; tt < ids.ne[1]; tt++)
    for (int64_t ss = 0; ss < ids.ne[0]; ss++) {
      const int32_t v = id_at(ids, ss, tt);
      if (v < 0 || v >= as.ne[2]) {
        *s = ss;
        *t = tt;
        *id = v;
        return true;
      }
    }
  return false;
}

size_t mul_mat_id_wsize(const TensorDesc& as, const TensorDesc& b, const TensorDesc& ids, int nth) {
  return plan_mul_mat_id(as, b, ids, nth).total;
}

void mul_mat_id(const KernelCtx& ctx, const TensorDesc& as, const TensorDesc& b, const TensorDesc& ids,
                const TensorDesc& dst) {
  if (as.ne[0] == 0) return zero_dst(ctx, dst);
  const IdPlan p = plan_mul_mat_id(as, b, ids, ctx.nth);
  uint8_t* w = (uint8_t*)(((uintptr_t)ctx.wdata + 63) & ~(uintptr_t)63);
  float* tmp = (float*)(w + p.off_tmp) + p.tmp_floats * (size_t)ctx.ith;
  const int64_t K = p.K, N = p.N, E = p.E;
  const int64_t minm = gemm_min_m(as.type);

  // Every thread groups the (s, t) slots by expert itself (cheap, identical everywhere): counting sort.
  std::vector<int64_t> start((size_t)E + 1, 0);
  std::vector<int64_t> slots;
  std::vector<int64_t> bad;
  for (int64_t t = 0; t < p.T; t++)
    for (int64_t s = 0; s < p.kk; s++) {
      const int32_t id = id_at(ids, s, t);
      if (id < 0 || id >= E) bad.push_back(s + t * p.kk);
      else start[(size_t)id + 1]++;
    }
  for (int64_t e = 0; e < E; e++) start[e + 1] += start[e];
  slots.resize((size_t)start[E]);
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t t = 0; t < p.T; t++)
      for (int64_t s = 0; s < p.kk; s++) {
        const int32_t id = id_at(ids, s, t);
        if (id >= 0 && id < E) slots[(size_t)fill[id]++] = s + t * p.kk;
      }
  }
  auto count = [&](int64_t e) { return start[e + 1] - start[e]; };
  auto is_gemm = [&](int64_t e) { return count(e) >= minm; };
  // packed-B offsets (floats) of the GEMM experts
  std::vector<size_t> boff((size_t)E, 0);
  size_t btotal = 0;
  bool any_vec = false;
  for (int64_t e = 0; e < E; e++) {
    if (is_gemm(e)) {
      boff[e] = btotal;
      btotal += gemm_bpack_floats(count(e), K);
    } else if (count(e) > 0) {
      any_vec = true;
    }
  }
  float* bpack = (float*)(w + p.off_bpack);
  uint8_t* conv = w + p.off_conv + (p.priv ? p.vrow * (size_t)(p.nb1 * p.T) * (size_t)ctx.ith : 0);
  auto src_row = [&](int64_t slot) {  // b row feeding slot (s, t)
    const int64_t s = slot % p.kk, t = slot / p.kk;
    return b.data + (s % p.nb1) * b.nb[1] + t * b.nb[2];
  };

  // 1. convert b rows (vec experts) and pack b groups (GEMM experts)
  bool shared_work = false;
  {
    const int64_t nconv = (any_vec && !p.b_direct) ? p.nb1 * p.T : 0;
    std::vector<std::pair<int64_t, int64_t>> groups;  // (expert, group)
    for (int64_t e = 0; e < E; e++)
      if (is_gemm(e))
        for (int64_t g = 0; g < gemm_groups(count(e)); g++) groups.push_back({e, g});
    int64_t s = 0, en = nconv;  // private: groups is empty (no GEMM expert)
    shared_work = !p.priv && nconv + (int64_t)groups.size() > 0;
    if (!p.priv) split(nconv + (int64_t)groups.size(), ctx.ith, ctx.nth, &s, &en);
    for (int64_t it = s; it < en; it++) {
      if (it < nconv) {
        const int64_t r = it % p.nb1, t = it / p.nb1;
        const float* x = b_row_f32(b.data + r * b.nb[1] + t * b.nb[2], b.nb[0], K, tmp);
        convert_row_vdt(p.vdt, x, conv + (size_t)it * p.vrow, K);
      } else {
        const auto [e, g] = groups[(size_t)(it - nconv)];
        const float* rows[GEMM_MR];
        const int nr = (int)std::min<int64_t>(GEMM_MR, count(e) - g * GEMM_MR);
        for (int r = 0; r < nr; r++)
          rows[r] = b_row_f32(src_row(slots[(size_t)(start[e] + g * GEMM_MR + r)]), b.nb[0], K, tmp + r * K);
        gemm_pack_b_group(rows, nr, K, bpack + boff[e] + (size_t)g * GEMM_MR * K);
      }
    }
  }
  if (shared_work) ctx.barrier();

  // 2. jobs (expert, a-row range), handed out dynamically
  struct Job { int64_t e, n0, n1; };
  std::vector<Job> jobs;
  int64_t active = 0;
  for (int64_t e = 0; e < E; e++) active += count(e) > 0;
  const int64_t rows = gemm_rows_per_job(N, std::max<int64_t>(1, active), ctx.nth);
  for (int64_t e = 0; e < E; e++) {
    if (count(e) == 0) continue;
    for (int64_t n0 = 0; n0 < N; n0 += rows) jobs.push_back({e, n0, std::min(N, n0 + rows)});
  }
  float* apanel = (float*)(w + p.off_apanel) + GEMM_THREAD_FLOATS * (size_t)ctx.ith;
  const VecDotFn dot = dot_fn(as.type);
  const VecDotMultiFn mdot = p.b_direct ? nullptr : vec_dot_multi_fn(as.type);
  std::vector<uint8_t*> cols;
  std::vector<const void*> vb;
  std::vector<uint8_t*> vo;
  Chunks claim(ctx, (int64_t)jobs.size());
  for (int64_t j; claim.next(&j);) {
    const Job& jb = jobs[(size_t)j];
    const int64_t* sl = slots.data() + start[jb.e];
    const int64_t cnt = count(jb.e);
    const uint8_t* abase = as.data + jb.e * as.nb[2];
    if (is_gemm(jb.e)) {
      cols.resize((size_t)cnt);
      for (int64_t i = 0; i < cnt; i++) cols[i] = dst.data + (sl[i] % p.kk) * dst.nb[1] + (sl[i] / p.kk) * dst.nb[2];
      const GemmA ga{as.type, abase, as.nb[1]};
      gemm_run(ga, jb.n0, jb.n1, K, bpack + boff[jb.e], cnt, cols.data(), dst.nb[0], apanel);
    } else {
      // b rows and output columns of the expert's slots, resolved once per job (no divisions per weight row)
      vb.resize((size_t)cnt);
      vo.resize((size_t)cnt);
      for (int64_t i = 0; i < cnt; i++) {
        const int64_t s = sl[i] % p.kk, t = sl[i] / p.kk;
        vb[i] = p.b_direct ? (const void*)src_row(sl[i]) : (const void*)(conv + (size_t)((s % p.nb1) + t * p.nb1) * p.vrow);
        vo[i] = dst.data + s * dst.nb[1] + t * dst.nb[2];
      }
      prefetch_start(abase + jb.n0 * as.nb[1], (jb.n1 - jb.n0) * as.nb[1]);
      for (int64_t n = jb.n0; n < jb.n1; n++) {
        const uint8_t* arow = abase + n * as.nb[1];
        const int64_t on = n * dst.nb[0];
        int64_t i0 = 0;
        if (mdot && cnt > 1)
          for (; i0 < cnt; i0 += VEC_DOT_MAX_COLS) {
            const int nc = (int)std::min<int64_t>(VEC_DOT_MAX_COLS, cnt - i0);
            float out[VEC_DOT_MAX_COLS];
            mdot(K, arow, vb.data() + i0, nc, out);
            for (int c = 0; c < nc; c++) *(float*)(vo[i0 + c] + on) = out[c];
          }
        for (int64_t i = i0; i < cnt; i++) *(float*)(vo[i] + on) = dot(K, arow, vb[i]);
      }
    }
  }
  // slots with an invalid expert id get zeros (the executor reports the error)
  if (ctx.ith == 0)
    for (int64_t slot : bad)
      for (int64_t n = 0; n < N; n++)
        *(float*)(dst.data + n * dst.nb[0] + (slot % p.kk) * dst.nb[1] + (slot / p.kk) * dst.nb[2]) = 0.0f;
}

}  // namespace ggts
