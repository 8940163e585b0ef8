// Float weight rows (f32, f16, bf16) · f32 b rows: the vec-dot kernels of MUL_MAT / MUL_MAT_ID for float weights.
#pragma once
#include <cstdint>

#include "quants.h"

namespace ggts {
namespace mm {

// One weight row · one b row; nullptr for a type that is not f32, f16 or bf16.
VecDotFn float_dot_fn(int32_t type);

// out[r] = a[r] · b for two weight rows, each bitwise equal to what float_dot_fn gives; nullptr as above.
using RowPairFn = void (*)(int64_t n, const void* const* a, const float* b, float* out);
RowPairFn float_pair_fn(int32_t type);

}  // namespace mm
}  // namespace ggts
