// Shared helpers of the CPU executor and its (non-matmul) kernels.
#pragma once
#include <immintrin.h>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include "kernel.h"

namespace ggts {
namespace cpu {

constexpr int MAX_SRC = 8;
constexpr int MAX_PARAMS = 25;

// A run-time failure inside a kernel (data-dependent, e.g. an index out of range): the first one wins and the
// graph run reports it after the current node.
struct RunError {
  std::atomic<int> record{-1};
  std::string message;
  void set(int rec, const std::string& msg) {
    int expected = -1;
    if (record.compare_exchange_strong(expected, rec)) message = msg;
  }
  bool failed() const { return record.load(std::memory_order_acquire) != -1; }
  // Failed at node `rec` or earlier. After a barrier every thread agrees on this, whereas failed() may already
  // see an error a faster thread raised in a later node (and stopping then would strand it at a barrier).
  bool failed_by(int rec) const {
    const int r = record.load(std::memory_order_acquire);
    return r != -1 && r <= rec;
  }
};

struct Node;
using KernelFn = void (*)(const KernelCtx&, const Node&);

// One validated, compiled graph node.
struct Node {
  int op = 0;
  int record = 0;
  int nsrc = 0;
  TensorDesc dst{};
  TensorDesc src[MAX_SRC]{};
  double p[MAX_PARAMS]{};
  size_t wsize = 0;   // scratch bytes this node needs (shared by its threads)
  int nth = 1;        // threads that run it: 1 for nodes too small to repay a barrier, else the pool size
  KernelFn fn = nullptr;
  RunError* err = nullptr;
  void fail(const std::string& msg) const { err->set(record, msg); }
};

inline float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
inline uint16_t f32_to_f16(float f) { return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }
inline float bf16_to_f32(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; std::memcpy(&f, &u, 4); return f; }
inline uint16_t f32_to_bf16(float f) {
  uint32_t u; std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64);  // quiet NaN
  return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);          // round to nearest even
}

inline int64_t nelements(const TensorDesc& t) { return t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3]; }
inline int64_t nrows(const TensorDesc& t) { return t.ne[1] * t.ne[2] * t.ne[3]; }

// Block size / bytes per block of a type (0 for unknown).
int block_size(int32_t type);
int type_size(int32_t type);
bool is_quantized(int32_t type);
const char* type_name(int32_t type);
const char* op_name(int op);

// Rows [r0, r1) of n for thread ith of nth.
inline void split(int64_t n, int ith, int nth, int64_t& r0, int64_t& r1) {
  const int64_t per = (n + nth - 1) / nth;
  r0 = std::min<int64_t>(n, per * ith);
  r1 = std::min<int64_t>(n, r0 + per);
}

inline uint8_t* at(const TensorDesc& t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return t.data + i0 * t.nb[0] + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
}
inline uint8_t* row(const TensorDesc& t, int64_t i1, int64_t i2, int64_t i3) {
  return t.data + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
}
// Unravels a flat row index into (i1, i2, i3).
inline void unravel_row(const TensorDesc& t, int64_t r, int64_t& i1, int64_t& i2, int64_t& i3) {
  i1 = r % t.ne[1]; r /= t.ne[1];
  i2 = r % t.ne[2]; i3 = r / t.ne[2];
}

// Row indices (i1, i2, i3) of t from flat row r on, advanced without divisions (for loops over many short rows).
struct RowIter {
  int64_t i1, i2, i3;
  const int64_t ne1, ne2;
  RowIter(const TensorDesc& t, int64_t r) : ne1(t.ne[1]), ne2(t.ne[2]) { unravel_row(t, r, i1, i2, i3); }
  void next() {
    if (++i1 < ne1) return;
    i1 = 0;
    if (++i2 < ne2) return;
    i2 = 0;
    ++i3;
  }
};

// Reads element i0 of a row of a plain (non-quantized) float/int type as float.
inline float load_elem(int32_t type, const uint8_t* p) {
  switch (type) {
    case T_F32: { float f; std::memcpy(&f, p, 4); return f; }
    case T_F16: { uint16_t h; std::memcpy(&h, p, 2); return f16_to_f32(h); }
    case T_BF16: { uint16_t h; std::memcpy(&h, p, 2); return bf16_to_f32(h); }
    case T_F64: { double d; std::memcpy(&d, p, 8); return (float)d; }
    case T_I32: { int32_t v; std::memcpy(&v, p, 4); return (float)v; }
    case T_I16: { int16_t v; std::memcpy(&v, p, 2); return (float)v; }
    case T_I8: return (float)(int8_t)*p;
    case T_I64: { int64_t v; std::memcpy(&v, p, 8); return (float)v; }
    default: return 0.f;
  }
}
inline void store_elem(int32_t type, uint8_t* p, float f) {
  switch (type) {
    case T_F32: std::memcpy(p, &f, 4); break;
    case T_F16: { uint16_t h = f32_to_f16(f); std::memcpy(p, &h, 2); break; }
    case T_BF16: { uint16_t h = f32_to_bf16(f); std::memcpy(p, &h, 2); break; }
    case T_F64: { double d = f; std::memcpy(p, &d, 8); break; }
    case T_I32: { int32_t v = (int32_t)f; std::memcpy(p, &v, 4); break; }
    case T_I16: { int16_t v = (int16_t)f; std::memcpy(p, &v, 2); break; }
    case T_I8: *p = (uint8_t)(int8_t)f; break;
    case T_I64: { int64_t v = (int64_t)f; std::memcpy(p, &v, 8); break; }
    default: break;
  }
}

// Reads a whole row of ne0 elements of any type into f32 (dequantizing quantized rows).
void read_row_f32(const TensorDesc& t, const uint8_t* rowp, float* out);
// Writes ne0 floats into a row of any quantize-able type.
void write_row_f32(const TensorDesc& t, uint8_t* rowp, const float* in);

// Vectorised math (AVX2/FMA).
void vec_exp(int64_t n, const float* x, float* y);
float vec_max(int64_t n, const float* x);
// y = exp(x - m), returns the sum of y.
float vec_exp_sub_sum(int64_t n, const float* x, float m, float* y);
void vec_silu(int64_t n, const float* x, float* y);
void vec_softplus(int64_t n, const float* x, float* y);
void vec_sigmoid(int64_t n, const float* x, float* y);
inline float silu1(float x) { return x / (1.f + std::exp(-x)); }

}  // namespace cpu
}  // namespace ggts
