// Standalone checks and timings of the matmul/quant kernels (not part of the addon).
// Usage: matmul_test [--fixtures DIR] [--quick] [--no-tests] [--bench] [--bench-k K] [--bench-types f32,q4_K]
//                    [--bench-seconds S] [--stream] [--stream-shape K N] [--mul-mat-only]
//   --mul-mat-only: only the MUL_MAT / MUL_MAT_ID checks (for builds that change the product paths, e.g. BLAS=1).
//   --stream: single-column products over ~1 GiB of weights (memory-bound decode) vs the machine's read bandwidth.
//   DIR = the shared fixtures folder (holds dequant/<model>/index.json and the .gguf files).
// The formula references below must round like ggml's scalar code: no fused multiply-add.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../dot_float.h"
#include "../matmul.h"
#include "../matmul_gemm.h"
#include "../quants.h"
#include "../simd.h"

using namespace ggts;

static int g_fail = 0;
#define CHECK(cond, ...)                       \
  do {                                         \
    if (!(cond)) {                             \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      std::printf(__VA_ARGS__);                \
      std::printf("\n");                       \
      g_fail++;                                \
    }                                          \
  } while (0)

// ---------------------------------------------------------------- thread pool with a spin barrier

struct SpinBarrier {
  std::atomic<int> count{0};
  std::atomic<int> gen{0};
  int n = 1;
};
static void barrier_fn(void* p) {
  SpinBarrier* b = (SpinBarrier*)p;
  const int g = b->gen.load(std::memory_order_acquire);
  if (b->count.fetch_add(1, std::memory_order_acq_rel) + 1 == b->n) {
    b->count.store(0, std::memory_order_relaxed);
    b->gen.fetch_add(1, std::memory_order_acq_rel);
  } else {
    while (b->gen.load(std::memory_order_acquire) == g) {
#if defined(__x86_64__)
      _mm_pause();
#endif
    }
  }
}

static double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Runs fn on nth threads; returns the largest per-thread CPU time (the machine is shared, so wall time alone
// under-reports what the kernel does when it has the cores).
static double run_threads(int nth, std::vector<uint8_t>& scratch, const std::function<void(const KernelCtx&)>& fn) {
  SpinBarrier bar;
  bar.n = nth;
  std::vector<ChunkClaims> claims((size_t)nth);
  std::vector<std::thread> ts;
  std::vector<double> cpu((size_t)nth, 0.0);
  auto body = [&](int ith) {
    const double c0 = thread_cpu_seconds();
    KernelCtx ctx{ith, nth, scratch.data(), scratch.size(), barrier_fn, &bar, claims.data()};
    fn(ctx);
    cpu[(size_t)ith] = thread_cpu_seconds() - c0;
  };
  for (int i = 1; i < nth; i++) ts.emplace_back(body, i);
  body(0);
  for (auto& t : ts) t.join();
  return *std::max_element(cpu.begin(), cpu.end());
}

// Between two kernel calls in one run_threads: all threads done, claim counters zeroed for the next node.
static void between_nodes(const KernelCtx& ctx) {
  ctx.barrier();
  if (ctx.ith == 0)
    for (int t = 0; t < ctx.nth; t++) ctx.claims[t].v.store(0);
  ctx.barrier();
}

// ---------------------------------------------------------------- helpers

static const char* tname(int32_t t) {
  switch (t) {
    case T_F32: return "f32"; case T_F16: return "f16"; case T_BF16: return "bf16";
    case T_Q4_0: return "q4_0"; case T_Q4_1: return "q4_1"; case T_Q5_0: return "q5_0"; case T_Q5_1: return "q5_1";
    case T_Q8_0: return "q8_0"; case T_Q8_1: return "q8_1"; case T_Q2_K: return "q2_K"; case T_Q3_K: return "q3_K";
    case T_Q4_K: return "q4_K"; case T_Q5_K: return "q5_K"; case T_Q6_K: return "q6_K"; case T_Q8_K: return "q8_K";
    case T_IQ4_NL: return "iq4_nl"; case T_IQ4_XS: return "iq4_xs";
    default: return "?";
  }
}

static std::mt19937 rng(12345);
static double g_bench_seconds = 0.6;
static float urand(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }

static void put_half(uint8_t* p, float v) {
  const uint16_t h = mm::float_to_half(v);
  std::memcpy(p, &h, 2);
}

// Random but well-formed weight rows of any type: random bytes with the scale fields set to sane values.
static std::vector<uint8_t> random_rows(int32_t type, int64_t k, int64_t rows) {
  const int blk = mm::type_block(type), bytes = mm::type_bytes(type);
  const int64_t nb = k / blk * rows;
  std::vector<uint8_t> v((size_t)(nb * bytes));
  if (type == T_F32 || type == T_F16 || type == T_BF16) {
    std::vector<float> f((size_t)(k * rows));
    for (auto& x : f) x = urand(-1, 1);
    quantize_row(type, f.data(), v.data(), k * rows);
    return v;
  }
  for (auto& b : v) b = (uint8_t)(rng() & 0xff);
  for (int64_t i = 0; i < nb; i++) {
    uint8_t* b = v.data() + i * bytes;
    const float d = urand(0.002f, 0.02f), dm = urand(0.0f, 0.02f);
    switch (type) {
      case T_Q4_0: case T_Q5_0: case T_Q8_0: case T_IQ4_NL: put_half(b, d); break;
      case T_Q4_1: case T_Q5_1: put_half(b, d); put_half(b + 2, urand(-0.1f, 0.1f)); break;
      case T_Q2_K: put_half(b + 80, d); put_half(b + 82, dm); break;
      case T_Q3_K: put_half(b + 108, d); break;
      case T_Q4_K: case T_Q5_K: put_half(b, d); put_half(b + 2, dm); break;
      case T_Q6_K: put_half(b + 208, d); break;
      case T_IQ4_XS: put_half(b, d); break;
      default: break;
    }
  }
  return v;
}

static double nmse(const std::vector<double>& ref, const float* got, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (ref[i] - got[i]) * (ref[i] - got[i]);
    den += ref[i] * ref[i];
  }
  return den > 0 ? num / den : num;
}

// ---------------------------------------------------------------- known blocks

