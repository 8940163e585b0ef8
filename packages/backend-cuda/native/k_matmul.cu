// Matrix products: MUL_MAT and MUL_MAT_ID for every readable weight type (dequantised in the kernel),
// OUT_PROD. Two kernel shapes, both f32 throughout (weights dequantised exactly, activations never rounded):
//  - mat-vec: one warp per output row, for few columns (token generation);
//  - 64x64 f32 tiles on CUDA cores, for prompt batches. Measured on an H200 (Kimi-Linear dims, Q4_K_M, pp512):
//    8465 t/s, against 9243 for f16 tensor-core tiles (≈1e-3 relative error, past the 1e-4 logit budget) and
//    5831 for the 3xTF32 tensor-core tiles kept below (opt-in, f32 accuracy): tile loads bound these kernels.
// MUL_MAT_ID routes (slot, token) pairs to experts on the device, then runs the tiled kernel per expert.
#include <mma.h>
#include <cstdlib>
#include <stdexcept>
#include "quant.cuh"

namespace ggts_cuda {

namespace {

constexpr int MV_WARPS = 4;   // rows per mat-vec block
constexpr int MV_COLS = 8;    // columns per mat-vec block
constexpr int BM = 64, BN = 64, BK = 32;

struct MMArgs {
  TensorDesc a, b;
  float* d;
  int64_t K, N;
  // MUL_MAT: columns M per batch, batch dims of b and the broadcast ratios.
  int64_t M, B2, r2, r3;
  // MUL_MAT_ID: experts routing (device arrays in the workspace), slots per token.
  bool id;
  int64_t kk;
  const int* cnt;
  const int* off;
  const int* list;
};

__device__ inline int64_t cols_of(const MMArgs& g, int z) { return g.id ? g.cnt[z] : g.M; }

__device__ inline const char* a_base(const MMArgs& g, int z) {
  if (g.id) return g.a.data + (int64_t)z * g.a.nb[2];
  const int64_t i2 = z % g.B2, i3 = z / g.B2;
  return g.a.data + (i2 / g.r2) * g.a.nb[2] + (i3 / g.r3) * g.a.nb[3];
}

// Column j of batch/expert z: where its b vector starts and where its output column goes.
__device__ inline void col_ptrs(const MMArgs& g, int z, int64_t j, const char*& bcol, float*& ocol) {
  if (g.id) {
    const int64_t p = g.list[g.off[z] + j];
    const int64_t s = p % g.kk, t = p / g.kk;
    bcol = g.b.data + (s % g.b.ne[1]) * g.b.nb[1] + t * g.b.nb[2];
    ocol = g.d + (s + g.kk * t) * g.N;
  } else {
    const int64_t i2 = z % g.B2, i3 = z / g.B2;
    bcol = g.b.data + j * g.b.nb[1] + i2 * g.b.nb[2] + i3 * g.b.nb[3];
    ocol = g.d + ((i3 * g.B2 + i2) * g.M + j) * g.N;
  }
}

__device__ inline float bval(const MMArgs& g, const char* bcol, int64_t k) { return *(const float*)(bcol + k * g.b.nb[0]); }

// Partial dot of one a row with up to MV_COLS b columns, this lane's share; plain types go element by element,
// block types chunk by chunk.
template <int NC>
__device__ inline void row_dot(const MMArgs& g, const char* arow, const char* const* bcols, int ncols, float* acc) {
  const int lane = threadIdx.x & 31;
  const int32_t ty = g.a.type;
  if (block_size_dev(ty) == 1) {
    const int ts = type_size_dev(ty);
    for (int64_t k = lane; k < g.K; k += 32) {
      const float x = load_plain(ty, arow + k * ts);
#pragma unroll
      for (int c = 0; c < NC; c++) if (c < ncols) acc[c] += x * bval(g, bcols[c], k);
    }
  } else {
    float w[32];
    for (int64_t ch = lane; ch < g.K / 32; ch += 32) {
      dequant_chunk(ty, arow, ch, w);
#pragma unroll
      for (int c = 0; c < NC; c++) {
        if (c < ncols) {
          float s = 0.f;
          for (int i = 0; i < 32; i++) s += w[i] * bval(g, bcols[c], ch * 32 + i);
          acc[c] += s;
        }
      }
    }
  }
}

// grid (ceil(N / MV_WARPS), ceil(M / MV_COLS), batches)
__global__ void k_mmv(MMArgs g) {
  const int z = blockIdx.z;
  const int64_t n = (int64_t)blockIdx.x * MV_WARPS + threadIdx.x / 32;
  const int64_t j0 = (int64_t)blockIdx.y * MV_COLS;
  if (n >= g.N) return;
  const int ncols = (int)min((int64_t)MV_COLS, g.M - j0);
  const char* bcols[MV_COLS];
  float* ocols[MV_COLS];
  for (int c = 0; c < MV_COLS; c++) { bcols[c] = nullptr; ocols[c] = nullptr; if (c < ncols) col_ptrs(g, z, j0 + c, bcols[c], ocols[c]); }
  float acc[MV_COLS] = {};
  row_dot<MV_COLS>(g, a_base(g, z) + n * g.a.nb[1], bcols, ncols, acc);
  for (int c = 0; c < ncols; c++) {
    const float s = warp_sum(acc[c]);
    if ((threadIdx.x & 31) == 0) ocols[c][n] = s;
  }
}

// MUL_MAT_ID for few tokens: grid (ceil(N / MV_WARPS), pairs); ids read directly.
__global__ void k_mmv_id(MMArgs g, TensorDesc ids, int* err, int record) {
  const int64_t n = (int64_t)blockIdx.x * MV_WARPS + threadIdx.x / 32;
  const int64_t p = blockIdx.y;
  if (n >= g.N) return;
  const int64_t s = p % g.kk, t = p / g.kk;
  const int64_t e = *(const int32_t*)elem_ptr(ids, s, t, 0, 0);
  float* ocol = g.d + (s + g.kk * t) * g.N;
  if (e < 0 || e >= g.a.ne[2]) {
    if ((threadIdx.x & 31) == 0) { report_error(err, record, KE_EXPERT_ID, e); ocol[n] = 0.f; }
    return;
  }
  const char* bcol = g.b.data + (s % g.b.ne[1]) * g.b.nb[1] + t * g.b.nb[2];
  float acc[1] = {0.f};
  row_dot<1>(g, g.a.data + e * g.a.nb[2] + n * g.a.nb[1], &bcol, 1, acc);
  const float sum = warp_sum(acc[0]);
  if ((threadIdx.x & 31) == 0) ocol[n] = sum;
}

// Buckets the (slot, token) pairs by expert: cnt[E], off[E], list[pairs]. One block.
__global__ void k_route(TensorDesc ids, int64_t E, int64_t kk, int64_t T, int* cnt, int* off, int* list, int* err, int record) {
  extern __shared__ int sh[];
  int* c = sh;
  int* cur = sh + E;
  for (int64_t e = threadIdx.x; e < E; e += blockDim.x) c[e] = 0;
  __syncthreads();
  const int64_t pairs = kk * T;
  for (int64_t p = threadIdx.x; p < pairs; p += blockDim.x) {
    const int64_t e = *(const int32_t*)elem_ptr(ids, p % kk, p / kk, 0, 0);
    if (e < 0 || e >= E) { report_error(err, record, KE_EXPERT_ID, e); continue; }
    atomicAdd(&c[e], 1);
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int acc = 0;
    for (int64_t e = 0; e < E; e++) { cur[e] = acc; off[e] = acc; cnt[e] = c[e]; acc += c[e]; }
  }
  __syncthreads();
  for (int64_t p = threadIdx.x; p < pairs; p += blockDim.x) {
    const int64_t e = *(const int32_t*)elem_ptr(ids, p % kk, p / kk, 0, 0);
    if (e < 0 || e >= E) continue;
    list[atomicAdd(&cur[e], 1)] = (int)p;
  }
}

// Loads the BM x BK tile of a at (n0, k0) through put(r, kk, value); rows past N read as zero.
template <typename Put>
__device__ inline void load_a_tile(const MMArgs& g, const char* abase, int64_t n0, int64_t k0, Put put) {
  const int32_t ty = g.a.type;
  if (block_size_dev(ty) == 1) {
    const int ts = type_size_dev(ty);
    for (int e = threadIdx.x; e < BM * BK; e += blockDim.x) {
      const int r = e / BK, kk = e % BK;
      const int64_t n = n0 + r, k = k0 + kk;
      put(r, kk, n < g.N && k < g.K ? load_plain(ty, abase + n * g.a.nb[1] + k * ts) : 0.f);
    }
  } else {
    for (int r = threadIdx.x; r < BM; r += blockDim.x) {
      const int64_t n = n0 + r;
      float w[32];
      if (n < g.N) dequant_chunk(ty, abase + n * g.a.nb[1], k0 / 32, w);
      else for (int i = 0; i < 32; i++) w[i] = 0.f;
      for (int i = 0; i < 32; i++) put(r, i, w[i]);
    }
  }
}

template <typename Put>
__device__ inline void load_b_tile(const MMArgs& g, const char* const* bcols, int ncols, int64_t k0, Put put) {
  for (int e = threadIdx.x; e < BN * BK; e += blockDim.x) {
    const int j = e / BK, kk = e % BK;
    const int64_t k = k0 + kk;
    put(j, kk, j < ncols && k < g.K ? bval(g, bcols[j], k) : 0.f);
  }
}

// grid (ceil(N/BM), ceil(cols/BN), batches or experts): f32 tiles on CUDA cores, 256 threads, 4x4 outputs each.
__global__ void __launch_bounds__(256) k_mm_f32(MMArgs g) {
  const int z = blockIdx.z;
  const int64_t ncols_all = cols_of(g, z);
  const int64_t n0 = (int64_t)blockIdx.x * BM, m0 = (int64_t)blockIdx.y * BN;
  if (m0 >= ncols_all) return;
  const int ncols = (int)min((int64_t)BN, ncols_all - m0);
  constexpr int LD = BM + 4;
  __shared__ float sA[BK * LD];  // [kk][r]
  __shared__ float sB[BK * LD];  // [kk][j]
  __shared__ const char* bcols[BN];
  __shared__ float* ocols[BN];
  for (int j = threadIdx.x; j < BN; j += blockDim.x) {
    bcols[j] = nullptr; ocols[j] = nullptr;
    if (j < ncols) col_ptrs(g, z, m0 + j, bcols[j], ocols[j]);
  }
  __syncthreads();
  const char* abase = a_base(g, z);
  const int tn = threadIdx.x % 16, tm = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < g.K; k0 += BK) {
    load_a_tile(g, abase, n0, k0, [&](int r, int kk, float v) { sA[kk * LD + r] = v; });
    load_b_tile(g, bcols, ncols, k0, [&](int j, int kk, float v) { sB[kk * LD + j] = v; });
    __syncthreads();
#pragma unroll 8
    for (int kk = 0; kk < BK; kk++) {
      float av[4], bv[4];
      for (int i = 0; i < 4; i++) { av[i] = sA[kk * LD + tn * 4 + i]; bv[i] = sB[kk * LD + tm * 4 + i]; }
      for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) acc[i][j] += av[i] * bv[j];
    }
    __syncthreads();
  }
  for (int j = 0; j < 4; j++) {
    const int jj = tm * 4 + j;
    if (jj >= ncols) continue;
    for (int i = 0; i < 4; i++) {
      const int64_t n = n0 + tn * 4 + i;
      if (n < g.N) ocols[jj][n] = acc[i][j];
    }
  }
}

