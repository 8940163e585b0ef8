// Delta-net family: SOLVE_TRI, SSM_CONV and the fused GATED_DELTA_NET recurrence.
#include <algorithm>
#include <cmath>
#include "ops.h"
#include "vec_math.h"

namespace ggts {
namespace cpu {

namespace {

// Forward substitution row by row, vectorised across the right-hand-side columns of one chunk.
void k_solve_tri(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &A = n.src[0], &Bm = n.src[1], &X = n.dst;
  const int64_t nn = A.ne[0], kk = Bm.ne[0];
  constexpr int64_t CH = 64;
  const int64_t nchunks = (kk + CH - 1) / CH, nbatch = A.ne[2] * A.ne[3];
  int64_t w0, w1; split(nbatch * nchunks, ctx.ith, ctx.nth, w0, w1);
  for (int64_t w = w0; w < w1; w++) {
    const int64_t bi = w / nchunks, j0 = (w % nchunks) * CH, j1 = std::min(kk, j0 + CH);
    const int64_t b2 = bi % A.ne[2], b3 = bi / A.ne[2];
    const float* a = (const float*)row(A, 0, b2, b3);
    const float* bp = (const float*)row(Bm, 0, b2, b3);
    float* x = (float*)row(X, 0, b2, b3);
    for (int64_t r = 0; r < nn; r++) {
      float* xr = x + r * kk;
      for (int64_t j = j0; j < j1; j++) xr[j] = bp[r * kk + j];
      for (int64_t t = 0; t < r; t++) {
        const float art = a[t + r * nn];
        const float* xt = x + t * kk;
        for (int64_t j = j0; j < j1; j++) xr[j] -= art * xt[j];
      }
      const float inv = 1.f / a[r + r * nn];
      for (int64_t j = j0; j < j1; j++) xr[j] *= inv;
    }
  }
}

// Threads split the (token, channel) space. With 4 taps and contiguous windows (the usual causal conv) eight
// channels go at once: their windows multiplied as four 256-bit pairs, then summed with three hadds.
void k_ssm_conv(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &sx = n.src[0], &c = n.src[1], &d = n.dst;
  const int64_t C = d.ne[0], K = c.ne[0];
  const int64_t blocks = (C + 7) / 8, rows = d.ne[1] * d.ne[2];
  int64_t b0, b1; split(rows * blocks, ctx.ith, ctx.nth, b0, b1);
  const bool fast4 = K == 4 && sx.nb[0] == 4 && c.nb[0] == 4 && d.nb[0] == 4;
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t it = b0; it < b1; it++) {
    const int64_t r = it / blocks, ch0 = (it % blocks) * 8, ch1 = std::min(C, ch0 + 8);
    const int64_t t = r % d.ne[1], s = r / d.ne[1];
    float* y = (float*)row(d, t, s, 0);
    int64_t ch = ch0;
    if (fast4 && ch1 - ch0 == 8) {
      __m256 p[4];
      for (int q = 0; q < 4; q++) {
        const int64_t a = ch0 + 2 * q;
        const __m256 x = _mm256_set_m128(_mm_loadu_ps((const float*)(row(sx, a + 1, s, 0) + t * 4)),
                                         _mm_loadu_ps((const float*)(row(sx, a, s, 0) + t * 4)));
        const __m256 w = _mm256_set_m128(_mm_loadu_ps((const float*)row(c, a + 1, 0, 0)),
                                         _mm_loadu_ps((const float*)row(c, a, 0, 0)));
        p[q] = _mm256_mul_ps(x, w);
      }
      // [c0 c2 c4 c6 | c1 c3 c5 c7] → channel order
      const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(p[0], p[1]), _mm256_hadd_ps(p[2], p[3]));
      _mm256_storeu_ps(y + ch0, _mm256_permutevar8x32_ps(h, order));
      continue;
    }
    for (; ch < ch1; ch++) {
      const uint8_t* xp = row(sx, ch, s, 0) + t * sx.nb[0];
      const uint8_t* cp = row(c, ch, 0, 0);
      float acc = 0.f;
      for (int64_t j = 0; j < K; j++) acc += *(const float*)(xp + j * sx.nb[0]) * *(const float*)(cp + j * c.nb[0]);
      *(float*)((uint8_t*)y + ch * d.nb[0]) = acc;
    }
  }
}

// One delta-rule step on one state column held in registers (S = 8·NV floats): decay, read against k, correct by
// the delta, read against q. Returns the output element (unscaled).
template <int NV>
inline float gdn_column(const float* in, float* col, const float* kf, const float* qf, const float* gf, float gs,
                        float vb, float b) {
  __m256 c[NV];
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  const __m256 vgs = _mm256_set1_ps(gs);
#pragma GCC unroll 16
  for (int i = 0; i < NV; i++) {
    const __m256 dec = gf ? _mm256_loadu_ps(gf + 8 * i) : vgs;
    c[i] = _mm256_mul_ps(_mm256_loadu_ps(in + 8 * i), dec);
    if (i & 1) acc1 = _mm256_fmadd_ps(c[i], _mm256_loadu_ps(kf + 8 * i), acc1);
    else acc0 = _mm256_fmadd_ps(c[i], _mm256_loadu_ps(kf + 8 * i), acc0);
  }
  const float delta = b * (vb - hsum_f32_8(_mm256_add_ps(acc0, acc1)));
  const __m256 vdel = _mm256_set1_ps(delta);
  acc0 = _mm256_setzero_ps(); acc1 = _mm256_setzero_ps();
#pragma GCC unroll 16
  for (int i = 0; i < NV; i++) {
    c[i] = _mm256_fmadd_ps(_mm256_loadu_ps(kf + 8 * i), vdel, c[i]);
    _mm256_storeu_ps(col + 8 * i, c[i]);
    if (i & 1) acc1 = _mm256_fmadd_ps(c[i], _mm256_loadu_ps(qf + 8 * i), acc1);
    else acc0 = _mm256_fmadd_ps(c[i], _mm256_loadu_ps(qf + 8 * i), acc0);
  }
  return hsum_f32_8(_mm256_add_ps(acc0, acc1));
}

// One (value head, sequence) per work item; its S×S state stays hot in L1/L2 across all T steps and is updated
// in place inside dst. Column e of the state (contiguous over the key index d) is decayed, read against k,
// corrected by the delta and read against q in two fused passes.
void k_gated_delta_net(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &q = n.src[0], &k = n.src[1], &v = n.src[2], &g = n.src[3], &beta = n.src[4], &st0 = n.src[5];
  const int64_t S = q.ne[0], Hk = q.ne[1], T = q.ne[2], N = q.ne[3], Hv = v.ne[1];
  const int64_t rep = Hv / Hk;
  const bool kda = g.ne[0] != 1;
  const float scale = 1.f / std::sqrt((float)S);
  float* out = (float*)n.dst.data;
  float* qf = thread_scratch(ctx, 4 * (S + 8));
  float* kf = qf + S + 8;
  float* vf = kf + S + 8;
  float* gf = vf + S + 8;
  const int64_t nOut = S * Hv * T * N;
  int64_t w0, w1; split(Hv * N, ctx.ith, ctx.nth, w0, w1);
  for (int64_t w = w0; w < w1; w++) {
    const int64_t h = w % Hv, ns = w / Hv, hk = h / rep;
    float* st = out + nOut + S * S * (h + Hv * ns);
    // The first step reads the incoming state straight from its tensor (one pass fewer for decode, T = 1).
    const bool direct = st0.nb[0] == 4;
    if (!direct) for (int64_t e = 0; e < S; e++) read_row_f32(st0, row(st0, e, h, ns), st + e * S);
    for (int64_t t = 0; t < T; t++) {
      read_row_f32(q, row(q, hk, t, ns), qf);
      read_row_f32(k, row(k, hk, t, ns), kf);
      read_row_f32(v, row(v, h, t, ns), vf);
      const float b = *(const float*)at(beta, 0, h, t, ns);
      float gs = 0.f;
      if (kda) { read_row_f32(g, row(g, h, t, ns), gf); vec_exp(S, gf, gf); }
      else gs = std::exp(*(const float*)at(g, 0, h, t, ns));
      float* o = out + S * (h + Hv * (t + T * ns));
      if (S == 128 || S == 64) {
        const float* gp = kda ? gf : nullptr;
        for (int64_t e = 0; e < S; e++) {
          float* col = st + e * S;
          const float* in = t == 0 && direct ? (const float*)row(st0, e, h, ns) : col;
          o[e] = scale * (S == 128 ? gdn_column<16>(in, col, kf, qf, gp, gs, vf[e], b)
                                   : gdn_column<8>(in, col, kf, qf, gp, gs, vf[e], b));
        }
        continue;
      }
      for (int64_t e = 0; e < S; e++) {
        float* col = st + e * S;
        const float* in = t == 0 && direct ? (const float*)row(st0, e, h, ns) : col;
        int64_t d = 0;
        __m256 acc = _mm256_setzero_ps();
        const __m256 vgs = _mm256_set1_ps(gs);
        for (; d + 8 <= S; d += 8) {
          const __m256 dec = kda ? _mm256_loadu_ps(gf + d) : vgs;
          const __m256 c = _mm256_mul_ps(_mm256_loadu_ps(in + d), dec);
          _mm256_storeu_ps(col + d, c);
          acc = _mm256_fmadd_ps(c, _mm256_loadu_ps(kf + d), acc);
        }
        float sk = hsum_f32_8(acc);
        for (; d < S; d++) { col[d] = in[d] * (kda ? gf[d] : gs); sk += col[d] * kf[d]; }
        const float delta = b * (vf[e] - sk);
        const __m256 vdel = _mm256_set1_ps(delta);
        acc = _mm256_setzero_ps();
        d = 0;
        for (; d + 8 <= S; d += 8) {
          const __m256 c = _mm256_fmadd_ps(_mm256_loadu_ps(kf + d), vdel, _mm256_loadu_ps(col + d));
          _mm256_storeu_ps(col + d, c);
          acc = _mm256_fmadd_ps(c, _mm256_loadu_ps(qf + d), acc);
        }
        float oq = hsum_f32_8(acc);
        for (; d < S; d++) { col[d] += kf[d] * delta; oq += col[d] * qf[d]; }
        o[e] = oq * scale;
      }
    }
  }
}

}  // namespace

KernelFn kernel_delta(Node& n, int nth) {
  switch (n.op) {
    case OP_SOLVE_TRI: return k_solve_tri;
    case OP_SSM_CONV: return k_ssm_conv;
    case OP_GATED_DELTA_NET: n.wsize = scratch_bytes(4 * (n.src[0].ne[0] + 8), nth); return k_gated_delta_net;
    default: return nullptr;
  }
}

}  // namespace cpu
}  // namespace ggts
