// Device-side helpers shared by the kernels: element loads/stores, error reporting, launch shapes.
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cstdint>
#include "graph.h"
#include "exec.h"

namespace ggts_cuda {

// Codes a kernel reports through the device error word (decoded by error_text in exec.cu).
enum KernelError : int { KE_ROW_INDEX = 1, KE_EXPERT_ID = 2 };

__device__ inline void report_error(int* err, int record, int code, int64_t value) {
  if (atomicCAS(err, 0, record + 1) == 0) {
    err[1] = code;
    err[2] = (int)value;
  }
}

__device__ inline float f16_to_f32(uint16_t h) { return __half2float(__ushort_as_half(h)); }
__device__ inline uint16_t f32_to_f16(float f) { return __half_as_ushort(__float2half_rn(f)); }
__device__ inline float bf16_to_f32(uint16_t h) { return __uint_as_float((uint32_t)h << 16); }
__device__ inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64);  // quiet NaN
  return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);           // round to nearest even
}

__host__ __device__ inline int block_size_dev(int32_t t) {
  switch (t) {
    case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1: case T_Q8_0: case T_Q8_1: case T_IQ4_NL: return 32;
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_Q8_K: case T_IQ4_XS: return 256;
    default: return 1;
  }
}
__host__ __device__ inline int type_size_dev(int32_t t) {
  switch (t) {
    case T_F32: case T_I32: return 4;
    case T_F16: case T_BF16: case T_I16: return 2;
    case T_I8: return 1;
    case T_F64: case T_I64: return 8;
    case T_Q4_0: return 18; case T_Q4_1: return 20; case T_Q5_0: return 22; case T_Q5_1: return 24;
    case T_Q8_0: return 34; case T_Q8_1: return 36; case T_IQ4_NL: return 18;
    case T_Q2_K: return 84; case T_Q3_K: return 110; case T_Q4_K: return 144; case T_Q5_K: return 176;
    case T_Q6_K: return 210; case T_Q8_K: return 292; case T_IQ4_XS: return 136;
    default: return 0;
  }
}

// Plain (block size 1) element as float.
__device__ inline float load_plain(int32_t type, const char* p) {
  switch (type) {
    case T_F32: return *(const float*)p;
    case T_F16: return f16_to_f32(*(const uint16_t*)p);
    case T_BF16: return bf16_to_f32(*(const uint16_t*)p);
    case T_I32: return (float)*(const int32_t*)p;
    case T_F64: return (float)*(const double*)p;
    case T_I16: return (float)*(const int16_t*)p;
    case T_I8: return (float)*(const int8_t*)p;
    case T_I64: return (float)*(const long long*)p;
    default: return 0.f;
  }
}

__device__ inline void store_plain(int32_t type, char* p, float f) {
  switch (type) {
    case T_F32: *(float*)p = f; break;
    case T_F16: *(uint16_t*)p = f32_to_f16(f); break;
    case T_BF16: *(uint16_t*)p = f32_to_bf16(f); break;
    default: break;
  }
}

__device__ inline const char* elem_ptr(const TensorDesc& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return t.data + i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
}

// Flat logical index (ne0 fastest) → coordinates.
__device__ inline void unravel(int64_t k, const int64_t* ne, int64_t& i0, int64_t& i1, int64_t& i2, int64_t& i3) {
  i0 = k % ne[0]; k /= ne[0];
  i1 = k % ne[1]; k /= ne[1];
  i2 = k % ne[2]; i3 = k / ne[2];
}

// Grid-stride loop over n items.
#define GRID_LOOP(i, n) \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

inline unsigned grid_for(int64_t n, int threads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65535LL * 8) b = 65535LL * 8;
  return (unsigned)b;
}

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ inline float block_sum(float v, float* scratch /* 32 floats */) {
  v = warp_sum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nw ? scratch[lane] : 0.f;
  v = warp_sum(v);
  return v;
}
__device__ inline float block_max(float v, float* scratch) {
  v = warp_max(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < nw ? scratch[lane] : -INFINITY;
  v = warp_max(v);
  return v;
}

}  // namespace ggts_cuda
