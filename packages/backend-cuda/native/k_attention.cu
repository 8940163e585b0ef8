// SOFT_MAX (with mask and ALiBi), FLASH_ATTN_EXT (online softmax, any head sizes up to 2048/1024, so the MLA
// shape Dk=576, Dv=512 included) and ROPE (normal and neox, YaRN ramp, frequency factors).
#include <cmath>
#include <stdexcept>
#include "device.cuh"

namespace ggts_cuda {

namespace {

__device__ inline float alibi_slope(float max_bias, int64_t h, int64_t H) {
  if (max_bias <= 0.f) return 1.f;
  const float nh2 = exp2f(floorf(log2f((float)H)));
  const float m0 = exp2f(-max_bias / nh2), m1 = exp2f(-max_bias / 2.f / nh2);
  return (float)h < nh2 ? powf(m0, (float)(h + 1)) : powf(m1, (float)(2 * (h - (int64_t)nh2) + 1));
}

__device__ inline float mask_val(const TensorDesc& m, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  const char* p = elem_ptr(m, i0, i1, i2 % m.ne[2], i3 % m.ne[3]);
  return m.type == T_F16 ? f16_to_f32(*(const uint16_t*)p) : *(const float*)p;
}

// One block per row. dst may be a itself: pass 3 reads each element before overwriting it.
__global__ void k_soft_max(float* d, TensorDesc a, TensorDesc mask, bool has_mask, float scale, float max_bias) {
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  const int64_t i1 = r % a.ne[1], q = r / a.ne[1], i2 = q % a.ne[2], i3 = q / a.ne[2];
  const int64_t n = a.ne[0];
  const char* row = elem_ptr(a, 0, i1, i2, i3);
  const float slope = has_mask ? alibi_slope(max_bias, i2, a.ne[2]) : 0.f;
  auto val = [&](int64_t i) {
    float v = *(const float*)(row + i * a.nb[0]) * scale;
    if (has_mask) v += slope * mask_val(mask, i, i1, i2, i3);
    return v;
  };
  float mx = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) mx = fmaxf(mx, val(i));
  mx = block_max(mx, scratch);
  float sum = 0.f;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) { const float v = val(i); sum += v == -INFINITY ? 0.f : expf(v - mx); }
  sum = block_sum(sum, scratch);
  float* out = d + r * n;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) { const float v = val(i); out[i] = (v == -INFINITY ? 0.f : expf(v - mx)) / sum; }
}

__device__ inline float load_kv(int32_t type, const char* row, int64_t i) {
  switch (type) {
    case T_F32: return ((const float*)row)[i];
    case T_F16: return f16_to_f32(((const uint16_t*)row)[i]);
    case T_BF16: return bf16_to_f32(((const uint16_t*)row)[i]);
    default: {  // Q8_0
      const uint8_t* b = (const uint8_t*)row + (i >> 5) * 34;
      const float dd = f16_to_f32((uint16_t)(b[0] | (b[1] << 8)));
      return (float)(int8_t)b[2 + (i & 31)] * dd;
    }
  }
}

constexpr int FA_WARPS = 4;
constexpr int FA_MAXV = 32;  // value elements per lane: Dv <= 1024

// grid (n_q, H, B): each warp walks every FA_WARPS-th key with its own running max/sum/accumulator, then the
// block merges the warps' partial results.
__global__ void __launch_bounds__(FA_WARPS * 32) k_flash_attn(float* d, TensorDesc q, TensorDesc k, TensorDesc v, TensorDesc mask,
                                                              bool has_mask, float scale, float max_bias, float softcap) {
  extern __shared__ float fsh[];
  const int64_t Dk = q.ne[0], Dv = v.ne[0], nkv = k.ne[1], H = q.ne[2];
  float* sq = fsh;                       // Dk
  float* sacc = fsh + Dk;                // FA_WARPS * Dv
  float* sm = sacc + FA_WARPS * Dv;      // FA_WARPS
  float* sl = sm + FA_WARPS;             // FA_WARPS
  const int64_t iq = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int64_t hk = h / (H / k.ne[2]);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int64_t i = threadIdx.x; i < Dk; i += blockDim.x) sq[i] = *(const float*)elem_ptr(q, i, iq, h, b);
  __syncthreads();
  const float slope = has_mask ? alibi_slope(max_bias, h, H) : 0.f;
  float m = -INFINITY, l = 0.f;
  float acc[FA_MAXV];