static void test_known_blocks() {
  float out[256];
  {  // Q4_0: d = 0.5, nibbles j → element j (low) and j+16 (high)
    mm::BlockQ4_0 b;
    b.d = mm::float_to_half(0.5f);
    for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
    dequantize_row(T_Q4_0, &b, out, 32);
    for (int j = 0; j < 16; j++) {
      CHECK(out[j] == (j - 8) * 0.5f, "q4_0 lo %d: %g", j, out[j]);
      CHECK(out[j + 16] == (7 - j) * 0.5f, "q4_0 hi %d: %g", j, out[j + 16]);
    }
  }
  {  // Q5_1: high bits from qh, x = q·d + m
    mm::BlockQ5_1 b;
    b.d = mm::float_to_half(0.25f);
    b.m = mm::float_to_half(-1.0f);
    const uint32_t qh = 0xA5A5F00Fu;
    std::memcpy(b.qh, &qh, 4);
    for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(((j * 7) & 15) | (((j * 3) & 15) << 4));
    dequantize_row(T_Q5_1, &b, out, 32);
    for (int j = 0; j < 16; j++) {
      const int q0 = ((j * 7) & 15) | (((qh >> j) & 1) << 4), q1 = ((j * 3) & 15) | (((qh >> (j + 16)) & 1) << 4);
      CHECK(out[j] == q0 * 0.25f - 1.0f, "q5_1 %d", j);
      CHECK(out[j + 16] == q1 * 0.25f - 1.0f, "q5_1 %d", j + 16);
    }
  }
  {  // Q4_K: scales/mins packing for sub-blocks < 4 and ≥ 4
    mm::BlockQ4_K b;
    std::memset(&b, 0, sizeof b);
    b.d = mm::float_to_half(1.0f);
    b.dmin = mm::float_to_half(0.5f);
    // sc[s] = s+1, m[s] = 2s (all < 16 so the high-bit fields are simple)
    for (int s = 0; s < 4; s++) { b.scales[s] = (uint8_t)(s + 1); b.scales[s + 4] = (uint8_t)(2 * s); }
    for (int s = 4; s < 8; s++) b.scales[s + 4] = (uint8_t)((s + 1) | ((2 * s) << 4));
    for (int i = 0; i < 128; i++) b.qs[i] = (uint8_t)((i % 16) | (((i + 5) % 16) << 4));
    dequantize_row(T_Q4_K, &b, out, 256);
    for (int i = 0; i < 256; i++) {
      const int s = i / 32, r = i % 32;
      const uint8_t byte = b.qs[32 * (s / 2) + r];
      const int q = (s % 2) ? byte >> 4 : byte & 15;
      CHECK(out[i] == 1.0f * (s + 1) * q - 0.5f * (2 * s), "q4_K %d: %g", i, out[i]);
    }
  }
  {  // Q6_K against the ops.md formula
    mm::BlockQ6_K b;
    for (int i = 0; i < 128; i++) b.ql[i] = (uint8_t)(rng() & 255);
    for (int i = 0; i < 64; i++) b.qh[i] = (uint8_t)(rng() & 255);
    for (int i = 0; i < 16; i++) b.scales[i] = (int8_t)(i * 5 - 40);
    b.d = mm::float_to_half(0.125f);
    dequantize_row(T_Q6_K, &b, out, 256);
    for (int i = 0; i < 256; i++) {
      const int h = i >> 7, g = (i >> 5) & 3, r = i & 31;
      const uint8_t l = b.ql[64 * h + 32 * (g & 1) + r];
      const int lo = g < 2 ? (l & 15) : (l >> 4);
      const int hi = (b.qh[32 * h + r] >> (2 * g)) & 3;
      CHECK(out[i] == 0.125f * b.scales[i >> 4] * ((lo | (hi << 4)) - 32), "q6_K %d", i);
    }
  }
  {  // Q3_K against the ops.md formula
    mm::BlockQ3_K b;
    for (auto& x : b.hmask) x = (uint8_t)(rng() & 255);
    for (auto& x : b.qs) x = (uint8_t)(rng() & 255);
    for (auto& x : b.scales) x = (uint8_t)(rng() & 255);
    b.d = mm::float_to_half(0.03125f);
    dequantize_row(T_Q3_K, &b, out, 256);
    for (int i = 0; i < 256; i++) {
      const int h = i >> 7, j = (i >> 5) & 3, r = i & 31, t = i >> 4;
      const int q = ((b.qs[32 * h + r] >> (2 * j)) & 3) - (((b.hmask[r] >> (4 * h + j)) & 1) ? 0 : 4);
      const int lo = t < 8 ? b.scales[t] & 15 : b.scales[t - 8] >> 4;
      const int hi = (b.scales[8 + (t & 3)] >> (2 * (t >> 2))) & 3;
      CHECK(out[i] == 0.03125f * ((lo | (hi << 4)) - 32) * q, "q3_K %d", i);
    }
  }
  {  // Q2_K, IQ4_XS against the formula
    mm::BlockQ2_K b;
    for (auto& x : b.qs) x = (uint8_t)(rng() & 255);
    for (auto& x : b.scales) x = (uint8_t)(rng() & 255);
    b.d = mm::float_to_half(0.5f);
    b.dmin = mm::float_to_half(0.25f);
    dequantize_row(T_Q2_K, &b, out, 256);
    for (int i = 0; i < 256; i++) {
      const int h = i >> 7, j = (i >> 5) & 3, r = i & 31;
      const int q = (b.qs[32 * h + r] >> (2 * j)) & 3, sc = b.scales[i >> 4];
      CHECK(out[i] == 0.5f * (sc & 15) * q - 0.25f * (sc >> 4), "q2_K %d", i);
    }
    mm::BlockIQ4XS x;
    for (auto& v : x.qs) v = (uint8_t)(rng() & 255);
    for (auto& v : x.scales_l) v = (uint8_t)(rng() & 255);
    x.scales_h = 0x9c3a;
    x.d = mm::float_to_half(0.01f);
    dequantize_row(T_IQ4_XS, &x, out, 256);
    const float d = mm::half_to_float(x.d);
    for (int bb = 0; bb < 8; bb++) {
      const int ls = ((x.scales_l[bb >> 1] >> (4 * (bb & 1))) & 15) | (((x.scales_h >> (2 * bb)) & 3) << 4);
      const float dl = d * (ls - 32);
      for (int j = 0; j < 16; j++) {
        CHECK(out[32 * bb + j] == dl * mm::kvalues_iq4nl[x.qs[16 * bb + j] & 15], "iq4_xs");
        CHECK(out[32 * bb + 16 + j] == dl * mm::kvalues_iq4nl[x.qs[16 * bb + j] >> 4], "iq4_xs");
      }
    }
  }
  {  // half conversion: exhaustive round trip and a few roundings
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
      const float f = mm::half_to_float((uint16_t)h);
#if GGTS_MM_AVX2
      const float hw = _cvtsh_ss((uint16_t)h);
      if (std::memcmp(&hw, &f, 4) != 0) bad++;  // NaNs included
#endif
      if (std::isnan(f)) continue;
      if (mm::float_to_half(f) != h) bad++;
    }
    CHECK(bad == 0, "half round trip: %d bad", bad);
#if GGTS_MM_AVX2
    for (int i = 0; i < 200000; i++) {
      uint32_t u = (uint32_t)rng();
      float f;
      std::memcpy(&f, &u, 4);
      if (std::isnan(f)) continue;
      if (mm::float_to_half(f) != _cvtss_sh(f, 0)) { bad++; break; }
    }
    CHECK(bad == 0, "float_to_half differs from F16C");
#endif
    CHECK(mm::float_to_bf16(1.00390625f) == 0x3f80, "bf16 ties to even");
    CHECK(mm::float_to_bf16(1.01171875f) == 0x3f82, "bf16 ties to even (odd)");
  }
}

