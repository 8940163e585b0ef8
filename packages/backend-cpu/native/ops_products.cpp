// MUL_MAT / MUL_MAT_ID (delegated to the matmul kernels) and OUT_PROD.
#include "mm_iface.h"
#include "ops.h"

namespace ggts {
namespace cpu {

namespace {

void k_mul_mat(const KernelCtx& ctx, const Node& n) { mul_mat(ctx, n.src[0], n.src[1], n.dst); }

void k_mul_mat_id(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &as = n.src[0], &ids = n.src[2];
  if (ctx.ith == 0) {
    for (int64_t t = 0; t < ids.ne[1]; t++)
      for (int64_t s = 0; s < ids.ne[0]; s++) {
        const int32_t e = *(const int32_t*)at(ids, s, t, 0, 0);
        if (e < 0 || e >= as.ne[2]) {
          n.fail("MUL_MAT_ID: expert id " + std::to_string(e) + " out of range [0, " + std::to_string(as.ne[2]) + ")");
          t = ids.ne[1];
          break;
        }
      }
  }
  ctx.barrier();
  if (n.err->failed_by(n.record)) return;
  mul_mat_id(ctx, as, n.src[1], ids, n.dst);
}

void k_out_prod(const KernelCtx& ctx, const Node& n) {
  const TensorDesc &a = n.src[0], &b = n.src[1], &d = n.dst;
  const int64_t r2 = b.ne[2] / a.ne[2], r3 = b.ne[3] / a.ne[3], K = a.ne[1], N0 = d.ne[0];
  float* acol = thread_scratch(ctx, N0);
  int64_t r0, r1; split(nrows(d), ctx.ith, ctx.nth, r0, r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t i1, i2, i3; unravel_row(d, r, i1, i2, i3);
    float* y = (float*)row(d, i1, i2, i3);
    for (int64_t i = 0; i < N0; i++) y[i] = 0.f;
    for (int64_t j = 0; j < K; j++) {
      const float bv = *(const float*)at(b, i1, j, i2, i3);
      const uint8_t* ap = row(a, j, i2 / r2, i3 / r3);
      const float* x = (const float*)ap;
      if (a.nb[0] != 4) { for (int64_t i = 0; i < N0; i++) acol[i] = *(const float*)(ap + i * a.nb[0]); x = acol; }
      for (int64_t i = 0; i < N0; i++) y[i] += bv * x[i];
    }
  }
}

}  // namespace

KernelFn kernel_matmul(Node& n, int nth) {
  switch (n.op) {
    case OP_MUL_MAT: n.wsize = mul_mat_wsize(n.src[0], n.src[1], nth); return k_mul_mat;
    case OP_MUL_MAT_ID: n.wsize = mul_mat_id_wsize(n.src[0], n.src[1], n.src[2], nth); return k_mul_mat_id;
    case OP_OUT_PROD: n.wsize = scratch_bytes(n.dst.ne[0], nth); return k_out_prod;
    default: return nullptr;
  }
}

}  // namespace cpu
}  // namespace ggts
