// Packed, register-blocked f32 GEMM used by MUL_MAT when b has many columns: C[m][n] = Σ_k B[m][k]·A[n][k].
// A rows (weights of any type) are dequantized into 16-wide k-major panels; B rows are packed 6-wide.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ggts {
namespace mm {

constexpr int GEMM_MR = 6;     // b rows per micro-tile
constexpr int GEMM_NR = 16;    // a rows per micro-tile
constexpr int GEMM_KC = 256;   // k block (a multiple of every block size)
constexpr int GEMM_NC = 256;   // a rows per packed panel

// Test knob: true forces the AVX2 micro-kernel on AVX-512 machines (also: environment GGTS_NO_AVX512=1).
extern bool g_gemm_disable_avx512;

inline int64_t gemm_groups(int64_t m) { return (m + GEMM_MR - 1) / GEMM_MR; }
// Floats of packed B for m rows of length k.
inline size_t gemm_bpack_floats(int64_t m, int64_t k) { return (size_t)gemm_groups(m) * GEMM_MR * (size_t)k; }
// Per-thread scratch floats: the A panel plus 16 dequantized rows and a zero row.
constexpr size_t GEMM_APANEL_FLOATS = (size_t)GEMM_NC * GEMM_KC;
constexpr size_t GEMM_THREAD_FLOATS = GEMM_APANEL_FLOATS + (size_t)(GEMM_NR + 1) * GEMM_KC;

// Pack one group of up to 6 rows (rows[r] points at k floats; missing rows → zeros) into dst [k][6].
void gemm_pack_b_group(const float* const* rows, int nrows, int64_t k, float* dst);

// Row accessor for A: pointer to the start of row n of the weight matrix (type `type`, contiguous within the row).
struct GemmA {
  int32_t type;
  const uint8_t* data;
  int64_t row_stride;  // bytes
};

// Compute C for a rows [n0, n1) against all packed B rows (m of them, length K): C(n, j) is written to
// cols[j] + n*cs_n (bytes). apanel: GEMM_THREAD_FLOATS floats of per-thread scratch, 32-byte aligned.
void gemm_run(const GemmA& a, int64_t n0, int64_t n1, int64_t K, const float* bpack, int64_t m,
              uint8_t* const* cols, int64_t cs_n, float* apanel);

}  // namespace mm
}  // namespace ggts