// 3xTF32 tensor-core tiles (opt-in, GGTS_CUDA_MMA=1): same grid as k_mm_f32, 128 threads = 4 warps of 32x32
// outputs. Each operand is split into a TF32 head and a TF32 tail (x = hi + lo) and the product summed as
// lo·hi + hi·lo + hi·hi; the tensor cores accumulate with truncation, so each BK slice is summed there and then
// added to acc in round-to-nearest f32. Measured f32-accurate (quantized goldens ≤ 4.7e-6 on an H200) but
// slower than k_mm_f32 there, since the dequantising tile loads bound both.
__global__ void __launch_bounds__(128) k_mm_tc(MMArgs g) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
  using namespace nvcuda;
  const int z = blockIdx.z;
  const int64_t ncols_all = cols_of(g, z);
  const int64_t n0 = (int64_t)blockIdx.x * BM, m0 = (int64_t)blockIdx.y * BN;
  if (m0 >= ncols_all) return;
  const int ncols = (int)min((int64_t)BN, ncols_all - m0);
  constexpr int LDS = BK + 4, LDC = BM + 4;  // multiples of 4 floats, as wmma's tf32 loads require
  __shared__ __align__(32) float sA[BM * LDS];
  __shared__ __align__(32) float sB[BN * LDS];
  __shared__ __align__(32) float sC[BN * LDC];
  __shared__ const char* bcols[BN];
  __shared__ float* ocols[BN];
  for (int j = threadIdx.x; j < BN; j += blockDim.x) {
    bcols[j] = nullptr; ocols[j] = nullptr;
    if (j < ncols) col_ptrs(g, z, m0 + j, bcols[j], ocols[j]);
  }
  __syncthreads();
  const char* abase = a_base(g, z);
  const int warp = threadIdx.x / 32, wr = warp / 2, wc = warp % 2;
  using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major>;
  using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major>;
  using Acc = wmma::fragment<wmma::accumulator, 16, 16, 8, float>;
  Acc acc[2][2];
  for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);
  auto split = [](auto& hi, auto& lo) {
    for (int t = 0; t < hi.num_elements; t++) {
      const float v = hi.x[t], h = wmma::__float_to_tf32(v);
      hi.x[t] = h;
      lo.x[t] = wmma::__float_to_tf32(v - h);
    }
  };
  for (int64_t k0 = 0; k0 < g.K; k0 += BK) {
    load_a_tile(g, abase, n0, k0, [&](int r, int kk, float v) { sA[r * LDS + kk] = v; });
    load_b_tile(g, bcols, ncols, k0, [&](int j, int kk, float v) { sB[j * LDS + kk] = v; });
    __syncthreads();
    Acc hi[2][2], lo[2][2];
    for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) { wmma::fill_fragment(hi[i][j], 0.f); wmma::fill_fragment(lo[i][j], 0.f); }
