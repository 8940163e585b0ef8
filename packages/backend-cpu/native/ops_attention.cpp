// SOFT_MAX (scale, mask, ALiBi), FLASH_ATTN_EXT (online softmax, K/V f32/f16/bf16/q8_0) and ROPE (normal, NeoX,
// YaRN, frequency factors).
#include <algorithm>
#include <cmath>
#include <vector>
#include "ops.h"
#include "vec_math.h"

namespace ggts {
namespace cpu {

namespace {

float alibi_slope(double max_bias, int64_t h, int64_t H) {
  if (max_bias <= 0) return 1.f;
  const double nh2 = std::exp2(std::floor(std::log2((double)H)));
  const double m0 = std::exp2(-max_bias / nh2), m1 = std::exp2(-max_bias / 2 / nh2);
  return (float)(h < nh2 ? std::pow(m0, h + 1) : std::pow(m1, 2 * (h - nh2) + 1));
}

void k_soft_max(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &d = n.dst;
  const TensorDesc* mask = n.nsrc > 1 ? &n.src[1] : nullptr;
  const float scale = (float)n.p[0];
  const int64_t ne0 = a.ne[0];
  float* buf = thread_scratch(ctx, ne0);
  int64_t r0, r1; split(nrows(a), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(a, r, i1, i2, i3);
    const float slope = alibi_slope(n.p[1], i2, a.ne[2]);
    read_row_f32(a, row(a, i1, i2, i3), buf);
    if (mask) {
      const uint8_t* mp = row(*mask, i1, i2 % mask->ne[2], i3 % mask->ne[3]);
      if (mask->type == T_F32 && mask->nb[0] == 4) {
        const float* m = (const float*)mp;
        for (int64_t i = 0; i < ne0; i++) buf[i] = buf[i] * scale + slope * m[i];
      } else {
        for (int64_t i = 0; i < ne0; i++) buf[i] = buf[i] * scale + slope * load_elem(mask->type, mp + i * mask->nb[0]);
      }
    } else if (scale != 1.f) {
      for (int64_t i = 0; i < ne0; i++) buf[i] *= scale;
    }
    float* y = (float*)row(d, i1, i2, i3);
    const float mx = vec_max(ne0, buf);
    const float sum = vec_exp_sub_sum(ne0, buf, mx, y);
    const float inv = 1.f / sum;
    for (int64_t i = 0; i < ne0; i++) y[i] *= inv;
  }
}

inline float dot_f32(const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  float s = hsum_f32_8(acc);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// Query rows sharing a KV head (GQA group × positions) are processed in tiles of FA_TILE rows against blocks of
// FA_KB keys: each K/V row is converted to f32 once per tile, and the softmax weights of a block come from one
// vector exp. Every row keeps its own online-softmax state (running max M, sum S, accumulator).
constexpr int FA_TILE = 8;
constexpr int FA_KB = 8;

void k_flash_attn(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &q = n.src[0], &k = n.src[1], &v = n.src[2], &d = n.dst;
  const TensorDesc* mask = n.nsrc > 3 ? &n.src[3] : nullptr;
  const float scale = (float)n.p[0], softcap = (float)n.p[2];
  const int64_t Dk = q.ne[0], nq = q.ne[1], H = q.ne[2], B = q.ne[3], Dv = v.ne[0], nkv = k.ne[1];
  const int64_t Hkv = k.ne[2], rep = H / Hkv;
  const int64_t rows_per_group = nq * rep, tiles = (rows_per_group + FA_TILE - 1) / FA_TILE;
  const int64_t dk8 = (Dk + 7) & ~int64_t(7), dv8 = (Dv + 7) & ~int64_t(7);
  float* qf = thread_scratch(ctx, (FA_TILE + FA_KB) * (dk8 + dv8) + 64);
  float* acc = qf + FA_TILE * dk8;
  float* kb = acc + FA_TILE * dv8;
  float* vb = kb + FA_KB * dk8;
  const bool k_direct = k.type == T_F32 && k.nb[0] == 4, v_direct = v.type == T_F32 && v.nb[0] == 4;
  int64_t w0, w1; split(B * Hkv * tiles, ctx.ith, ctx.nth, w0, w1);
  for (int64_t w = w0; w < w1; w++) {
    const int64_t tile = w % tiles, hk = (w / tiles) % Hkv, b = w / tiles / Hkv;
    const int64_t r0 = tile * FA_TILE, nr = std::min<int64_t>(FA_TILE, rows_per_group - r0);
    int64_t hs[FA_TILE], iqs[FA_TILE];
    float M[FA_TILE], S[FA_TILE], slope[FA_TILE];
    const uint8_t* mrow[FA_TILE];
    for (int64_t r = 0; r < nr; r++) {
      const int64_t g = r0 + r;
      iqs[r] = g / rep; hs[r] = hk * rep + g % rep;
      slope[r] = alibi_slope(n.p[1], hs[r], H);
      read_row_f32(q, row(q, iqs[r], hs[r], b), qf + r * dk8);
      mrow[r] = mask ? row(*mask, iqs[r], hs[r] % mask->ne[2], b % mask->ne[3]) : nullptr;
      M[r] = -INFINITY; S[r] = 0.f;
      for (int64_t e = 0; e < Dv; e++) acc[r * dv8 + e] = 0.f;
    }
    for (int64_t j0 = 0; j0 < nkv; j0 += FA_KB) {
      const int nk = (int)std::min<int64_t>(FA_KB, nkv - j0);
      const float* kr[FA_KB];
      const float* vr[FA_KB];
      bool k_ready = false, v_ready = false;
      for (int64_t r = 0; r < nr; r++) {
        alignas(32) float sc[FA_KB];
        bool any = false;
        for (int jj = 0; jj < FA_KB; jj++) {
          sc[jj] = -INFINITY;
          if (jj >= nk) continue;
          float mv = 0.f;
          if (mrow[r]) {
            mv = load_elem(mask->type, mrow[r] + (j0 + jj) * mask->nb[0]);
            if (mv == -INFINITY) continue;
          }
          if (!k_ready) {
            for (int t = 0; t < nk; t++) {
              const uint8_t* kp = row(k, j0 + t, hk, b);
              if (k_direct) kr[t] = (const float*)kp;
              else { read_row_f32(k, kp, kb + t * dk8); kr[t] = kb + t * dk8; }
            }
            k_ready = true;
          }
          float x = dot_f32(qf + r * dk8, kr[jj], Dk) * scale;
          if (softcap != 0.f) x = softcap * std::tanh(x / softcap);
          x += slope[r] * mv;
          sc[jj] = x;
          any |= x != -INFINITY;
        }
        if (!any) continue;
        float mb = sc[0];
        for (int jj = 1; jj < FA_KB; jj++) mb = std::max(mb, sc[jj]);
        const float mnew = std::max(M[r], mb);
        const float c = std::exp(M[r] - mnew);  // 0 on the first block (M = -inf)
        alignas(32) float wt[FA_KB];
        _mm256_store_ps(wt, exp256(_mm256_sub_ps(_mm256_load_ps(sc), _mm256_set1_ps(mnew))));
        M[r] = mnew;
        float ws = 0.f;
        for (int jj = 0; jj < FA_KB; jj++) ws += wt[jj];
        S[r] = S[r] * c + ws;
        if (!v_ready) {
          for (int t = 0; t < nk; t++) {
            const uint8_t* vp = row(v, j0 + t, hk, b);
            if (v_direct) vr[t] = (const float*)vp;
            else { read_row_f32(v, vp, vb + t * dv8); vr[t] = vb + t * dv8; }
          }
          v_ready = true;
        }
        float* a = acc + r * dv8;
        for (int64_t e = 0; e < Dv; e++) a[e] *= c;
        for (int jj = 0; jj < nk; jj++) {
          if (wt[jj] == 0.f) continue;
          const float wj = wt[jj];
          const float* vv = vr[jj];
          for (int64_t e = 0; e < Dv; e++) a[e] += wj * vv[e];
        }
      }
    }
    for (int64_t r = 0; r < nr; r++) {
      float* y = (float*)row(d, hs[r], iqs[r], b);
      const float inv = S[r] == 0.f ? 0.f : 1.f / S[r];
      for (int64_t e = 0; e < Dv; e++) y[e] = acc[r * dv8 + e] * inv;
    }
  }
}

void k_rope(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &pos = n.src[1], &d = n.dst;
  const TensorDesc* ff = n.nsrc > 2 ? &n.src[2] : nullptr;
  const int64_t nd = (int64_t)n.p[0];
  const bool neox = n.p[1] == 2;
  const double n_ctx_orig = n.p[2], base = n.p[3], freq_scale = n.p[4], ext = n.p[5], attn = n.p[6];
  const double beta_fast = n.p[7], beta_slow = n.p[8];
  auto corr = [&](double nrot) { return nd * std::log(n_ctx_orig / (nrot * 2 * M_PI)) / (2 * std::log(base)); };
  const double c0 = std::max(0.0, std::floor(corr(beta_fast)));
  const double c1 = std::min((double)(nd - 1), std::ceil(corr(beta_slow)));
  const int64_t half = nd / 2;
  float* cs = thread_scratch(ctx, 2 * half + 8);
  float* sn = cs + half + 4;
  int64_t cached_t = -1;
  const int64_t ne0 = a.ne[0];
  int64_t r0, r1; split(nrows(a), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t h, t, b; unravel_row(a, r, h, t, b);
    if (t != cached_t) {
      cached_t = t;
      const double p = *(const int32_t*)at(pos, t, 0, 0, 0);
      for (int64_t i = 0; i < half; i++) {
        const double i0 = 2.0 * i;
        const double fval = ff ? (double)*(const float*)at(*ff, i, 0, 0, 0) : 1.0;
        const double extrap = p * std::pow(base, -i0 / nd) / fval;
        const double interp = freq_scale * extrap;
        double theta = interp, mscale = attn;
        if (ext != 0) {
          const double y = (i0 / 2 - c0) / std::max(0.001, c1 - c0);
          const double mix = (1 - std::min(1.0, std::max(0.0, y))) * ext;
          theta = interp * (1 - mix) + extrap * mix;
          mscale *= 1 + 0.1 * std::log(1 / freq_scale);
        }
        cs[i] = (float)(std::cos(theta) * mscale);
        sn[i] = (float)(std::sin(theta) * mscale);
      }
    }
    const uint8_t* xp = row(a, h, t, b);
    float* y = (float*)row(d, h, t, b);
    auto X = [&](int64_t i) { return *(const float*)(xp + i * a.nb[0]); };
    for (int64_t i = 0; i < half; i++) {
      const int64_t ia = neox ? i : 2 * i, ib = neox ? i + half : 2 * i + 1;
      const float xa = X(ia), xb = X(ib);
      y[ia] = xa * cs[i] - xb * sn[i];
      y[ib] = xa * sn[i] + xb * cs[i];
    }
    if ((const uint8_t*)y != xp || a.nb[0] != 4)
      for (int64_t i = nd; i < ne0; i++) y[i] = X(i);
  }
}

}  // namespace

KernelFn kernel_attention(Node& n, int nth) {
  switch (n.op) {
    case OP_SOFT_MAX: n.wsize = scratch_bytes(n.src[0].ne[0], nth); return k_soft_max;
    case OP_FLASH_ATTN_EXT: {
      const size_t dk8 = (n.src[0].ne[0] + 7) & ~7, dv8 = (n.src[2].ne[0] + 7) & ~7;
      n.wsize = scratch_bytes((FA_TILE + FA_KB) * (dk8 + dv8) + 64, nth);
      return k_flash_attn;
    }
    case OP_ROPE: n.wsize = scratch_bytes(n.p[0] + 8, nth); return k_rope;
    default: return nullptr;
  }
}

}  // namespace cpu
}  // namespace ggts