// Element i of one block, straight from the ops.md §11 formulas (scalar, independent of the kernels' code paths).
static float formula_value(int32_t t, const uint8_t* b, int i) {
  auto half = [&](int off) { uint16_t h; std::memcpy(&h, b + off, 2); return mm::half_to_float(h); };
  auto nib = [&](const uint8_t* qs, int j) { return j < 16 ? qs[j] & 15 : qs[j - 16] >> 4; };
  const int h = i >> 7, j = (i >> 5) & 3, r = i & 31, s = i >> 5;
  switch (t) {
    case T_Q4_0: return (float)(nib(b + 2, i) - 8) * half(0);
    case T_Q4_1: return (float)nib(b + 4, i) * half(0) + half(2);
    case T_Q5_0: case T_Q5_1: {
      const int off = t == T_Q5_0 ? 2 : 4;
      uint32_t qh;
      std::memcpy(&qh, b + off, 4);
      const int q = nib(b + off + 4, i) | (((qh >> i) & 1) << 4);
      return t == T_Q5_0 ? (float)(q - 16) * half(0) : (float)q * half(0) + half(2);
    }
    case T_Q8_0: return (float)(int8_t)b[2 + i] * half(0);
    case T_IQ4_NL: return half(0) * (float)mm::kvalues_iq4nl[nib(b + 2, i)];
    case T_Q2_K: {
      const int q = (b[16 + 32 * h + r] >> (2 * j)) & 3, sc = b[i >> 4];
      return half(80) * (float)(sc & 15) * (float)q - half(82) * (float)(sc >> 4);
    }
    case T_Q4_K: case T_Q5_K: {
      const uint8_t* sc = b + 4;
      const uint8_t* qs = b + (t == T_Q4_K ? 16 : 48);
      int d, m;
      if (s < 4) { d = sc[s] & 63; m = sc[s + 4] & 63; }
      else { d = (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4); m = (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4); }
      int q = (s & 1) ? qs[32 * (s >> 1) + r] >> 4 : qs[32 * (s >> 1) + r] & 15;
      if (t == T_Q5_K) q += 16 * ((b[16 + r] >> s) & 1);
      return half(0) * (float)d * (float)q - half(2) * (float)m;
    }
    case T_Q8_K: { float d; std::memcpy(&d, b, 4); return d * (float)(int8_t)b[4 + i]; }
    case T_IQ4_XS: {
      uint16_t sh;
      std::memcpy(&sh, b + 2, 2);
      const int ls = ((b[4 + (s >> 1)] >> (4 * (s & 1))) & 15) | (((sh >> (2 * s)) & 3) << 4);
      const int k = i & 31;
      const uint8_t q = b[8 + 16 * s + (k & 15)];
      return half(0) * (float)(ls - 32) * (float)mm::kvalues_iq4nl[k < 16 ? q & 15 : q >> 4];
    }
    default: return NAN;  // Q3_K and Q6_K have their own known-block checks above
  }
}

static void test_dequant_formulas() {
  for (int32_t t : {T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1, T_Q8_0, T_IQ4_NL, T_Q2_K, T_Q4_K, T_Q5_K, T_Q8_K, T_IQ4_XS}) {
    const int blk = mm::type_block(t), bytes = mm::type_bytes(t);
    std::vector<uint8_t> q(t == T_Q8_K ? (size_t)bytes * 3 : 0);
    if (t == T_Q8_K) {
      for (auto& v : q) v = (uint8_t)(rng() & 255);
      for (int k = 0; k < 3; k++) { const float d = urand(0.001f, 1.0f); std::memcpy(q.data() + k * bytes, &d, 4); }
    } else {
      q = random_rows(t, (int64_t)blk * 3, 1);
    }
    std::vector<float> out((size_t)blk * 3);
    dequantize_row(t, q.data(), out.data(), (int64_t)blk * 3);
    int bad = 0;
    for (int k = 0; k < 3; k++)
      for (int i = 0; i < blk; i++) {
        const float want = formula_value(t, q.data() + k * bytes, i), got = out[(size_t)(k * blk + i)];
        if (std::memcmp(&want, &got, 4) != 0) bad++;
      }
    CHECK(bad == 0, "dequantize %s: %d values differ from the ops.md formula", tname(t), bad);
  }
  // f16 / bf16 rows (the SIMD conversion path and its scalar tail)
  std::vector<uint16_t> h(37);
  for (auto& v : h) v = (uint16_t)(rng() & 0xffff);
  std::vector<float> out(37);
  for (int32_t t : {T_F16, T_BF16}) {
    dequantize_row(t, h.data(), out.data(), 37);
    int bad = 0;
    for (int i = 0; i < 37; i++) {
      const float want = t == T_F16 ? mm::half_to_float(h[i]) : mm::bf16_to_float(h[i]);
      if (std::memcmp(&want, &out[i], 4) != 0) bad++;
    }
    CHECK(bad == 0, "dequantize %s: %d values differ", tname(t), bad);
  }
}

// ---------------------------------------------------------------- quantizers

static void test_quantizers() {
  const int32_t types[] = {T_F16, T_BF16, T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1, T_Q8_0, T_IQ4_NL};
  const int n = 4096;
  std::vector<float> x(n), y(n);
  for (auto& v : x) v = urand(-150, 150);
  double msx = 0;
  for (float v : x) msx += (double)v * v;
  msx /= n;
  for (int32_t t : types) {
    std::vector<uint8_t> q(mm::row_bytes(t, n));
    quantize_row(t, x.data(), q.data(), n);
    dequantize_row(t, q.data(), y.data(), n);
    double err = 0;
    for (int i = 0; i < n; i++) err += (double)(x[i] - y[i]) * (x[i] - y[i]);
    const double nm = err / n / msx;
    // uniform data: error ≈ step²/12 with step ≈ 2·amax/15 (4-bit), /31 (5-bit), /255 (8-bit)
    double lim;
    switch (t) {
      case T_F16: lim = 1e-6; break;
      case T_BF16: lim = 1e-5; break;
      case T_Q8_0: lim = 2e-5; break;
      case T_Q5_0: case T_Q5_1: lim = 1.5e-3; break;
      default: lim = 6e-3; break;
    }
    CHECK(nm < lim, "quantize %s round trip nmse %g", tname(t), nm);
  }
  {  // Q8_0 rounding: x = 127·j/127 style ramp maps to exact ints
    float r[32];
    for (int j = 0; j < 32; j++) r[j] = (float)(j * 8 - 127) * 0.5f;
    r[0] = -63.5f;  // amax
    mm::BlockQ8_0 b;
    quantize_row(T_Q8_0, r, &b, 32);
    CHECK(mm::half_to_float(b.d) == mm::half_to_float(mm::float_to_half(63.5f / 127)), "q8_0 d");
    CHECK(b.qs[0] == -127 && b.qs[16] == (int8_t)std::roundf(r[16] * (127 / 63.5f)), "q8_0 qs");
  }
  {  // Q4_0 reference: d = max/-8 of the signed absmax; the absmax element maps to q = 0
    float r[32];
    for (int j = 0; j < 32; j++) r[j] = urand(-1, 1);
    r[5] = 2.0f;
    mm::BlockQ4_0 b;
    quantize_row(T_Q4_0, r, &b, 32);
    CHECK(mm::half_to_float(b.d) == -0.25f, "q4_0 d %g", mm::half_to_float(b.d));
    CHECK((b.qs[5] & 15) == 0, "q4_0 absmax → 0");
  }
  {  // IQ4_NL: zero block and a block equal to the grid itself
    float r[32] = {};
    mm::BlockIQ4NL b;
    quantize_row(T_IQ4_NL, r, &b, 32);
    CHECK(b.d == 0 && b.qs[0] == 0x88, "iq4_nl zero block");
    for (int j = 0; j < 32; j++) r[j] = 0.01f * mm::kvalues_iq4nl[(j * 5) % 16];
    quantize_row(T_IQ4_NL, r, &b, 32);
    dequantize_row(T_IQ4_NL, &b, y.data(), 32);
    double e = 0;
    for (int j = 0; j < 32; j++) e = std::max(e, (double)std::fabs(y[j] - r[j]));
    CHECK(e < 1e-3, "iq4_nl exact grid max err %g", e);
  }
}