#pragma unroll
  for (int t = 0; t < FA_MAXV; t++) acc[t] = 0.f;
  for (int64_t j = warp; j < nkv; j += FA_WARPS) {
    float s = 0.f;
    if (has_mask) {
      const float mv = mask_val(mask, j, iq, h, b);
      if (mv == -INFINITY) continue;  // contributes exp(-inf) = 0
    }
    const char* krow = elem_ptr(k, 0, j, hk, b);
    for (int64_t i = lane; i < Dk; i += 32) s += sq[i] * load_kv(k.type, krow, i);
    s = warp_sum(s) * scale;
    if (softcap != 0.f) s = softcap * tanhf(s / softcap);
    if (has_mask) s += slope * mask_val(mask, j, iq, h, b);
    if (s == -INFINITY) continue;
    const float mn = fmaxf(m, s);
    const float corr = expf(m - mn);  // m = -inf on the first key: corr = 0
    const float p = expf(s - mn);
    l = l * corr + p;
    const char* vrow = elem_ptr(v, 0, j, hk, b);
#pragma unroll
    for (int t = 0; t < FA_MAXV; t++) {
      const int64_t e = (int64_t)t * 32 + lane;
      if (e < Dv) acc[t] = acc[t] * corr + p * load_kv(v.type, vrow, e);
    }
    m = mn;
  }
#pragma unroll
  for (int t = 0; t < FA_MAXV; t++) {
    const int64_t e = (int64_t)t * 32 + lane;
    if (e < Dv) sacc[warp * Dv + e] = acc[t];
  }
  if (lane == 0) { sm[warp] = m; sl[warp] = l; }
  __syncthreads();
  float M = -INFINITY;
  for (int w = 0; w < FA_WARPS; w++) M = fmaxf(M, sm[w]);
  float L = 0.f, wt[FA_WARPS];
  for (int w = 0; w < FA_WARPS; w++) { wt[w] = sm[w] == -INFINITY ? 0.f : expf(sm[w] - M); L += sl[w] * wt[w]; }
  float* out = d + Dv * (h + H * (iq + q.ne[1] * b));
  for (int64_t e = threadIdx.x; e < Dv; e += blockDim.x) {
    float o = 0.f;
    for (int w = 0; w < FA_WARPS; w++) o += sacc[w * Dv + e] * wt[w];
    out[e] = o / L;
  }
}

struct RopeArgs {
  int64_t nd;
  bool neox;
  double base, freq_scale, ext_factor, attn_factor, corr0, corr1;
};

// One thread per rotated pair or copied tail element of each row (h, t, b).
__global__ void k_rope(float* d, TensorDesc a, TensorDesc pos, TensorDesc ff, bool has_ff, RopeArgs r, int64_t total) {
  const int64_t D = a.ne[0];
  const int64_t per_row = r.nd / 2 + (D - r.nd);
  GRID_LOOP(k, total) {
    const int64_t slot = k % per_row;
    int64_t row = k / per_row;
    const int64_t h = row % a.ne[1]; row /= a.ne[1];
    const int64_t t = row % a.ne[2], b = row / a.ne[2];
    const char* src = elem_ptr(a, 0, h, t, b);
    float* out = d + ((b * a.ne[2] + t) * a.ne[1] + h) * D;
    if (slot >= r.nd / 2) {
      const int64_t i = r.nd + (slot - r.nd / 2);
      out[i] = *(const float*)(src + i * a.nb[0]);
      continue;
    }
    const int64_t i = slot, i0 = 2 * i;
    const double position = (double)*(const int32_t*)(pos.data + t * pos.nb[0]);
    double theta_extrap = position * pow(r.base, -(double)i0 / (double)r.nd);
    if (has_ff) theta_extrap /= (double)*(const float*)(ff.data + i * ff.nb[0]);
    const double theta_interp = r.freq_scale * theta_extrap;
    double theta = theta_interp, mscale = r.attn_factor;
    if (r.ext_factor != 0.0) {
      const double y = ((double)i0 / 2 - r.corr0) / fmax(0.001, r.corr1 - r.corr0);
      const double mix = (1 - fmin(1.0, fmax(0.0, y))) * r.ext_factor;
      theta = theta_interp * (1 - mix) + theta_extrap * mix;
      mscale *= 1 + 0.1 * log(1 / r.freq_scale);
    }
    double sn, cs;
    sincos(theta, &sn, &cs);
    const float c = (float)(cs * mscale), s = (float)(sn * mscale);
    const int64_t ia = r.neox ? i : i0, ib = r.neox ? i + r.nd / 2 : i0 + 1;
    const float xa = *(const float*)(src + ia * a.nb[0]), xb = *(const float*)(src + ib * a.nb[0]);
    out[ia] = xa * c - xb * s;
    out[ib] = xa * s + xb * c;
  }
}