#pragma unroll
    for (int kk = 0; kk < BK; kk += 8) {
      FragA ah[2], al[2];
      FragB bh[2], bl[2];
      for (int i = 0; i < 2; i++) { wmma::load_matrix_sync(ah[i], sA + (wr * 32 + 16 * i) * LDS + kk, LDS); split(ah[i], al[i]); }
      for (int j = 0; j < 2; j++) { wmma::load_matrix_sync(bh[j], sB + (wc * 32 + 16 * j) * LDS + kk, LDS); split(bh[j], bl[j]); }
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
          wmma::mma_sync(lo[i][j], al[i], bh[j], lo[i][j]);
          wmma::mma_sync(lo[i][j], ah[i], bl[j], lo[i][j]);
          wmma::mma_sync(hi[i][j], ah[i], bh[j], hi[i][j]);
        }
    }
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        for (int t = 0; t < acc[i][j].num_elements; t++) acc[i][j].x[t] += hi[i][j].x[t] + lo[i][j].x[t];
    __syncthreads();
  }
  // sC[m * LDC + n]: column-major in (n, m), so each output column is a contiguous run.
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      wmma::store_matrix_sync(sC + (wc * 32 + 16 * j) * LDC + wr * 32 + 16 * i, acc[i][j], LDC, wmma::mem_col_major);
  __syncthreads();
  for (int e = threadIdx.x; e < BM * BN; e += blockDim.x) {
    const int j = e / BM, r = e % BM;
    if (j < ncols && n0 + r < g.N) ocols[j][n0 + r] = sC[j * LDC + r];
  }