// ---------------------------------------------------------------- vec-dot kernels vs exact products

// The integer dot kernels must equal dequant(a)·dequant(quantized b) up to float rounding: much tighter than
// the 5e-4 NMSE of the end-to-end check, so a wrong sub-block scale or bit cannot hide.
static void test_vec_dot_exact() {
  const int32_t types[] = {T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1, T_Q8_0, T_IQ4_NL, T_Q2_K, T_Q3_K, T_Q4_K, T_Q5_K, T_Q6_K, T_IQ4_XS};
  for (int32_t t : types) {
    for (int rep = 0; rep < 20; rep++) {
      // odd reps of 32-element types: 35 blocks, so Q8G rows end in a partial group of 3
      const int64_t K = mm::type_block(t) == 32 && rep % 2 ? 1120 : 1024;
      std::vector<uint8_t> a = random_rows(t, K, 1);
      std::vector<float> x((size_t)K), af((size_t)K), yf((size_t)K);
      for (auto& v : x) v = urand(-1, 1) * (rep % 3 == 0 ? 100.f : 1.f);
      const int32_t vt = mm::vec_dot_type(t);
      std::vector<uint8_t> y(mm::row_bytes(vt, K), 0xab);  // not zero: padding must be written
      mm::convert_row_vdt(vt, x.data(), y.data(), K);
      if (vt == T_Q8_K) {
        dequantize_row(T_Q8_K, y.data(), yf.data(), K);
        // bsums must match the quantized values
        for (int64_t bi = 0; bi < K / 256; bi++) {
          const mm::BlockQ8_K& bk = ((const mm::BlockQ8_K*)y.data())[bi];
          for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += bk.qs[16 * g + l];
            CHECK(s == bk.bsums[g], "q8_K bsums");
          }
        }
      } else if (vt == mm::VT_Q8G) {
        for (int64_t bi = 0; bi < K / 32; bi++) {
          const mm::BlockQ8G& g = ((const mm::BlockQ8G*)y.data())[bi / 8];
          int s = 0;
          for (int l = 0; l < 32; l++) { yf[32 * bi + l] = g.d[bi % 8] * g.qs[bi % 8][l]; s += g.qs[bi % 8][l]; }
          CHECK(g.corr[bi % 8] == -16 * s, "q8g corr");
          CHECK(g.d[bi % 8] == mm::half_to_float(mm::float_to_half(g.d[bi % 8])), "q8g scale not an f16 value");
        }
        for (int64_t bi = K / 32; bi % 8; bi++) {  // the partial group's unused entries
          const mm::BlockQ8G& g = ((const mm::BlockQ8G*)y.data())[bi / 8];
          CHECK(g.d[bi % 8] == 0 && g.corr[bi % 8] == 0, "q8g padding");
        }
      } else {
        for (int64_t bi = 0; bi < K / 32; bi++) {
          const mm::BlockQ8A& bq = ((const mm::BlockQ8A*)y.data())[bi];
          int s = 0;
          for (int l = 0; l < 32; l++) { yf[32 * bi + l] = bq.d * bq.qs[l]; s += bq.qs[l]; }
          // s and d are both rounded to f16 (as ggml stores them): within two half ulps of each other's product
          CHECK(std::fabs(bq.s - bq.d * s) <= 1.5e-3f * std::fabs(bq.d * s) + 1e-30f, "q8a sum");
        }
      }
      double qerr = 0, xs = 0;
      for (int64_t k = 0; k < K; k++) { qerr += (x[k] - yf[k]) * (double)(x[k] - yf[k]); xs += (double)x[k] * x[k]; }
      CHECK(qerr / xs < 1e-4, "%s activation quantization nmse %g", tname(vt == T_Q8_K ? T_Q8_K : T_Q8_0), qerr / xs);
      dequantize_row(t, a.data(), af.data(), K);
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < K; k++) { ref += (double)af[k] * yf[k]; mag += std::fabs((double)af[k] * yf[k]); }
      if (t == T_Q4_1 || t == T_Q5_1)  // the weight offset meets the stored (f16-rounded) activation sum s
        for (int64_t bi = 0; bi < K / 32; bi++) {
          const mm::BlockQ8A& bq = ((const mm::BlockQ8A*)y.data())[bi];
          uint16_t mh;
          std::memcpy(&mh, a.data() + bi * mm::type_bytes(t) + 2, 2);
          int qsum = 0;
          for (int l = 0; l < 32; l++) qsum += bq.qs[l];
          ref += (double)mm::half_to_float(mh) * ((double)bq.s - (double)bq.d * qsum);
        }
      const float got = mm::vec_dot_fn(t)(K, a.data(), y.data());
      CHECK(std::fabs(got - ref) <= 2e-6 * mag + 1e-30, "vec_dot %s: %g vs exact %g (scale %g)", tname(t), got, ref, mag);
      if (mm::VecDotMultiFn multi = mm::vec_dot_multi_fn(t)) {
        // column c: the same b row scaled by (c+1), quantized again
        std::vector<std::vector<uint8_t>> ys(mm::VEC_DOT_MAX_COLS, std::vector<uint8_t>(y.size()));
        const void* bs[mm::VEC_DOT_MAX_COLS];
        for (int c = 0; c < mm::VEC_DOT_MAX_COLS; c++) {
          std::vector<float> xc(x);
          for (auto& v : xc) v *= (float)(c + 1);
          mm::convert_row_vdt(vt, xc.data(), ys[c].data(), K);
          bs[c] = ys[c].data();
        }
        for (int nc = 1; nc <= mm::VEC_DOT_MAX_COLS; nc++) {
          float out[mm::VEC_DOT_MAX_COLS];
          multi(K, a.data(), bs, nc, out);
          for (int c = 0; c < nc; c++) {
            const float single = mm::vec_dot_fn(t)(K, a.data(), bs[c]);
            CHECK(std::fabs(out[c] - single) <= 1e-6 * mag * (c + 1) + 1e-30, "multi-column %s nc=%d c=%d: %g vs %g",
                  tname(t), nc, c, out[c], single);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- fixtures (ggml goldens)

static int type_from_name(const std::string& s) {
  for (int32_t t : {T_F32, T_F16, T_BF16, T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1, T_Q8_0, T_Q2_K, T_Q3_K, T_Q4_K, T_Q5_K,
                    T_Q6_K, T_Q8_K, T_IQ4_NL, T_IQ4_XS})
    if (s == tname(t)) return t;
  return -1;
}

static std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

static void test_fixtures(const std::string& dir) {
  int checked = 0;
  for (const char* model : {"kimi-q-q8_0", "kimi-q-q4_k_m"}) {
    const std::string idx = slurp(dir + "/dequant/" + model + "/index.json");
    CHECK(!idx.empty(), "missing %s/dequant/%s/index.json", dir.c_str(), model);
    if (idx.empty()) continue;
    const std::string gguf = slurp(dir + "/" + model + ".gguf");
    CHECK(!gguf.empty(), "missing %s.gguf", model);
    if (gguf.empty()) continue;
    // one object per tensor: pick its fields with regexes (the file is small and machine-written)
    size_t pos = idx.find("\"tensors\"");
    while ((pos = idx.find('{', pos)) != std::string::npos) {
      const size_t end = idx.find('}', pos);
      const std::string obj = idx.substr(pos, end - pos);
      pos = end;
      std::smatch m;
      auto str = [&](const char* key) {
        std::regex re(std::string("\"") + key + "\"\\s*:\\s*\"([^\"]*)\"");
        return std::regex_search(obj, m, re) ? m[1].str() : std::string();
      };
      auto num = [&](const char* key) {
        std::regex re(std::string("\"") + key + "\"\\s*:\\s*([0-9]+)");
        return std::regex_search(obj, m, re) ? std::stoll(m[1].str()) : -1LL;
      };
      const std::string tensor = str("tensor"), type = str("type"), file = str("file");
      const long long off = num("file_offset"), nbytes = num("nbytes");
      const int t = type_from_name(type);
      if (tensor.empty()) continue;
      CHECK(t >= 0, "%s: unknown type %s", tensor.c_str(), type.c_str());
      if (t < 0 || off < 0 || nbytes < 0 || (size_t)(off + nbytes) > gguf.size()) continue;
      const std::string gold = slurp(dir + "/dequant/" + model + "/" + file);
      const int64_t n = (int64_t)(gold.size() / 4);
      CHECK((int64_t)mm::row_bytes(t, n) == nbytes, "%s: %lld bytes for %lld elements", tensor.c_str(), nbytes, (long long)n);
      std::vector<float> got((size_t)n);
      dequantize_row(t, gguf.data() + off, got.data(), n);
      int64_t diff = 0;
      for (int64_t i = 0; i < n; i++)
        if (std::memcmp(&got[i], gold.data() + 4 * i, 4) != 0) diff++;
      CHECK(diff == 0, "%s/%s (%s): %lld of %lld values differ from ggml", model, tensor.c_str(), type.c_str(),
            (long long)diff, (long long)n);
      // the quantized dot path on the real weights against the exact float product
      const int64_t K = 256 % mm::type_block(t) == 0 && n % 256 == 0 ? 256 : mm::type_block(t);
      const int64_t rows = std::min<int64_t>(n / K, 64);
      std::vector<float> b((size_t)K * 3);
      for (auto& v : b) v = urand(-1, 1);
      TensorDesc A{t, {K, rows, 1, 1}, {mm::type_bytes(t), (int64_t)mm::row_bytes(t, K), 0, 0}, (uint8_t*)gguf.data() + off};
      A.nb[2] = A.nb[1] * rows; A.nb[3] = A.nb[2];
      TensorDesc B{T_F32, {K, 3, 1, 1}, {4, 4 * K, 12 * K, 12 * K}, (uint8_t*)b.data()};
      std::vector<float> d((size_t)rows * 3);
      TensorDesc D{T_F32, {rows, 3, 1, 1}, {4, 4 * rows, 12 * rows, 12 * rows}, (uint8_t*)d.data()};
      std::vector<uint8_t> scratch(mul_mat_wsize(A, B, 1));
      run_threads(1, scratch, [&](const KernelCtx& c) { mul_mat(c, A, B, D); });
      std::vector<double> ref((size_t)rows * 3);
      for (int m = 0; m < 3; m++)
        for (int64_t r = 0; r < rows; r++) {
          double s = 0;
          for (int64_t k = 0; k < K; k++) s += (double)got[r * K + k] * b[m * K + k];
          ref[m * rows + r] = s;
        }
      const double e = nmse(ref, d.data(), ref.size());
      CHECK(e < 5e-4, "%s on real weights: nmse %g", type.c_str(), e);
      checked++;
    }
  }
  std::printf("fixtures: %d tensors checked bit-exact\n", checked);
}

// ---------------------------------------------------------------- mul_mat against dequantize-then-dot

struct Case {
  int32_t type;
  int64_t K, N, M, A2, A3, B2, B3;
  bool b_strided, dst_strided;
  int nth;
};

static void check_mul_mat_path(const Case& c, int path);

// Each case runs with the default path choice and with each path forced (the b-column threshold is a tuning knob).
static void check_mul_mat(const Case& c) {
  for (int path : {0, 1, 2}) check_mul_mat_path(c, path);
}

// path: 0 = default, 1 = packed GEMM, 2 = row dot products
static void check_mul_mat_path(const Case& c, int path) {
  mm::g_gemm_min_m_override = path == 1 ? 1 : path == 2 ? (int64_t)1 << 40 : 0;
  const int64_t K = c.K, N = c.N, M = c.M;
  std::vector<uint8_t> a = random_rows(c.type, K, N * c.A2 * c.A3);
  const int64_t arow = (int64_t)mm::row_bytes(c.type, K);
  TensorDesc A{c.type, {K, N, c.A2, c.A3}, {mm::type_bytes(c.type), arow, arow * N, arow * N * c.A2}, a.data()};
  // b: either contiguous [K, M, B2, B3] or a permuted view of a [M, K, B2, B3] buffer (nb0 = 4·M)
  std::vector<float> bb((size_t)(K * M * c.B2 * c.B3));
  for (auto& v : bb) v = urand(-1, 1);
  TensorDesc B{T_F32, {K, M, c.B2, c.B3}, {4, 4 * K, 4 * K * M, 4 * K * M * c.B2}, (uint8_t*)bb.data()};
  if (c.b_strided) { B.nb[0] = 4 * M; B.nb[1] = 4; }
  // dst: contiguous or transposed storage [M, N] (nb0 = 4·M)
  std::vector<float> d((size_t)(N * M * c.B2 * c.B3), NAN);
  TensorDesc D{T_F32, {N, M, c.B2, c.B3}, {4, 4 * N, 4 * N * M, 4 * N * M * c.B2}, (uint8_t*)d.data()};
  if (c.dst_strided) { D.nb[0] = 4 * M; D.nb[1] = 4; }
  std::vector<uint8_t> scratch(mul_mat_wsize(A, B, c.nth));
  run_threads(c.nth, scratch, [&](const KernelCtx& ctx) { mul_mat(ctx, A, B, D); });
  // reference in double on dequantized a
  std::vector<float> arowf((size_t)K);
  std::vector<double> ref((size_t)(N * M * c.B2 * c.B3));
  std::vector<float> got(ref.size());
  const int64_t r2 = c.B2 / c.A2, r3 = c.B3 / c.A3;
  size_t idx = 0;
  for (int64_t i3 = 0; i3 < c.B3; i3++)
    for (int64_t i2 = 0; i2 < c.B2; i2++)
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++, idx++) {
          dequantize_row(c.type, A.data + n * A.nb[1] + (i2 / r2) * A.nb[2] + (i3 / r3) * A.nb[3], arowf.data(), K);
          double s = 0;
          for (int64_t k = 0; k < K; k++) {
            float bv;
            std::memcpy(&bv, B.data + k * B.nb[0] + m * B.nb[1] + i2 * B.nb[2] + i3 * B.nb[3], 4);
            s += (double)arowf[k] * bv;
          }
          ref[idx] = s;
          std::memcpy(&got[idx], D.data + n * D.nb[0] + m * D.nb[1] + i2 * D.nb[2] + i3 * D.nb[3], 4);
        }
  const double e = nmse(ref, got.data(), ref.size());
  const bool float_dot = c.type == T_F32 || c.type == T_F16 || c.type == T_BF16;
  const double lim = (float_dot || path == 1) ? 1e-9 : 5e-4;
  mm::g_gemm_min_m_override = 0;
  CHECK(e <= lim, "mul_mat path %d %s K=%lld N=%lld M=%lld A=[%lld,%lld] B=[%lld,%lld] bstr=%d dstr=%d nth=%d: nmse %g",
        path, tname(c.type), (long long)K, (long long)N, (long long)M, (long long)c.A2, (long long)c.A3, (long long)c.B2,
        (long long)c.B3, c.b_strided, c.dst_strided, c.nth, e);
}

static void check_mul_mat_id_path(int32_t type, int64_t K, int64_t N, int64_t E, int64_t kk, int64_t nb1, int64_t T,
                                  int nth, int path);
static void check_mul_mat_id(int32_t type, int64_t K, int64_t N, int64_t E, int64_t kk, int64_t nb1, int64_t T, int nth) {
  for (int path : {0, 1, 2}) check_mul_mat_id_path(type, K, N, E, kk, nb1, T, nth, path);
}

static void check_mul_mat_id_path(int32_t type, int64_t K, int64_t N, int64_t E, int64_t kk, int64_t nb1, int64_t T,
                                  int nth, int path) {
  mm::g_gemm_min_m_override = path == 1 ? 1 : path == 2 ? (int64_t)1 << 40 : 0;
  std::vector<uint8_t> a = random_rows(type, K, N * E);
  const int64_t arow = (int64_t)mm::row_bytes(type, K);
  TensorDesc As{type, {K, N, E, 1}, {mm::type_bytes(type), arow, arow * N, arow * N * E}, a.data()};
  std::vector<float> bb((size_t)(K * nb1 * T));
  for (auto& v : bb) v = urand(-1, 1);
  TensorDesc B{T_F32, {K, nb1, T, 1}, {4, 4 * K, 4 * K * nb1, 4 * K * nb1 * T}, (uint8_t*)bb.data()};
  std::vector<int32_t> ids((size_t)(kk * T));
  // skewed routing so some experts get many rows (GEMM path) and others few
  for (int64_t t = 0; t < T; t++) {
    std::vector<int32_t> perm((size_t)E);
    for (int64_t e = 0; e < E; e++) perm[e] = (int32_t)e;
    std::shuffle(perm.begin(), perm.end(), rng);
    if (t % 3 != 0) std::swap(perm[0], *std::find(perm.begin(), perm.end(), 0));
    for (int64_t s = 0; s < kk; s++) ids[s + t * kk] = perm[s];
  }
  TensorDesc I{T_I32, {kk, T, 1, 1}, {4, 4 * kk, 4 * kk * T, 4 * kk * T}, (uint8_t*)ids.data()};
  std::vector<float> d((size_t)(N * kk * T), NAN);
  TensorDesc D{T_F32, {N, kk, T, 1}, {4, 4 * N, 4 * N * kk, 4 * N * kk * T}, (uint8_t*)d.data()};
  std::vector<uint8_t> scratch(mul_mat_id_wsize(As, B, I, nth));
  run_threads(nth, scratch, [&](const KernelCtx& ctx) { mul_mat_id(ctx, As, B, I, D); });
  std::vector<float> arowf((size_t)K);
  std::vector<double> ref(d.size());
  for (int64_t t = 0; t < T; t++)
    for (int64_t s = 0; s < kk; s++)
      for (int64_t n = 0; n < N; n++) {
        dequantize_row(type, a.data() + n * arow + ids[s + t * kk] * arow * N, arowf.data(), K);
        double acc = 0;
        for (int64_t k = 0; k < K; k++) acc += (double)arowf[k] * bb[k + (s % nb1) * K + t * K * nb1];
        ref[n + s * N + t * N * kk] = acc;
      }
  const double e = nmse(ref, d.data(), ref.size());
  mm::g_gemm_min_m_override = 0;
  const bool exact = type == T_F32 || type == T_F16 || type == T_BF16 || path == 1;
  CHECK(e <= (exact ? 1e-9 : 5e-4), "mul_mat_id path %d %s K=%lld N=%lld E=%lld k=%lld nb1=%lld T=%lld nth=%d: nmse %g", path, tname(type),
        (long long)K, (long long)N, (long long)E, (long long)kk, (long long)nb1, (long long)T, nth, e);
}

// Float weight rows: close to a double-precision sum at every length (vector steps and scalar tails), and a row
// paired with another gives bitwise the result it gives alone (MUL_MAT pairs rows only when b has one column).
static void test_float_rows() {
  for (int32_t t : {T_F32, T_F16, T_BF16}) {
    const mm::VecDotFn one = mm::float_dot_fn(t);
    const mm::RowPairFn two = mm::float_pair_fn(t);
    CHECK(one && two, "%s: no float row kernel", tname(t));
    if (!one || !two) continue;
    for (int64_t K : {1, 7, 15, 16, 31, 63, 64, 65, 77, 130, 300, 1000, 2304}) {
      std::vector<uint8_t> a = random_rows(t, K, 2);
      const int64_t arow = (int64_t)mm::row_bytes(t, K);
      std::vector<float> b((size_t)K);
      for (auto& v : b) v = urand(-1, 1);
      const void* rows[2] = {a.data(), a.data() + arow};
      float pair[2];
      two(K, rows, b.data(), pair);
      std::vector<float> af((size_t)K);
      for (int r = 0; r < 2; r++) {
        const float single = one(K, rows[r], b.data());
        CHECK(std::memcmp(&single, &pair[r], 4) == 0, "%s K=%lld row %d: paired %.9g, alone %.9g", tname(t),
              (long long)K, r, pair[r], single);
        dequantize_row(t, (const uint8_t*)rows[r], af.data(), K);
        double ref = 0, mag = 0;
        for (int64_t k = 0; k < K; k++) ref += (double)af[k] * b[k], mag += std::fabs((double)af[k] * b[k]);
        CHECK(std::fabs(single - ref) <= 1e-6 * mag + 1e-30, "%s K=%lld row %d: %.9g, want %.9g", tname(t),
              (long long)K, r, single, ref);
      }
    }
  }
  CHECK(!mm::float_dot_fn(T_Q8_0) && !mm::float_pair_fn(T_Q4_K), "float row kernels offered for a quantized type");
}

static const int32_t kAllTypes[] = {T_F32, T_F16, T_BF16, T_Q8_0, T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1,
                                    T_Q2_K, T_Q3_K, T_Q4_K, T_Q5_K, T_Q6_K, T_IQ4_NL, T_IQ4_XS};

// ---------------------------------------------------------------- chunk claiming

// Every chunk is handed out exactly once, whether or not threads steal; within each thread's range the owner's
// chunks form the front and the ones other threads took the back; a thread that falls behind has its range
// finished by the others.
static void test_chunks() {
  for (int nth : {1, 2, 3, 4})
    for (int64_t n : {0, 1, 3, 7, 64, 1000})
      for (int slow = -1; slow < (nth > 1 ? 2 : 0); slow++) {  // -1: nobody slowed down
        std::vector<std::atomic<int>> taken((size_t)n);
        for (auto& t : taken) t.store(-1);
        std::vector<int64_t> count((size_t)nth, 0);
        std::vector<uint8_t> scratch(64);
        bool twice = false;
        run_threads(nth, scratch, [&](const KernelCtx& ctx) {
          Chunks chunks(ctx, n);
          for (int64_t c; chunks.next(&c);) {
            if (c < 0 || c >= n || taken[(size_t)c].exchange(ctx.ith) != -1) { twice = true; break; }
            count[(size_t)ctx.ith]++;
            if (ctx.ith == slow) std::this_thread::sleep_for(std::chrono::milliseconds(n > 100 ? 1 : 20));
          }
        });
        CHECK(!twice, "nth=%d n=%lld: a chunk out of range or handed out twice", nth, (long long)n);
        for (int t = 0; t < nth; t++) {
          const int64_t s = n * t / nth, e = n * (t + 1) / nth;
          int64_t c = s;
          while (c < e && taken[(size_t)c].load() == t) c++;
          for (; c < e; c++)
            CHECK(taken[(size_t)c].load() >= 0 && taken[(size_t)c].load() != t,
                  "nth=%d n=%lld: chunk %lld of thread %d's range [%lld, %lld) taken by %d", nth, (long long)n,
                  (long long)c, t, (long long)s, (long long)e, taken[(size_t)c].load());
        }
        if (slow >= 0 && n >= 64)
          CHECK(count[(size_t)slow] < n * (slow + 1) / nth - n * slow / nth,
                "nth=%d n=%lld: the slowed-down thread did its whole range", nth, (long long)n);
      }
}

static void test_mul_mat(bool quick) {
  for (int32_t t : kAllTypes) {
    const int64_t K = mm::type_block(t) == 256 ? 512 : 96;
    for (int64_t M : {1, 3, 7, 16, 45}) {
      check_mul_mat({t, K, 37, M, 1, 1, 1, 1, false, false, 1});
      check_mul_mat({t, K, 37, M, 1, 1, 1, 1, false, false, 3});
      if (quick) continue;
      check_mul_mat({t, K, 21, M, 2, 1, 4, 3, true, false, 2});
      check_mul_mat({t, K, 19, M, 1, 2, 2, 4, false, true, 2});
    }
    check_mul_mat({t, K * 3, 300, 70, 1, 1, 1, 1, false, false, 2});  // several k blocks and row panels
    check_mul_mat_id(t, K, 40, 8, 4, 4, 13, 2);
    check_mul_mat_id(t, K, 24, 6, 2, 1, 3, 1);
    check_mul_mat_id(t, K, 24, 6, 2, 1, 3, 2);
    check_mul_mat_id(t, K, 20, 16, 8, 1, 1, 2);  // decode: one token, 8 experts
    if (!quick) check_mul_mat_id(t, K, 33, 5, 3, 3, 40, 3);
  }
  // empty sums
  check_mul_mat({T_F32, 0, 5, 3, 1, 1, 1, 1, false, false, 2});
  check_mul_mat({T_Q4_K, 0, 5, 20, 1, 1, 1, 1, false, false, 2});
  // f32 with K not a multiple of 8 or 256
  check_mul_mat({T_F32, 77, 29, 3, 1, 1, 1, 1, true, false, 2});
  check_mul_mat({T_F32, 300, 29, 20, 1, 1, 2, 1, true, true, 2});
  check_mul_mat({T_F16, 77, 29, 20, 1, 1, 1, 1, false, false, 2});
}

// ---------------------------------------------------------------- benchmark

struct BenchResult { double wall, cpu; };

static BenchResult bench_one(int32_t type, int64_t K, int64_t N, int64_t M, int nth) {
  std::vector<uint8_t> a = random_rows(type, K, N);
  const int64_t arow = (int64_t)mm::row_bytes(type, K);
  TensorDesc A{type, {K, N, 1, 1}, {mm::type_bytes(type), arow, arow * N, arow * N}, a.data()};
  std::vector<float> bb((size_t)(K * M));
  for (auto& v : bb) v = urand(-1, 1);
  TensorDesc B{T_F32, {K, M, 1, 1}, {4, 4 * K, 4 * K * M, 4 * K * M}, (uint8_t*)bb.data()};
  std::vector<float> d((size_t)(N * M));
  TensorDesc D{T_F32, {N, M, 1, 1}, {4, 4 * N, 4 * N * M, 4 * N * M}, (uint8_t*)d.data()};
  std::vector<uint8_t> scratch(mul_mat_wsize(A, B, nth));
  // One set of threads for all runs (like the backend's pool): a barrier before and after each timed run.
  const double flop = 2.0 * K * N * M;
  double best_wall = 1e30, best_cpu = 1e30;
  std::atomic<bool> stop{false};
  run_threads(nth, scratch, [&](const KernelCtx& ctx) {
    const auto t_begin = std::chrono::steady_clock::now();
    for (int rep = 0; rep < 1000; rep++) {
      between_nodes(ctx);
      if (stop.load()) break;
      const auto r0 = std::chrono::steady_clock::now();
      const double c0 = thread_cpu_seconds();
      mul_mat(ctx, A, B, D);
      ctx.barrier();
      const double c = thread_cpu_seconds() - c0;
      const auto r1 = std::chrono::steady_clock::now();
      if (ctx.ith == 0) {
        if (rep > 0) {  // the first run warms caches and pages
          best_wall = std::min(best_wall, std::chrono::duration<double>(r1 - r0).count());
          best_cpu = std::min(best_cpu, c);
        }
        if (std::chrono::duration<double>(r1 - t_begin).count() > g_bench_seconds) stop.store(true);
      }
    }
  });
  return {flop / best_wall / 1e9, flop / best_cpu / 1e9};
}

// Wall time of the fastest of 4 runs of fn on nth threads.
static double fastest_of_4(int nth, std::vector<uint8_t>& scratch, const std::function<void(const KernelCtx&)>& fn) {
  double best = 1e30;
  for (int rep = 0; rep < 4; rep++) {
    const auto t0 = std::chrono::steady_clock::now();
    run_threads(nth, scratch, fn);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// Decode from memory, not cache: one b column against a chain of K×N matrices that together exceed every cache
// (~1 GiB), each used once per pass, as a model's layers are during token generation. Reports weight bytes read
// per second next to a plain AVX2 read of the same bytes (the bandwidth roofline on this machine) and a memcpy.
static double stream_read_gbs(const std::vector<std::vector<uint8_t>>& mats, int nth) {
  std::vector<uint8_t> scratch(64);
  size_t bytes = 0;
  for (auto& m : mats) bytes += m.size();
  std::vector<float> sink((size_t)nth * 16);
  const double best = fastest_of_4(nth, scratch, [&](const KernelCtx& ctx) {
#if GGTS_MM_AVX2
    __m256 acc = _mm256_setzero_ps();
    for (auto& m : mats) {
      const size_t per = m.size() / 32 / (size_t)ctx.nth * 32;
      const float* p = (const float*)(m.data() + per * (size_t)ctx.ith);
      for (size_t i = 0; i + 32 <= per / 4; i += 32)
        acc = _mm256_add_ps(acc, _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(p + i), _mm256_loadu_ps(p + i + 8)),
                                               _mm256_add_ps(_mm256_loadu_ps(p + i + 16), _mm256_loadu_ps(p + i + 24))));
    }
    _mm256_storeu_ps(sink.data() + ctx.ith * 8, acc);
#else
    (void)ctx;  // no plain C++ read loop: the stream figures need the AVX2 build
#endif
  });
  return (double)bytes / best / 1e9;
}

// memcpy throughput over the same total size (two arrays of half of it): bytes copied per second, how copy
// bandwidth is usually quoted (STREAM's Copy counts the bytes read plus the bytes written: twice this).
static double stream_copy_gbs(size_t bytes, int nth) {
  const size_t n = bytes / 2 / 4 / 64 * 64;
  std::vector<float> a(n, 1.f), c(n, 0.f);
  std::vector<uint8_t> scratch(64);
  const double best = fastest_of_4(nth, scratch, [&](const KernelCtx& ctx) {
    const size_t s = n / 64 * (size_t)ctx.ith / (size_t)ctx.nth * 64, e = n / 64 * (size_t)(ctx.ith + 1) / (size_t)ctx.nth * 64;
    std::memcpy(c.data() + s, a.data() + s, (e - s) * 4);
  });
  return (double)n * 4 / best / 1e9;
}

static void bench_stream(const std::vector<int32_t>& types, int64_t K, int64_t N) {
  std::printf("\nDecode from memory (n=1, %lldx%lld matrices chained to ~1 GiB): weight GB/s (%% of AVX2 read)\n",
              (long long)K, (long long)N);
  std::printf("| type | threads | matmul GB/s | read GB/s | %% | memcpy GB/s (bytes copied) |\n|---|---|---|---|---|---|\n");
  for (int32_t type : types) {
    const int64_t arow = (int64_t)mm::row_bytes(type, K);
    const int64_t count = std::max<int64_t>(2, (1LL << 30) / (arow * N));
    std::vector<std::vector<uint8_t>> mats;
    for (int64_t i = 0; i < count; i++) mats.push_back(random_rows(type, K, N));
    std::vector<float> bb((size_t)K);
    for (auto& v : bb) v = urand(-1, 1);
    TensorDesc B{T_F32, {K, 1, 1, 1}, {4, 4 * K, 4 * K, 4 * K}, (uint8_t*)bb.data()};
    std::vector<float> d((size_t)N);
    TensorDesc D{T_F32, {N, 1, 1, 1}, {4, 4 * N, 4 * N, 4 * N}, (uint8_t*)d.data()};
    for (int nth : {1, 2}) {
      TensorDesc A0{type, {K, N, 1, 1}, {mm::type_bytes(type), arow, arow * N, arow * N}, mats[0].data()};
      std::vector<uint8_t> scratch(mul_mat_wsize(A0, B, nth));
      const double best = fastest_of_4(nth, scratch, [&](const KernelCtx& ctx) {
        for (auto& m : mats) {
          TensorDesc A = A0;
          A.data = m.data();
          mul_mat(ctx, A, B, D);
          between_nodes(ctx);
        }
      });
      const double gbs = (double)(arow * N * count) / best / 1e9, rd = stream_read_gbs(mats, nth);
      const double cp = stream_copy_gbs((size_t)(arow * N * count), nth);
      std::printf("| %s | %d | %.2f | %.2f | %.0f | %.2f |\n", tname(type), nth, gbs, rd, 100 * gbs / rd, cp);
      std::fflush(stdout);
    }
  }
}

static void bench(int64_t bigK, const std::vector<int32_t>& types) {
  struct Shape { const char* name; int64_t K, N, M; };
  char big1[64], big512[64];
  std::snprintf(big1, sizeof big1, "%lldx14336 n=1", (long long)bigK);
  std::snprintf(big512, sizeof big512, "%lldx14336 n=512", (long long)bigK);
  const Shape shapes[] = {{big1, bigK, 14336, 1}, {big512, bigK, 14336, 512},
                          {"2304x1024 n=1", 2304, 1024, 1}, {"2304x1024 n=512", 2304, 1024, 512}};
  std::printf("\nGFLOP/s of the fastest run, wall-clock (in parentheses: by CPU time of thread 0)\n");
  std::printf("| shape | type | 1 thread | 2 threads |\n|---|---|---|---|\n");
  for (const Shape& s : shapes)
    for (int32_t t : types) {
      std::printf("| %s | %s |", s.name, tname(t));
      for (int nth : {1, 2}) {
        const BenchResult r = bench_one(t, s.K, s.N, s.M, nth);
        std::printf(" %.1f (%.1f) |", r.wall, r.cpu);
        std::fflush(stdout);
      }
      std::printf("\n");
    }
}

int main(int argc, char** argv) {
  std::string fixtures;
  bool do_bench = false, quick = false, no_tests = false, do_stream = false, mul_mat_only = false;
  int64_t stream_k = 2304, stream_n = 1024;
  std::vector<int32_t> btypes;
  int64_t bigK = 4096;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--fixtures" && i + 1 < argc) fixtures = argv[++i];
    else if (a == "--bench") do_bench = true;
    else if (a == "--stream") do_stream = true;
    else if (a == "--mul-mat-only") mul_mat_only = true;
    else if (a == "--stream-shape" && i + 2 < argc) { stream_k = std::stoll(argv[++i]); stream_n = std::stoll(argv[++i]); }
    else if (a == "--quick") quick = true;
    else if (a == "--bench-k" && i + 1 < argc) bigK = std::stoll(argv[++i]);
    else if (a == "--bench-types" && i + 1 < argc) {
      std::stringstream ss(argv[++i]);
      std::string tok;
      while (std::getline(ss, tok, ',')) {
        const int t = type_from_name(tok);
        if (t < 0) { std::printf("unknown type %s\n", tok.c_str()); return 2; }
        btypes.push_back(t);
      }
    } else if (a == "--bench-seconds" && i + 1 < argc) g_bench_seconds = std::stod(argv[++i]);
    else if (a == "--no-tests") no_tests = true;
    else {
      std::printf("usage: %s [--fixtures DIR] [--quick] [--no-tests] [--bench] [--bench-k K] [--bench-types LIST] [--bench-seconds S] [--stream] [--stream-shape K N] [--mul-mat-only]\n", argv[0]);
      return 2;
    }
  }
  std::printf("avx2 build: %d, vnni cpu: %d\n", GGTS_MM_AVX2, (int)mm::cpu_has_vnni());
  if (!no_tests) {
    if (!mul_mat_only) {
      test_known_blocks();
      test_dequant_formulas();
      test_quantizers();
      test_vec_dot_exact();
      test_float_rows();
      if (!fixtures.empty()) test_fixtures(fixtures);
      else std::printf("fixtures: skipped (no --fixtures DIR)\n");
    }
    test_chunks();
    test_mul_mat(quick);
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
      mm::g_gemm_disable_avx512 = true;  // the AVX2 micro-kernel too
      test_mul_mat(true);
      mm::g_gemm_disable_avx512 = false;
    }
#endif
    std::printf("%s: %d failure(s)\n", g_fail ? "FAILED" : "OK", g_fail);
  }
  if (btypes.empty()) btypes = {T_F32, T_F16, T_Q8_0, T_Q4_K, T_Q6_K};
  if (do_bench) bench(bigK, btypes);
  if (do_stream) bench_stream(btypes, stream_k, stream_n);
  return g_fail ? 1 : 0;
}
