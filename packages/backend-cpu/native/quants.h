// Block formats, row (de)quantization and quantized dot products (ops.md §11; ggml's layouts).
#pragma once
#include <cstddef>
#include <cstdint>
#include "kernel.h"

namespace ggts {

// Every type: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q2_K..q8_K, iq4_nl, iq4_xs. n must be a multiple
// of the block size. Bit-identical to ggml's to_float.
void dequantize_row(int32_t type, const void* src, float* dst, int64_t n);
// f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, iq4_nl: ggml's reference quantizers (same rounding).
void quantize_row(int32_t type, const float* src, void* dst, int64_t n);
bool quantize_row_supported(int32_t type);
bool dequantize_row_supported(int32_t type);

namespace mm {

constexpr int QK = 32;     // legacy block
constexpr int QKK = 256;   // K-quant super-block

#pragma pack(push, 1)
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ8_1 { uint16_t d, s; int8_t qs[32]; };
struct BlockIQ4NL { uint16_t d; uint8_t qs[16]; };
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; };
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };
struct BlockIQ4XS { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; };
// Activation block for 32-element weight blocks (scratch only): scale and s = d·Σq (q4_1/q5_1 offset), both
// rounded to f16 values as in ggml, held as float.
struct BlockQ8A { float d; float s; int8_t qs[32]; };
#pragma pack(pop)
// Activation row for the signed 32-element weight types, Q8_0/Q4_0/Q5_0/IQ4_NL (scratch only): blocks in groups
// of eight, the group's scales (f16 values, as ggml rounds them) and sums side by side, so a kernel scales eight
// blocks with one vector multiply and its quant loads stay 32-byte aligned. corr = -16·Σqs: in eight int32 lanes
// that is -128·Σqs, which undoes what XOR-ing the signed weights with 0x80 (making them vpdpbusd's unsigned
// operand) adds to a block's product.
// A partial last group leaves its unused entries zero.
struct BlockQ8G { float d[8]; int32_t corr[8]; int8_t qs[8][32]; };

static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144, "k-quant layout");
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292, "k-quant layout");
static_assert(sizeof(BlockIQ4XS) == 136 && sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_1) == 36, "layout");

// Internal activation formats (not GGUF types).
constexpr int32_t VT_Q8A = 1000;
constexpr int32_t VT_Q8G = 1001;

extern const int8_t kvalues_iq4nl[16];

int type_block(int32_t type);          // elements per block, 0 if unknown
int type_bytes(int32_t type);          // bytes per block, 0 if unknown
inline size_t row_bytes(int32_t type, int64_t n) {
  if (type == VT_Q8G) return (size_t)((n + 255) / 256) * sizeof(BlockQ8G);  // groups of 8 blocks, the last one whole
  const int blk = type_block(type);
  return blk ? (size_t)(n / blk) * (size_t)type_bytes(type) : 0;
}

// The format the b rows are converted to before a dot product with a row of `type`:
// T_F32 (float rows), VT_Q8A or VT_Q8G (32-blocks) or T_Q8_K (256-blocks).
int32_t vec_dot_type(int32_t type);
void quantize_row_q8a(const float* x, BlockQ8A* y, int64_t n);
void quantize_row_q8g(const float* x, BlockQ8G* y, int64_t n);
void quantize_row_q8k(const float* x, BlockQ8_K* y, int64_t n);
// Convert one f32 row to the vec-dot type `vt` (f32: copy).
void convert_row_vdt(int32_t vt, const float* x, void* y, int64_t n);

// dot(a row of `type`, b row already in vec_dot_type(type)), n elements.
using VecDotFn = float (*)(int64_t n, const void* a, const void* b);
VecDotFn vec_dot_fn(int32_t type);

// The same against nc ≤ VEC_DOT_MAX_COLS b rows at once (each weight block is decoded once for all of them):
// out[c] = dot(a, b[c]). nullptr when the type has no such kernel (then call vec_dot_fn per column).
constexpr int VEC_DOT_MAX_COLS = 4;
using VecDotMultiFn = void (*)(int64_t n, const void* a, const void* const* b, int nc, float* out);
VecDotMultiFn vec_dot_multi_fn(int32_t type);

}  // namespace mm
}  // namespace ggts