#else
  __trap();  // the host selects this kernel only on compute capability 8.0 and later
#endif
}

// out[i0,i1,i2,i3] = Σ_j a[i0,j,i2/r2,i3/r3]·b[i1,j,i2,i3]
__global__ void k_out_prod(TensorDesc d, TensorDesc a, TensorDesc b, int64_t n) {
  const int64_t r2 = b.ne[2] / a.ne[2], r3 = b.ne[3] / a.ne[3];
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    float s = 0.f;
    for (int64_t j = 0; j < a.ne[1]; j++)
      s += *(const float*)elem_ptr(a, i0, j, i2 / r2, i3 / r3) * *(const float*)elem_ptr(b, i1, j, i2, i3);
    ((float*)d.data)[k] = s;
  }
}

bool tensor_cores_requested() {
  const char* v = std::getenv("GGTS_CUDA_MMA");
  return v && v[0] == '1';
}

void check(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + what + ": " + cudaGetErrorString(e));
}

size_t route_bytes(int64_t E, int64_t pairs) { return (size_t)(2 * E + pairs) * sizeof(int); }

}  // namespace

size_t matmul_workspace(const Node& n) {
  if (n.op != OP_MUL_MAT_ID) return 0;
  return route_bytes(n.src[0].ne[2], n.src[2].ne[0] * n.src[2].ne[1]);
}

