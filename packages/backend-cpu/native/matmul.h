// MUL_MAT / MUL_MAT_ID kernels of the CPU backend (ops.md §5) and row (de)quantization entry points.
//
// Threading contract: every thread of the pool calls mul_mat / mul_mat_id with the same arguments and its own
// (ith, nth); ctx.wdata must hold at least the matching *_wsize bytes. The kernels call ctx.barrier() the same
// number of times on every thread: at most once (after converting/packing b, before reading it; skipped when b has
// so few rows that every thread converts them itself), or twice per dequantised weight panel on the optional BLAS
// path; the executor must barrier after the node as usual.
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernel.h"
#include "quants.h"

namespace ggts {

// Weight types MUL_MAT / MUL_MAT_ID accept for a (b and dst are f32).
bool mul_mat_supports(int32_t type);

size_t mul_mat_wsize(const TensorDesc& a, const TensorDesc& b, int nth);
// dst[n,m,i2,i3] = Σ_k a[k,n,i2/(B2/A2),i3/(B3/A3)]·b[k,m,i2,i3]. a rows contiguous (nb0 = type size); b and dst
// may have any strides.
void mul_mat(const KernelCtx& ctx, const TensorDesc& a, const TensorDesc& b, const TensorDesc& dst);

size_t mul_mat_id_wsize(const TensorDesc& as, const TensorDesc& b, const TensorDesc& ids, int nth);
// dst[:,s,t] = as[:,:,ids[s,t]]ᵀ·b[:, s mod b.ne1, t]. An expert id outside [0, E) leaves zeros in its output
// column (the executor should report it; see mul_mat_id_check_ids).
void mul_mat_id(const KernelCtx& ctx, const TensorDesc& as, const TensorDesc& b, const TensorDesc& ids,
                const TensorDesc& dst);
// First (s, t) whose id is out of range, or false when all are valid.
bool mul_mat_id_bad_id(const TensorDesc& as, const TensorDesc& ids, int64_t* s, int64_t* t, int32_t* id);

namespace mm {
// Test/tuning knob: > 0 forces the b-column count from which the packed GEMM path is used.
extern int64_t g_gemm_min_m_override;
}  // namespace mm

}  // namespace ggts
