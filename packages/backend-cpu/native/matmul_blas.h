// Optional OpenBLAS path for prompt-sized MUL_MAT (built with -DGGTS_BLAS=ON, i.e. GGTS_BLAS=1 at build time).
// Without it these compile to "never wanted". GGTS_NO_BLAS=1 turns a BLAS build's path off at run time.
#pragma once
#include <cstddef>

#include "kernel.h"

namespace ggts {
namespace mm {

// Whether cblas_sgemm takes this product: many b columns, f32 b and dst rows the BLAS can address.
bool blas_wanted(const TensorDesc& a, const TensorDesc& b);
bool blas_dst_ok(const TensorDesc& a, const TensorDesc& dst);
// Scratch floats for dequantised weight panels (0 for f32 weights, which are read in place).
size_t blas_scratch_floats(const TensorDesc& a);
// Every pool thread calls this with the same arguments: non-f32 weights are dequantised in row panels by all
// threads, then thread 0 runs cblas_sgemm with OpenBLAS's own threads (as many as the pool) while the others
// wait at the barrier.
void blas_mul_mat(const KernelCtx& ctx, const TensorDesc& a, const TensorDesc& b, const TensorDesc& dst, float* scratch);

}  // namespace mm
}  // namespace ggts