void launch_matmul(const Node& n, const ExecCtx& ctx) {
  const TensorDesc& d = n.dst;
  cudaStream_t st = ctx.stream;
  if (n.op == OP_OUT_PROD) {
    const int64_t ne = nelements(d);
    k_out_prod<<<grid_for(ne, 256), 256, 0, st>>>(d, n.src[0], n.src[1], ne);
    check("OUT_PROD");
    return;
  }
  MMArgs g{};
  g.a = n.src[0]; g.b = n.src[1]; g.d = (float*)d.data;
  g.K = g.a.ne[0]; g.N = g.a.ne[1];
  const bool tc = g.a.type != T_F32 && ctx.cc_major >= 8 && tensor_cores_requested();
  const unsigned gx_tile = (unsigned)((g.N + BM - 1) / BM);
  const unsigned gx_mv = (unsigned)((g.N + MV_WARPS - 1) / MV_WARPS);
  if (g.N > 0x7fffffffLL * MV_WARPS) throw std::runtime_error("cuda: MUL_MAT: too many rows");
  if (n.op == OP_MUL_MAT) {
    const TensorDesc& b = g.b;
    g.M = b.ne[1]; g.B2 = b.ne[2]; g.r2 = b.ne[2] / g.a.ne[2]; g.r3 = b.ne[3] / g.a.ne[3];
    const int64_t batches = b.ne[2] * b.ne[3];
    if (batches > 65535) throw std::runtime_error("cuda: MUL_MAT: more than 65535 batches");
    if (g.M <= MV_COLS) {
      k_mmv<<<dim3(gx_mv, 1, (unsigned)batches), MV_WARPS * 32, 0, st>>>(g);
    } else {
      const int64_t gy = (g.M + BN - 1) / BN;
      if (gy > 65535) throw std::runtime_error("cuda: MUL_MAT: too many columns");
      if (tc) k_mm_tc<<<dim3(gx_tile, (unsigned)gy, (unsigned)batches), 128, 0, st>>>(g);
      else k_mm_f32<<<dim3(gx_tile, (unsigned)gy, (unsigned)batches), 256, 0, st>>>(g);
    }
    check("MUL_MAT");
    return;
  }
  // MUL_MAT_ID
  const TensorDesc& ids = n.src[2];
  g.id = true;
  g.kk = ids.ne[0];
  const int64_t T = ids.ne[1], E = g.a.ne[2], pairs = g.kk * T;
  if (pairs == 0) return;
  if (pairs <= 16) {
    k_mmv_id<<<dim3(gx_mv, (unsigned)pairs, 1), MV_WARPS * 32, 0, st>>>(g, ids, ctx.err, n.record);
    check("MUL_MAT_ID");
    return;
  }
  if (ctx.work_size < route_bytes(E, pairs) || E > 65535) throw std::runtime_error("cuda: MUL_MAT_ID: routing table does not fit");
  int* cnt = (int*)ctx.work;
  int* off = cnt + E;
  int* list = off + E;
  const size_t shm = (size_t)2 * E * sizeof(int);
  if (shm > 48 * 1024) throw std::runtime_error("cuda: MUL_MAT_ID: too many experts");
  k_route<<<1, 1024, shm, st>>>(ids, E, g.kk, T, cnt, off, list, ctx.err, n.record);
  check("MUL_MAT_ID routing");
  g.cnt = cnt; g.off = off; g.list = list;
  const int64_t gy = (pairs + BN - 1) / BN;
  if (gy > 65535) throw std::runtime_error("cuda: MUL_MAT_ID: too many tokens");
  if (tc) k_mm_tc<<<dim3(gx_tile, (unsigned)gy, (unsigned)E), 128, 0, st>>>(g);
  else k_mm_f32<<<dim3(gx_tile, (unsigned)gy, (unsigned)E), 256, 0, st>>>(g);
  check("MUL_MAT_ID");
}

}  // namespace ggts_cuda
