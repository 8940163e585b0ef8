// Data movement: CPY/CONT/DUP (with type conversion and quantization), CONCAT, PAD, SET, REPEAT, GET_ROWS,
// SET_ROWS. Sources may have any strides; destinations are contiguous unless noted (CPY into a view).
#include <stdexcept>
#include "quant.cuh"

namespace ggts_cuda {

namespace {

constexpr int TPB = 256;

__device__ inline void copy_bytes(char* d, const char* s, int esz) {
  switch (esz) {
    case 1: *d = *s; break;
    case 2: *(uint16_t*)d = *(const uint16_t*)s; break;
    case 4: *(uint32_t*)d = *(const uint32_t*)s; break;
    default: *(unsigned long long*)d = *(const unsigned long long*)s; break;
  }
}

// Logical element k of a float-readable tensor (quantized sources are contiguous).
__device__ inline float load_logical(const TensorDesc& s, int64_t k) {
  int64_t i0, i1, i2, i3;
  unravel(k, s.ne, i0, i1, i2, i3);
  if (block_size_dev(s.type) == 1) return load_plain(s.type, elem_ptr(s, i0, i1, i2, i3));
  return load_row_elem(s.type, elem_ptr(s, 0, i1, i2, i3), i0);
}

__global__ void k_copy_same(TensorDesc d, TensorDesc s, int64_t n, int esz) {
  GRID_LOOP(k, n) {
    int64_t a0, a1, a2, a3, b0, b1, b2, b3;
    unravel(k, s.ne, a0, a1, a2, a3);
    unravel(k, d.ne, b0, b1, b2, b3);
    copy_bytes((char*)elem_ptr(d, b0, b1, b2, b3), elem_ptr(s, a0, a1, a2, a3), esz);
  }
}

__global__ void k_copy_convert(TensorDesc d, TensorDesc s, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t b0, b1, b2, b3;
    unravel(k, d.ne, b0, b1, b2, b3);
    store_plain(d.type, (char*)elem_ptr(d, b0, b1, b2, b3), load_logical(s, k));
  }
}

// dst is contiguous and quantized: block bi holds logical elements [32·bi, 32·bi + 32).
__global__ void k_copy_quantize(TensorDesc d, TensorDesc s, int64_t nblocks, int bytes) {
  GRID_LOOP(bi, nblocks) {
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = load_logical(s, bi * 32 + j);
    quantize_block(d.type, x, (uint8_t*)d.data + bi * bytes);
  }
}

__global__ void k_concat(TensorDesc d, TensorDesc a, TensorDesc b, int dim, int64_t n, int esz) {
  GRID_LOOP(k, n) {
    int64_t i[4];
    unravel(k, d.ne, i[0], i[1], i[2], i[3]);
    char* out = d.data + k * esz;
    if (i[dim] < a.ne[dim]) copy_bytes(out, elem_ptr(a, i[0], i[1], i[2], i[3]), esz);
    else { i[dim] -= a.ne[dim]; copy_bytes(out, elem_ptr(b, i[0], i[1], i[2], i[3]), esz); }
  }
}

struct Pads { int64_t lp[4]; };

__global__ void k_pad(TensorDesc d, TensorDesc a, Pads p, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t i[4];
    unravel(k, d.ne, i[0], i[1], i[2], i[3]);
    bool inside = true;
    for (int x = 0; x < 4; x++) { i[x] -= p.lp[x]; inside = inside && i[x] >= 0 && i[x] < a.ne[x]; }
    ((float*)d.data)[k] = inside ? *(const float*)elem_ptr(a, i[0], i[1], i[2], i[3]) : 0.f;
  }
}

__global__ void k_set_scatter(char* dst, TensorDesc b, int64_t nb1, int64_t nb2, int64_t nb3, int64_t off, int64_t n) {
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, b.ne, i0, i1, i2, i3);
    copy_bytes(dst + off + i0 * 4 + i1 * nb1 + i2 * nb2 + i3 * nb3, elem_ptr(b, i0, i1, i2, i3), 4);
  }
}

__global__ void k_repeat(TensorDesc d, TensorDesc a, int64_t n, int esz) {
  GRID_LOOP(k, n) {
    int64_t i0, i1, i2, i3;
    unravel(k, d.ne, i0, i1, i2, i3);
    copy_bytes(d.data + k * esz, elem_ptr(a, i0 % a.ne[0], i1 % a.ne[1], i2 % a.ne[2], i3 % a.ne[3]), esz);
  }
}

// One thread per 32-element chunk of an output row (plain sources use the same chunking).
__global__ void k_get_rows(TensorDesc d, TensorDesc a, TensorDesc idx, int64_t nchunks, int* err, int record) {
  const int64_t cpr = (d.ne[0] + 31) / 32;  // chunks per row
  GRID_LOOP(k, nchunks) {
    const int64_t c = k % cpr;
    int64_t row = k / cpr;
    const int64_t j = row % d.ne[1]; row /= d.ne[1];
    const int64_t b2 = row % d.ne[2], b3 = row / d.ne[2];
    const int64_t r = *(const int32_t*)elem_ptr(idx, j, b2, b3, 0);
    const int64_t i0 = c * 32, cnt = min((int64_t)32, d.ne[0] - i0);
    char* out = d.data + ((j + d.ne[1] * (b2 + d.ne[2] * b3)) * d.ne[0] + i0) * 4;
    if (r < 0 || r >= a.ne[1]) {
      report_error(err, record, KE_ROW_INDEX, r);
      for (int64_t x = 0; x < cnt; x++) ((float*)out)[x] = 0.f;
      continue;
    }
    const char* src = elem_ptr(a, 0, r, b2, b3);
    if (a.type == T_I32) {
      for (int64_t x = 0; x < cnt; x++) ((int32_t*)out)[x] = *(const int32_t*)(src + (i0 + x) * a.nb[0]);
    } else if (block_size_dev(a.type) > 1) {
      float tmp[32];
      dequant_chunk(a.type, src, c, tmp);
      for (int x = 0; x < 32; x++) ((float*)out)[x] = tmp[x];
    } else {
      for (int64_t x = 0; x < cnt; x++) ((float*)out)[x] = load_plain(a.type, src + (i0 + x) * a.nb[0]);
    }
  }
}

