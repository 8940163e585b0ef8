// Reductions and normalisations along ne0: SUM, SUM_ROWS, MEAN, ARGMAX, COUNT_EQUAL, CUMSUM, RMS_NORM, NORM,
// L2_NORM. One block per row; the source may be strided, dst is contiguous (and may alias the source for the
// norms: each thread re-reads the elements it then overwrites).
#include <stdexcept>
#include "device.cuh"

namespace ggts_cuda {

namespace {

__device__ inline const float* row_ptr(const TensorDesc& a, int64_t r, int64_t& i1, int64_t& i2, int64_t& i3) {
  i1 = r % a.ne[1]; const int64_t q = r / a.ne[1];
  i2 = q % a.ne[2]; i3 = q / a.ne[2];
  return (const float*)elem_ptr(a, 0, i1, i2, i3);
}
__device__ inline float at0(const TensorDesc& a, const float* row, int64_t i0) {
  return *(const float*)((const char*)row + i0 * a.nb[0]);
}

__global__ void k_sum_all(float* d, TensorDesc a, int64_t n) {
  __shared__ double part[1024];
  double acc = 0;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
    int64_t i0, i1, i2, i3;
    unravel(k, a.ne, i0, i1, i2, i3);
    acc += *(const float*)elem_ptr(a, i0, i1, i2, i3);
  }
  part[threadIdx.x] = acc;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) d[0] = (float)part[0];
}

// op: OP_SUM_ROWS, OP_MEAN, OP_RMS_NORM, OP_NORM, OP_L2_NORM.
__global__ void k_row_stat(float* d, TensorDesc a, int op, float eps) {
  __shared__ float scratch[32];
  const int64_t r = blockIdx.x;
  int64_t i1, i2, i3;
  const float* row = row_ptr(a, r, i1, i2, i3);
  const int64_t n = a.ne[0];
  float s = 0.f;
  if (op == OP_SUM_ROWS || op == OP_MEAN || op == OP_NORM) {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += at0(a, row, i);
    s = block_sum(s, scratch);
    if (op != OP_NORM) {
      if (threadIdx.x == 0) d[r] = op == OP_MEAN ? s / (float)n : s;
      return;
    }
    const float mu = s / (float)n;
    float v = 0.f;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) { const float x = at0(a, row, i) - mu; v += x * x; }
    v = block_sum(v, scratch);
    const float k = 1.f / sqrtf(v / (float)n + eps);
    float* out = d + r * n;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = (at0(a, row, i) - mu) * k;
    return;
  }
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) { const float x = at0(a, row, i); s += x * x; }
  s = block_sum(s, scratch);
  const float k = op == OP_RMS_NORM ? 1.f / sqrtf(s / (float)n + eps) : 1.f / fmaxf(sqrtf(s), eps);
  float* out = d + r * n;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = at0(a, row, i) * k;
}

// Index of the row maximum, the last one on ties.
__global__ void k_argmax(int32_t* d, TensorDesc a) {
  __shared__ float sv[1024];
  __shared__ int64_t si[1024];
  const int64_t r = blockIdx.x;
  int64_t i1, i2, i3;
  const float* row = row_ptr(a, r, i1, i2, i3);
  float bv = -INFINITY;
  int64_t bi = -1;
  for (int64_t i = threadIdx.x; i < a.ne[0]; i += blockDim.x) {
    const float v = at0(a, row, i);
    if (bi < 0 || v >= bv) { bv = v; bi = i; }
  }
  sv[threadIdx.x] = bv; si[threadIdx.x] = bi;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) {
      const float ov = sv[threadIdx.x + s];
      const int64_t oi = si[threadIdx.x + s];
      const int64_t mi = si[threadIdx.x];
      if (oi >= 0 && (mi < 0 || ov > sv[threadIdx.x] || (ov == sv[threadIdx.x] && oi > mi))) {
        sv[threadIdx.x] = ov; si[threadIdx.x] = oi;
      }
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) d[r] = (int32_t)(si[0] < 0 ? 0 : si[0]);
}

__global__ void k_count_equal(long long* d, TensorDesc a, TensorDesc b, int64_t n) {
  __shared__ long long part[1024];
  long long c = 0;
  for (int64_t k = threadIdx.x; k < n; k += blockDim.x) {
    int64_t i0, i1, i2, i3;
    unravel(k, a.ne, i0, i1, i2, i3);
    c += *(const int32_t*)elem_ptr(a, i0, i1, i2, i3) == *(const int32_t*)elem_ptr(b, i0, i1, i2, i3);
  }
  part[threadIdx.x] = c;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) d[0] = part[0];
}

// One warp per row: 32-wide inclusive scans with a running carry.
__global__ void k_cumsum(float* d, TensorDesc a, int64_t rows) {
  const int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (r >= rows) return;
  const int lane = threadIdx.x & 31;
  int64_t i1, i2, i3;
  const float* row = row_ptr(a, r, i1, i2, i3);
  const int64_t n = a.ne[0];
  float* out = d + r * n;
  float carry = 0.f;
  for (int64_t base = 0; base < n; base += 32) {
    const int64_t i = base + lane;
    float v = i < n ? at0(a, row, i) : 0.f;
    for (int o = 1; o < 32; o <<= 1) {
      const float t = __shfl_up_sync(0xffffffffu, v, o);
      if (lane >= o) v += t;
    }
    if (i < n) out[i] = carry + v;
    carry += __shfl_sync(0xffffffffu, v, 31);
  }
}

int row_threads(int64_t n) { return n >= 1024 ? 1024 : n >= 256 ? 256 : n > 32 ? 128 : 32; }

}  // namespace

void launch_reduce(const Node& n, const ExecCtx& ctx) {
  const TensorDesc& d = n.dst;
  const TensorDesc& a = n.src[0];
  cudaStream_t st = ctx.stream;
  const int64_t rows = a.ne[1] * a.ne[2] * a.ne[3];
  if (rows > 0x7fffffff) throw std::runtime_error(std::string("cuda: ") + op_name(n.op) + ": too many rows");
  switch (n.op) {
    case OP_SUM: k_sum_all<<<1, 1024, 0, st>>>((float*)d.data, a, nelements(a)); break;
    case OP_COUNT_EQUAL: k_count_equal<<<1, 1024, 0, st>>>((long long*)d.data, a, n.src[1], nelements(a)); break;
    case OP_ARGMAX: if (rows > 0) k_argmax<<<(unsigned)rows, 256, 0, st>>>((int32_t*)d.data, a); break;
    case OP_CUMSUM: if (rows > 0) k_cumsum<<<(unsigned)((rows + 7) / 8), 256, 0, st>>>((float*)d.data, a, rows); break;
    default:
      if (rows > 0) k_row_stat<<<(unsigned)rows, row_threads(a.ne[0]), 0, st>>>((float*)d.data, a, n.op, (float)n.p[0]);
  }
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + op_name(n.op) + ": " + cudaGetErrorString(e));
}

}  // namespace ggts_cuda