void check(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace

size_t flash_attn_smem(const Node& n) {
  return (size_t)(n.src[0].ne[0] + FA_WARPS * n.src[2].ne[0] + 2 * FA_WARPS) * sizeof(float);
}

void launch_attention(const Node& n, const ExecCtx& ctx) {
  const TensorDesc& d = n.dst;
  const TensorDesc* s = n.src;
  cudaStream_t st = ctx.stream;
  switch (n.op) {
    case OP_SOFT_MAX: {
      const int64_t rows = s[0].ne[1] * s[0].ne[2] * s[0].ne[3];
      if (rows > 0x7fffffff) throw std::runtime_error("cuda: SOFT_MAX: too many rows");
      const int64_t n0 = s[0].ne[0];
      const int threads = n0 >= 1024 ? 1024 : n0 >= 256 ? 256 : n0 > 32 ? 128 : 32;
      const TensorDesc none{};
      k_soft_max<<<(unsigned)rows, threads, 0, st>>>((float*)d.data, s[0], n.nsrc > 1 ? s[1] : none, n.nsrc > 1,
                                                      (float)n.p[0], (float)n.p[1]);
      check("SOFT_MAX");
      return;
    }
    case OP_FLASH_ATTN_EXT: {
      const TensorDesc none{};
      const size_t shm = flash_attn_smem(n);
      if (shm > (size_t)ctx.max_smem_optin) throw std::runtime_error("cuda: FLASH_ATTN_EXT: head sizes need too much shared memory");
      if (s[0].ne[1] > 0x7fffffff || s[0].ne[2] > 65535 || s[0].ne[3] > 65535) throw std::runtime_error("cuda: FLASH_ATTN_EXT: grid too large");
      k_flash_attn<<<dim3((unsigned)s[0].ne[1], (unsigned)s[0].ne[2], (unsigned)s[0].ne[3]), FA_WARPS * 32, shm, st>>>(
          (float*)d.data, s[0], s[1], s[2], n.nsrc > 3 ? s[3] : none, n.nsrc > 3, (float)n.p[0], (float)n.p[1], (float)n.p[2]);
      check("FLASH_ATTN_EXT");
      return;
    }
    case OP_ROPE: {
      RopeArgs r{};
      r.nd = (int64_t)n.p[0];
      r.neox = n.p[1] == 2;
      const double n_ctx_orig = n.p[2];
      r.base = n.p[3]; r.freq_scale = n.p[4]; r.ext_factor = n.p[5]; r.attn_factor = n.p[6];
      const double beta_fast = n.p[7], beta_slow = n.p[8];
      auto corr = [&](double n_rot) { return ((double)r.nd * std::log(n_ctx_orig / (n_rot * 2 * M_PI))) / (2 * std::log(r.base)); };
      r.corr0 = std::max(0.0, std::floor(corr(beta_fast)));
      r.corr1 = std::min((double)r.nd - 1, std::ceil(corr(beta_slow)));
      const int64_t D = s[0].ne[0];
      const int64_t total = (r.nd / 2 + (D - r.nd)) * s[0].ne[1] * s[0].ne[2] * s[0].ne[3];
      const TensorDesc none{};
      k_rope<<<grid_for(total, 256), 256, 0, st>>>((float*)d.data, s[0], s[1], n.nsrc > 2 ? s[2] : none, n.nsrc > 2, r, total);
      check("ROPE");
      return;
    }
    default: throw std::runtime_error("cuda: launch_attention given a foreign op");
  }
}

}  // namespace ggts_cuda
