// Contract between the CPU graph executor and its kernels.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ggts {

// GGUF type ids (packages/tensor/src/types.ts).
enum Type : int32_t {
  T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8, T_Q8_1 = 9,
  T_Q2_K = 10, T_Q3_K = 11, T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_Q8_K = 15,
  T_IQ4_NL = 20, T_IQ4_XS = 23, T_I8 = 24, T_I16 = 25, T_I32 = 26, T_I64 = 27, T_F64 = 28, T_BF16 = 30,
};

// A validated tensor as a kernel sees it: ggml order, byte strides, data at its first element.
struct TensorDesc {
  int32_t type;
  int64_t ne[4];
  int64_t nb[4];
  uint8_t* data;
};

// Per-thread view of a node's execution. All threads of the pool run the same kernel; a kernel splits its
// rows by (ith, nth) and may call barrier() (every thread must call it the same number of times).
struct KernelCtx {
  int ith;
  int nth;
  uint8_t* wdata;   // shared scratch for this node, at least the size the kernel's work-size function asked for
  size_t wsize;
  void (*barrier_fn)(void*);
  void* pool;
  // Zero when the node starts and shared by its threads (see Chunks); nullptr: split work statically.
  std::atomic<int64_t>* chunk = nullptr;
  void barrier() const { barrier_fn(pool); }
};

// Work handed out in chunks [0, n), ggml's scheme: thread ith starts with chunk ith, then claims the next
// unclaimed one, so a thread slowed down (a busy SMT sibling, another process) ends up doing less. Without a
// counter every thread takes chunks ith, ith+nth, ... . Every chunk is taken exactly once. One Chunks per node.
class Chunks {
 public:
  Chunks(const KernelCtx& ctx, int64_t n) : ctx_(ctx), n_(n), next_(ctx.ith) {}
  bool next(int64_t* c) {
    if (next_ >= n_) return false;
    *c = next_;
    next_ = ctx_.chunk ? ctx_.nth + ctx_.chunk->fetch_add(1, std::memory_order_relaxed) : next_ + ctx_.nth;
    return true;
  }

 private:
  const KernelCtx& ctx_;
  int64_t n_, next_;
};

}  // namespace ggts
