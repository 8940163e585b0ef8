// Delta-net family: SOLVE_TRI (forward substitution), SSM_CONV (depthwise causal conv) and the fused
// GATED_DELTA_NET: one block per (value head, sequence), one thread per value channel e, the S x S state in
// shared memory as st[d * S + e] so that a warp's threads touch consecutive words.
#include <stdexcept>
#include "device.cuh"

namespace ggts_cuda {

namespace {

// One thread per (column j of B, batch): X[:, j] by forward substitution; X is written into dst.
__global__ void k_solve_tri(float* X, TensorDesc A, TensorDesc B, int64_t total) {
  const int64_t n = A.ne[0], kk = B.ne[0];
  GRID_LOOP(w, total) {
    const int64_t j = w % kk, batch = w / kk;
    const float* a = (const float*)A.data + batch * n * n;
    const float* b = (const float*)B.data + batch * n * kk;
    float* x = X + batch * n * kk;
    for (int64_t r = 0; r < n; r++) {
      float s = b[j + r * kk];
      for (int64_t t = 0; t < r; t++) s -= a[t + r * n] * x[j + t * kk];
      x[j + r * kk] = s / a[r + r * n];
    }
  }
}

__global__ void k_ssm_conv(float* d, TensorDesc sx, TensorDesc c, int64_t C, int64_t T, int64_t total) {
  const int64_t K = c.ne[0];
  GRID_LOOP(k, total) {
    const int64_t ch = k % C, t = (k / C) % T, s = k / (C * T);
    float acc = 0.f;
    for (int64_t j = 0; j < K; j++) acc += *(const float*)elem_ptr(sx, t + j, ch, s, 0) * *(const float*)elem_ptr(c, j, ch, 0, 0);
    d[k] = acc;
  }
}

struct GdnArgs { TensorDesc q, k, v, g, beta, state; int64_t S, Hk, Hv, T, N; };

// grid (Hv, N), block S threads, dynamic shared (S*S + 3*S) floats.
__global__ void k_gated_delta_net(float* out, GdnArgs a) {
  extern __shared__ float gsh[];
  const int64_t S = a.S;
  float* st = gsh;            // st[d*S + e] = state[d][e]
  float* sk = st + S * S;
  float* sq = sk + S;
  float* sg = sq + S;         // exp(g) per key channel (or one value broadcast)
  const int64_t h = blockIdx.x, ns = blockIdx.y;
  const int64_t hk = h / (a.Hv / a.Hk);
  const int e = threadIdx.x;
  const bool kda = a.g.ne[0] != 1;
  const float scale = rsqrtf((float)S);
  for (int64_t idx = e; idx < S * S; idx += blockDim.x) {
    const int64_t d = idx % S, col = idx / S;
    st[d * S + col] = *(const float*)elem_ptr(a.state, d, col, h, ns);
  }
  const int64_t nOut = S * a.Hv * a.T * a.N;
  for (int64_t t = 0; t < a.T; t++) {
    __syncthreads();  // previous step done with sk/sq/sg (and the state load finished)
    sk[e] = *(const float*)elem_ptr(a.k, e, hk, t, ns);
    sq[e] = *(const float*)elem_ptr(a.q, e, hk, t, ns);
    if (kda) sg[e] = expf(*(const float*)elem_ptr(a.g, e, h, t, ns));
    else if (e == 0) sg[0] = expf(*(const float*)elem_ptr(a.g, 0, h, t, ns));
    __syncthreads();
    const float b = *(const float*)elem_ptr(a.beta, 0, h, t, ns);
    const float ve = *(const float*)elem_ptr(a.v, e, h, t, ns);
    float skv = 0.f;
    for (int64_t d = 0; d < S; d++) {
      const float x = st[d * S + e] * (kda ? sg[d] : sg[0]);
      st[d * S + e] = x;
      skv += x * sk[d];
    }
    const float delta = b * (ve - skv);
    float acc = 0.f;
    for (int64_t d = 0; d < S; d++) {
      const float x = st[d * S + e] + sk[d] * delta;
      st[d * S + e] = x;
      acc += x * sq[d];
    }
    out[S * (h + a.Hv * (t + a.T * ns)) + e] = acc * scale;
  }
  __syncthreads();
  float* so = out + nOut + S * S * (h + a.Hv * ns);
  for (int64_t idx = e; idx < S * S; idx += blockDim.x) {
    const int64_t d = idx % S, col = idx / S;
    so[d + col * S] = st[d * S + col];
  }
}

void check(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace

void configure_kernels(const ExecCtx& ctx) {
  cudaFuncSetAttribute(k_gated_delta_net, cudaFuncAttributeMaxDynamicSharedMemorySize, ctx.max_smem_optin);
  cudaGetLastError();
}

void launch_delta(const Node& n, const ExecCtx& ctx) {
  const TensorDesc& d = n.dst;
  const TensorDesc* s = n.src;
  cudaStream_t st = ctx.stream;
  switch (n.op) {
    case OP_SOLVE_TRI: {
      const int64_t total = s[1].ne[0] * s[1].ne[2] * s[1].ne[3];
      k_solve_tri<<<grid_for(total, 128), 128, 0, st>>>((float*)d.data, s[0], s[1], total);
      check("SOLVE_TRI");
      return;
    }
    case OP_SSM_CONV: {
      const int64_t C = d.ne[0], T = d.ne[1], total = nelements(d);
      k_ssm_conv<<<grid_for(total, 256), 256, 0, st>>>((float*)d.data, s[0], s[1], C, T, total);
      check("SSM_CONV");
      return;
    }
    case OP_GATED_DELTA_NET: {
      GdnArgs a{s[0], s[1], s[2], s[3], s[4], s[5], s[0].ne[0], s[0].ne[1], s[2].ne[1], s[0].ne[2], s[0].ne[3]};
      const size_t shm = (size_t)(a.S * a.S + 3 * a.S) * sizeof(float);
      if (shm > (size_t)ctx.max_smem_optin) throw std::runtime_error("cuda: GATED_DELTA_NET: state of head size " + std::to_string(a.S) + " does not fit in shared memory");
      if (a.Hv > 0x7fffffff || a.N > 65535) throw std::runtime_error("cuda: GATED_DELTA_NET: grid too large");
      if (a.Hv == 0 || a.N == 0) return;
      k_gated_delta_net<<<dim3((unsigned)a.Hv, (unsigned)a.N), (unsigned)a.S, shm, st>>>((float*)d.data, a);
      check("GATED_DELTA_NET");
      return;
    }
    default: throw std::runtime_error("cuda: launch_delta given a foreign op");
  }
}

}  // namespace ggts_cuda
