// Elementwise ops: binary with tile broadcast, unary math, SCALE, CLAMP, GLU, and the pattern ops FILL, TRI,
// DIAG. dst is contiguous and may be the very same memory as src[0] (in-place): every thread reads its
// element before writing it and touches no other.
#include <stdexcept>
#include "device.cuh"

namespace ggts_cuda {

namespace {

constexpr int TPB = 256;

__device__ inline float sigmoidf_(float x) { return 1.f / (1.f + expf(-x)); }
__device__ inline float gelu_tanh(float x) {
  const float c = 0.7978845608028654f;  // sqrt(2/pi)
  return 0.5f * x * (1.f + tanhf(c * (x + 0.044715f * x * x * x)));
}
__device__ inline float gelu_erf(float x) { return 0.5f * x * (1.f + erff(x * 0.7071067811865476f)); }

__device__ inline float unary(int op, float x, float p0, float p1) {
  switch (op) {
    case OP_SCALE: return x * p0 + p1;
    case OP_CLAMP: return fminf(fmaxf(x, p0), p1);
    case OP_NEG: return -x;
    case OP_ABS: return fabsf(x);
    case OP_SQR: return x * x;
    case OP_SQRT: return sqrtf(x);
    case OP_LOG: return logf(x);
    case OP_EXP: return expf(x);
    case OP_SIN: return sinf(x);
    case OP_COS: return cosf(x);
    case OP_TANH: return tanhf(x);
    case OP_RELU: return fmaxf(x, 0.f);
    case OP_SIGMOID: return sigmoidf_(x);
    case OP_SILU: return x * sigmoidf_(x);
    case OP_SOFTPLUS: return x > 20.f ? x : log1pf(expf(x));
    case OP_GELU: return gelu_tanh(x);
    case OP_GELU_ERF: return gelu_erf(x);
    default: return x;
  }
}

__device__ inline float glu_act(int g, float x) {
  switch (g) {
    case 0: return fmaxf(x, 0.f);
    case 1: return gelu_tanh(x);
    case 2: return x * sigmoidf_(x);
    default: return gelu_erf(x);
  }
}

__global__ void k_unary(TensorDesc d, TensorDesc a, int op, float p0, float p1, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    const float x = *(const float*)elem_ptr(a, i0, i1, i2, i3);
    ((float*)d.data)[k] = unary(op, x, p0, p1);
  }
}

__global__ void k_binary(TensorDesc d, TensorDesc a, TensorDesc b, int op, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    const float x = *(const float*)elem_ptr(a, i0, i1, i2, i3);
    const float y = *(const float*)elem_ptr(b, i0 % b.ne[0], i1 % b.ne[1], i2 % b.ne[2], i3 % b.ne[3]);
    float r;
    switch (op) {
      case OP_ADD: r = x + y; break;
      case OP_SUB: r = x - y; break;
      case OP_MUL: r = x * y; break;
      default: r = x / y; break;
    }
    ((float*)d.data)[k] = r;
  }
}

__global__ void k_glu_fused(TensorDesc d, TensorDesc a, int g, int swapped, int64_t n) {
  const int64_t h = d.ne[0];
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    const float* row = (const float*)elem_ptr(a, 0, i1, i2, i3);
    const float lo = row[i0], hi = row[h + i0];
    const float x = swapped ? hi : lo, gate = swapped ? lo : hi;
    ((float*)d.data)[k] = glu_act(g, x) * gate;
  }
}

__global__ void k_glu_split(TensorDesc d, TensorDesc a, TensorDesc b, int g, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    const float x = *(const float*)elem_ptr(a, i0, i1, i2, i3);
    const float y = *(const float*)elem_ptr(b, i0, i1, i2, i3);
    ((float*)d.data)[k] = glu_act(g, x) * y;
  }
}

__global__ void k_fill(float* d, float c, int64_t n) { GRID_LOOP(k, n) d[k] = c; }

// TRI keeps (column i0, row i1) per type: 0 upper+diag, 1 upper, 2 lower+diag, 3 lower.
__global__ void k_tri(TensorDesc d, TensorDesc a, int type, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    const bool keep = type == 3 ? i0 < i1 : type == 2 ? i0 <= i1 : type == 1 ? i0 > i1 : i0 >= i1;
    ((float*)d.data)[k] = keep ? *(const float*)elem_ptr(a, i0, i1, i2, i3) : 0.f;
  }
}

__global__ void k_diag(TensorDesc d, TensorDesc a, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    ((float*)d.data)[k] = i0 == i1 ? *(const float*)elem_ptr(a, i0, 0, i2, i3) : 0.f;
  }
}

}  // namespace

void launch_elementwise(const Node& n, const ExecCtx& ctx) {
  const TensorDesc& d = n.dst;
  const TensorDesc* s = n.src;
  const int64_t ne = nelements(d);
  const unsigned grid = grid_for(ne, TPB);
  cudaStream_t st = ctx.stream;
  switch (n.op) {
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV:
      k_binary<<<grid, TPB, 0, st>>>(d, s[0], s[1], n.op, ne); break;
    case OP_GLU:
      if (n.nsrc == 2) k_glu_split<<<grid, TPB, 0, st>>>(d, s[0], s[1], (int)n.p[0], ne);
      else k_glu_fused<<<grid, TPB, 0, st>>>(d, s[0], (int)n.p[0], (int)n.p[1], ne);
      break;
    case OP_FILL: k_fill<<<grid, TPB, 0, st>>>((float*)d.data, (float)n.p[0], ne); break;
    case OP_TRI: k_tri<<<grid, TPB, 0, st>>>(d, s[0], (int)n.p[0], ne); break;
    case OP_DIAG: k_diag<<<grid, TPB, 0, st>>>(d, s[0], ne); break;
    default: {
      const float p0 = n.op == OP_SCALE || n.op == OP_CLAMP ? (float)n.p[0] : 0.f;
      const float p1 = n.op == OP_SCALE || n.op == OP_CLAMP ? (float)n.p[1] : 0.f;
      k_unary<<<grid, TPB, 0, st>>>(d, s[0], n.op, p0, p1, ne);
    }
  }
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + op_name(n.op) + ": " + cudaGetErrorString(e));
}

}  // namespace ggts_cuda
