// Block formats on the device (mirrors packages/tensor/src/quant/*.ts). Every supported row is read in
// 32-element chunks: chunk c of a row covers elements [32c, 32c + 32).
#pragma once
#include "device.cuh"

namespace ggts_cuda {

__device__ inline uint32_t u16_at(const uint8_t* p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
__device__ inline uint32_t u32_at(const uint8_t* p) { return u16_at(p) | (u16_at(p + 2) << 16); }
__device__ inline float half_at(const uint8_t* p) { return f16_to_f32((uint16_t)u16_at(p)); }

__device__ __constant__ const int8_t IQ4NL_VALUES[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Decodes chunk c of a row of `type` starting at `row` into out[32].
__device__ inline void dequant_chunk(int32_t type, const char* rowp, int64_t c, float* out) {
  const uint8_t* row = (const uint8_t*)rowp;
  switch (type) {
    case T_F32: { const float* x = (const float*)row + 32 * c; for (int i = 0; i < 32; i++) out[i] = x[i]; return; }
    case T_F16: { const uint16_t* x = (const uint16_t*)row + 32 * c; for (int i = 0; i < 32; i++) out[i] = f16_to_f32(x[i]); return; }
    case T_BF16: { const uint16_t* x = (const uint16_t*)row + 32 * c; for (int i = 0; i < 32; i++) out[i] = bf16_to_f32(x[i]); return; }
    case T_Q4_0: {
      const uint8_t* b = row + 18 * c; const float d = half_at(b);
      for (int j = 0; j < 16; j++) { const int q = b[2 + j]; out[j] = ((q & 15) - 8) * d; out[j + 16] = ((q >> 4) - 8) * d; }
      return;
    }
    case T_Q4_1: {
      const uint8_t* b = row + 20 * c; const float d = half_at(b), m = half_at(b + 2);
      for (int j = 0; j < 16; j++) { const int q = b[4 + j]; out[j] = __fadd_rn(__fmul_rn((float)(q & 15), d), m); out[j + 16] = __fadd_rn(__fmul_rn((float)(q >> 4), d), m); }
      return;
    }
    case T_Q5_0: {
      const uint8_t* b = row + 22 * c; const float d = half_at(b); const uint32_t qh = u32_at(b + 2);
      for (int j = 0; j < 16; j++) {
        const int q = b[6 + j];
        // qh is unsigned: the 5-bit code goes through int so that code − 16 can be negative.
        out[j] = ((int)((q & 15) | (((qh >> j) & 1) << 4)) - 16) * d;
        out[j + 16] = ((int)((q >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16) * d;
      }
      return;
    }
    case T_Q5_1: {
      const uint8_t* b = row + 24 * c; const float d = half_at(b), m = half_at(b + 2); const uint32_t qh = u32_at(b + 4);
      for (int j = 0; j < 16; j++) {
        const int q = b[8 + j];
        out[j] = __fadd_rn(__fmul_rn((float)((q & 15) | (((qh >> j) & 1) << 4)), d), m);
        out[j + 16] = __fadd_rn(__fmul_rn((float)((q >> 4) | (((qh >> (j + 16)) & 1) << 4)), d), m);
      }
      return;
    }
    case T_Q8_0: {
      const uint8_t* b = row + 34 * c; const float d = half_at(b);
      for (int j = 0; j < 32; j++) out[j] = (float)(int8_t)b[2 + j] * d;
      return;
    }
    case T_IQ4_NL: {
      const uint8_t* b = row + 18 * c; const float d = half_at(b);
      for (int j = 0; j < 16; j++) { const int q = b[2 + j]; out[j] = d * IQ4NL_VALUES[q & 15]; out[j + 16] = d * IQ4NL_VALUES[q >> 4]; }
      return;
    }
    default: break;
  }
  // 256-element super-blocks: chunk c is sub-chunk j of super-block sb.
  const int64_t sb = c >> 3;
  const int j = (int)(c & 7);
  switch (type) {
    case T_Q2_K: {
      const uint8_t* b = row + 84 * sb; const float d = half_at(b + 80), dmin = half_at(b + 82);
      for (int half = 0; half < 2; half++) {
        const int s = 2 * j + half, sc = b[s];
        const float dl = __fmul_rn(d, (float)(sc & 15)), ml = __fmul_rn(dmin, (float)(sc >> 4));
        const int h = s >> 3, shift = 2 * ((s >> 1) & 3);
        const uint8_t* qb = b + 16 + 32 * h + 16 * (s & 1);
        for (int l = 0; l < 16; l++) out[16 * half + l] = __fsub_rn(__fmul_rn(dl, (float)((qb[l] >> shift) & 3)), ml);
      }
      return;
    }
    case T_Q3_K: {
      const uint8_t* b = row + 110 * sb; const float dall = half_at(b + 108);
      const uint8_t* sc = b + 96;
      for (int half = 0; half < 2; half++) {
        const int s = 2 * j + half;
        const int lo = s < 8 ? (sc[s] & 15) : (sc[s - 8] >> 4);
        const int hi = (sc[8 + (s & 3)] >> (2 * (s >> 2))) & 3;
        const float dl = __fmul_rn(dall, (float)((lo | (hi << 4)) - 32));
        const int h = s >> 3, jj = (s >> 1) & 3, shift = 2 * jj, hbit = 1 << (4 * h + jj), r0 = 16 * (s & 1);
        const uint8_t* qb = b + 32 + 32 * h;
        for (int l = 0; l < 16; l++) {
          const int r = r0 + l;
          const int q = ((qb[r] >> shift) & 3) - ((b[r] & hbit) ? 0 : 4);
          out[16 * half + l] = dl * (float)q;
        }
      }
      return;
    }
    case T_Q4_K: case T_Q5_K: {
      const bool five = type == T_Q5_K;
      const uint8_t* b = row + (five ? 176 : 144) * sb;
      const float d = half_at(b), dmin = half_at(b + 2);
      const uint8_t* q = b + 4;
      int sc, m;
      if (j < 4) { sc = q[j] & 63; m = q[j + 4] & 63; }
      else { sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4); m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
      const float d1 = __fmul_rn(d, (float)sc), m1 = __fmul_rn(dmin, (float)m);
      const uint8_t* qb = b + (five ? 48 : 16) + 32 * (j >> 1);
      const int shift = 4 * (j & 1);
      for (int r = 0; r < 32; r++) {
        int v = (qb[r] >> shift) & 15;
        if (five && ((b[16 + r] >> j) & 1)) v += 16;
        out[r] = __fsub_rn(__fmul_rn(d1, (float)v), m1);
      }
      return;
    }
    case T_Q6_K: {
      const uint8_t* b = row + 210 * sb; const float d = half_at(b + 208);
      for (int half = 0; half < 2; half++) {
        const int s = 2 * j + half;
        const float ds = __fmul_rn(d, (float)(int8_t)b[192 + s]);
        const int h = s >> 3, g = (s >> 1) & 3, r0 = 16 * (s & 1);
        const uint8_t* lb = b + 64 * h + 32 * (g & 1);
        const int lshift = g < 2 ? 0 : 4;
        const uint8_t* hb = b + 128 + 32 * h;
        for (int l = 0; l < 16; l++) {
          const int r = r0 + l;
          const int q = (((lb[r] >> lshift) & 15) | (((hb[r] >> (2 * g)) & 3) << 4)) - 32;
          out[16 * half + l] = ds * (float)q;
        }
      }
      return;
    }
    case T_IQ4_XS: {
      const uint8_t* b = row + 136 * sb; const float d = half_at(b);
      const uint32_t sh = u16_at(b + 2);
      const int ls = ((b[4 + (j >> 1)] >> (4 * (j & 1))) & 15) | (((sh >> (2 * j)) & 3) << 4);
      const float dl = __fmul_rn(d, (float)(ls - 32));
      const uint8_t* qs = b + 8 + 16 * j;
      for (int l = 0; l < 16; l++) { out[l] = dl * IQ4NL_VALUES[qs[l] & 15]; out[l + 16] = dl * IQ4NL_VALUES[qs[l] >> 4]; }
      return;
    }
    default:
      for (int i = 0; i < 32; i++) out[i] = 0.f;
  }
}

// One element of a row of any readable type (slow path: decodes its chunk).
__device__ inline float load_row_elem(int32_t type, const char* row, int64_t i) {
  if (type == T_F32 || type == T_F16 || type == T_BF16) return load_plain(type, row + i * (type == T_F32 ? 4 : 2));
  float tmp[32];
  dequant_chunk(type, row, i >> 5, tmp);
  return tmp[i & 31];
}

// Encodes 32 floats as one block of a writable quantized type (ggml's quantize_row_*_ref rounding).
__device__ inline void quantize_block(int32_t type, const float* x, uint8_t* out) {
  // Every 16-bit field sits at an even offset of an even-sized block (validate.cpp keeps block rows 2-aligned):
  // one 16-bit store. Two byte stores of the f16 scale, correct in the PTX, wrote a wrong low byte on an H200
  // (sm_90 code from nvcc 13.0).
  auto put16 = [](uint8_t* p, uint16_t v) { *(uint16_t*)p = v; };
  switch (type) {
    case T_Q8_0: {
      float amax = 0.f;
      for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
      const float d = __fdiv_rn(amax, 127.f), id = d != 0.f ? __fdiv_rn(1.f, d) : 0.f;
      put16(out, f32_to_f16(d));
      for (int j = 0; j < 32; j++) out[2 + j] = (uint8_t)(int8_t)roundf(__fmul_rn(x[j], id));
      return;
    }
    case T_Q4_0: case T_Q5_0: {
      const bool five = type == T_Q5_0;
      const float half = five ? 16.f : 8.f;
      const int top = five ? 31 : 15, qs = five ? 6 : 2;
      float amax = 0.f, mx = 0.f;
      for (int j = 0; j < 32; j++) if (amax < fabsf(x[j])) { amax = fabsf(x[j]); mx = x[j]; }
      const float d = __fdiv_rn(mx, -half), id = d != 0.f ? __fdiv_rn(1.f, d) : 0.f;
      put16(out, f32_to_f16(d));
      uint32_t qh = 0;
      for (int j = 0; j < 16; j++) {
        const int q0 = min(top, (int)__fadd_rn(__fmul_rn(x[j], id), half + 0.5f));
        const int q1 = min(top, (int)__fadd_rn(__fmul_rn(x[j + 16], id), half + 0.5f));
        out[qs + j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
        qh |= (uint32_t)((q0 >> 4) & 1) << j;
        qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
      }
      if (five) { put16(out + 2, (uint16_t)qh); put16(out + 4, (uint16_t)(qh >> 16)); }
      return;
    }
    case T_Q4_1: case T_Q5_1: {
      const bool five = type == T_Q5_1;
      const float levels = five ? 31.f : 15.f;
      const int qs = five ? 8 : 4;
      float mn = INFINITY, mx = -INFINITY;
      for (int j = 0; j < 32; j++) { mn = fminf(mn, x[j]); mx = fmaxf(mx, x[j]); }
      const float d = __fdiv_rn(__fsub_rn(mx, mn), levels), id = d != 0.f ? __fdiv_rn(1.f, d) : 0.f;
      put16(out, f32_to_f16(d));
      put16(out + 2, f32_to_f16(mn));
      uint32_t qh = 0;
      for (int j = 0; j < 16; j++) {
        int q0 = (int)__fadd_rn(__fmul_rn(__fsub_rn(x[j], mn), id), 0.5f);
        int q1 = (int)__fadd_rn(__fmul_rn(__fsub_rn(x[j + 16], mn), id), 0.5f);
        if (five) { q0 &= 0xff; q1 &= 0xff; } else { q0 = min(15, q0); q1 = min(15, q1); }
        out[qs + j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
        qh |= (uint32_t)((q0 >> 4) & 1) << j;
        qh |= (uint32_t)((q1 >> 4) & 1) << (j + 16);
      }
      if (five) { put16(out + 4, (uint16_t)qh); put16(out + 6, (uint16_t)(qh >> 16)); }
      return;
    }
    default: return;
  }
}

}  // namespace ggts_cuda