__device__ inline int64_t load_index(const TensorDesc& idx, int64_t i0, int64_t i1, int64_t i2) {
  const char* p = elem_ptr(idx, i0, i1, i2, 0);
  return idx.type == T_I64 ? (int64_t)*(const long long*)p : (int64_t)*(const int32_t*)p;
}

// One thread per 32-element chunk of a source row; quantized rows write one block per chunk.
__global__ void k_set_rows(TensorDesc d, TensorDesc s, TensorDesc idx, int64_t nchunks, int* err, int record) {
  const int64_t cpr = (s.ne[0] + 31) / 32;
  const int bs = block_size_dev(d.type);
  GRID_LOOP(k, nchunks) {
    const int64_t c = k % cpr;
    int64_t row = k / cpr;
    const int64_t j = row % s.ne[1]; row /= s.ne[1];
    const int64_t b2 = row % s.ne[2], b3 = row / s.ne[2];
    const int64_t r = load_index(idx, j, b2 % idx.ne[1], b3 % idx.ne[2]);
    if (r < 0 || r >= d.ne[1]) { report_error(err, record, KE_ROW_INDEX, r); continue; }
    const int64_t i0 = c * 32, cnt = min((int64_t)32, s.ne[0] - i0);
    float x[32];
    for (int64_t e = 0; e < cnt; e++) x[e] = *(const float*)elem_ptr(s, i0 + e, j, b2, b3);
    char* drow = (char*)elem_ptr(d, 0, r, b2, b3);
    if (bs > 1) quantize_block(d.type, x, (uint8_t*)drow + c * type_size_dev(d.type));
    else for (int64_t e = 0; e < cnt; e++) store_plain(d.type, drow + (i0 + e) * d.nb[0], x[e]);
  }
}

void check_launch(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: launching ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace

void launch_copy(const Node& n, const ExecCtx& ctx) {
  const TensorDesc& d = n.dst;
  const TensorDesc* s = n.src;
  cudaStream_t st = ctx.stream;
  const int64_t ne = nelements(d);
  switch (n.op) {
    case OP_CPY: case OP_CONT: case OP_DUP: {
      if (d.type == s[0].type && !is_quantized(d.type)) {
        k_copy_same<<<grid_for(ne, TPB), TPB, 0, st>>>(d, s[0], ne, type_size(d.type));
      } else if (d.type == s[0].type) {
        if (d.data != s[0].data) {
          const size_t bytes = (size_t)(ne / block_size(d.type)) * type_size(d.type);
          if (cudaMemcpyAsync(d.data, s[0].data, bytes, cudaMemcpyDeviceToDevice, st) != cudaSuccess) check_launch("CPY memcpy");
        }
      } else if (is_quantized(d.type)) {
        const int64_t nbk = ne / 32;
        k_copy_quantize<<<grid_for(nbk, 128), 128, 0, st>>>(d, s[0], nbk, type_size(d.type));
      } else {
        k_copy_convert<<<grid_for(ne, TPB), TPB, 0, st>>>(d, s[0], ne);
      }
      break;
    }
    case OP_CONCAT:
      k_concat<<<grid_for(ne, TPB), TPB, 0, st>>>(d, s[0], s[1], (int)n.p[0], ne, type_size(d.type));
      break;
    case OP_PAD: {
      Pads p;
      for (int i = 0; i < 4; i++) p.lp[i] = (int64_t)n.p[2 * i];
      k_pad<<<grid_for(ne, TPB), TPB, 0, st>>>(d, s[0], p, ne);
      break;
    }
    case OP_SET: {
      if (d.data != s[0].data) {
        if (cudaMemcpyAsync(d.data, s[0].data, (size_t)ne * 4, cudaMemcpyDeviceToDevice, st) != cudaSuccess) check_launch("SET memcpy");
      }
      const int64_t nb = nelements(s[1]);
      if (nb > 0) k_set_scatter<<<grid_for(nb, TPB), TPB, 0, st>>>(d.data, s[1], (int64_t)n.p[0], (int64_t)n.p[1], (int64_t)n.p[2], (int64_t)n.p[3], nb);
      break;
    }
    case OP_REPEAT:
      k_repeat<<<grid_for(ne, TPB), TPB, 0, st>>>(d, s[0], ne, type_size(d.type));
      break;
    case OP_GET_ROWS: {
      const int64_t nch = (d.ne[0] + 31) / 32 * d.ne[1] * d.ne[2] * d.ne[3];
      k_get_rows<<<grid_for(nch, 128), 128, 0, st>>>(d, s[0], s[1], nch, ctx.err, n.record);
      break;
    }
    case OP_SET_ROWS: {
      const int64_t nch = (s[1].ne[0] + 31) / 32 * s[1].ne[1] * s[1].ne[2] * s[1].ne[3];
      if (nch > 0) k_set_rows<<<grid_for(nch, 128), 128, 0, st>>>(d, s[1], s[2], nch, ctx.err, n.record);
      break;
    }
    default: throw std::runtime_error("cuda: launch_copy given a foreign op");
  }
  check_launch(op_name(n.op));
}

}  // namespace ggts_cuda
