// ARGSORT and TOP_K: a stable order (equal values keep index order), as the reference's Array.sort gives.
// Rows that fit in shared memory use a bitonic sort; longer rows compute each element's rank directly.
#include <stdexcept>
#include "device.cuh"

namespace ggts_cuda {

namespace {

constexpr int MAX_SHARED_SORT = 4096;

// True when element (va, ia) precedes (vb, ib).
__device__ inline bool precedes(float va, int ia, float vb, int ib, bool desc) {
  if (va != vb) return desc ? va > vb : va < vb;
  return ia < ib;
}

__device__ inline float row_val(const TensorDesc& a, int64_t r, int64_t i) {
  const int64_t i1 = r % a.ne[1], q = r / a.ne[1];
  return *(const float*)elem_ptr(a, i, i1, q % a.ne[2], q / a.ne[2]);
}

// dst row r receives the first `keep` indices of the sorted row (keep = ne0 for ARGSORT, k for TOP_K).
__global__ void k_bitonic(int32_t* d, TensorDesc a, int npad, int keep, bool desc) {
  extern __shared__ unsigned char smem[];
  float* sv = (float*)smem;
  int* si = (int*)(sv + npad);
  const int64_t r = blockIdx.x;
  const int n = (int)a.ne[0];
  for (int i = threadIdx.x; i < npad; i += blockDim.x) {
    si[i] = i;
    sv[i] = i < n ? row_val(a, r, i) : 0.f;
  }
  __syncthreads();
  for (int k = 2; k <= npad; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < npad; i += blockDim.x) {
        const int ixj = i ^ j;
        if (ixj > i) {
          // Padding (index >= n) always sorts last.
          const bool pi = si[i] >= n, px = si[ixj] >= n;
          const bool x_first = px ? false : pi ? true : precedes(sv[ixj], si[ixj], sv[i], si[i], desc);
          const bool i_first = pi ? false : px ? true : precedes(sv[i], si[i], sv[ixj], si[ixj], desc);
          const bool up = (i & k) == 0;
          if (up ? x_first : i_first) {
            const float tv = sv[i]; sv[i] = sv[ixj]; sv[ixj] = tv;
            const int ti = si[i]; si[i] = si[ixj]; si[ixj] = ti;
          }
        }
      }
      __syncthreads();
    }
  }
  for (int i = threadIdx.x; i < keep; i += blockDim.x) d[r * keep + i] = si[i];
}

// Rank of each element by counting the elements that precede it: O(n²) per row but any length.
__global__ void k_rank(int32_t* d, TensorDesc a, int keep, bool desc) {
  const int64_t r = blockIdx.y;
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  const int64_t n = a.ne[0];
  if (i >= n) return;
  const float v = row_val(a, r, i);
  int64_t rank = 0;
  for (int64_t j = 0; j < n; j++) rank += precedes(row_val(a, r, j), (int)j, v, (int)i, desc);
  if (rank < keep) d[r * keep + rank] = (int32_t)i;
}

}  // namespace

void launch_sort(const Node& n, const ExecCtx& ctx) {
  const TensorDesc& a = n.src[0];
  const int64_t ne0 = a.ne[0], rows = a.ne[1] * a.ne[2] * a.ne[3];
  const bool topk = n.op == OP_TOP_K;
  const bool desc = topk || n.p[0] == 1;
  const int keep = topk ? (int)n.p[0] : (int)ne0;
  if (ne0 > 0x7fffffff || rows > 65535LL * 65535LL) throw std::runtime_error(std::string("cuda: ") + op_name(n.op) + ": row too long");
  if (rows == 0) return;
  int npad = 1;
  while (npad < ne0) npad <<= 1;
  if (npad <= MAX_SHARED_SORT && rows <= 0x7fffffff) {
    const int threads = npad < 1024 ? (npad < 32 ? 32 : npad) : 1024;
    k_bitonic<<<(unsigned)rows, threads, (size_t)npad * 8, ctx.stream>>>((int32_t*)n.dst.data, a, npad, keep, desc);
  } else {
    if (rows > 65535) throw std::runtime_error(std::string("cuda: ") + op_name(n.op) + ": too many long rows");
    dim3 grid((unsigned)((ne0 + 255) / 256), (unsigned)rows);
    k_rank<<<grid, 256, 0, ctx.stream>>>((int32_t*)n.dst.data, a, keep, desc);
  }
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + op_name(n.op) + ": " + cudaGetErrorString(e));
}

}  // namespace ggts_cuda
