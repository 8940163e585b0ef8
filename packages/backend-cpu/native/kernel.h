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

// One per thread and node; aligned so that threads claiming from their own ranges do not share a line.
struct alignas(64) ChunkClaims {
  std::atomic<uint64_t> v{0};
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
  // nth claim counters, zero when the node starts and shared by its threads (see Chunks); nullptr: split
  // work statically.
  ChunkClaims* claims = nullptr;
  void barrier() const { barrier_fn(pool); }
};

// Work handed out in chunks [0, n): thread t owns the contiguous range [t*n/nth, (t+1)*n/nth) and takes it from
// the front; a thread done with its own range takes chunks from the back of the others'. So when a node is run
// again over the same weights (a repeated op, a small model's next token) each thread meets the rows it read
// last time, still in its own L2, while a thread slowed down by the host (another process, an SMT sibling)
// still ends up doing less. Every chunk is taken exactly once. Without counters every thread takes its own
// range. One Chunks per node and thread.
class Chunks {
 public:
  // Counts beyond 32 bits (absurdly many chunks) are split statically: the claim counters pack two 32-bit halves.
  Chunks(const KernelCtx& ctx, int64_t n) : ctx_(ctx), n_(n), shared_(ctx.claims && n < (int64_t(1) << 31)) {
    if (!shared_) range(ctx.ith, &next_, &end_);
  }
  bool next(int64_t* c) {
    if (!shared_) {
      if (next_ >= end_) return false;
      *c = next_++;
      return true;
    }
    for (; tried_ < ctx_.nth; tried_++) {
      const int v = (ctx_.ith + tried_) % ctx_.nth;
      int64_t s, e;
      range(v, &s, &e);
      // low half: taken from the front (the owner), high half: from the back; a claim counts only while the
      // two together are below the range's length, so the two ends never meet on one chunk.
      const uint64_t old = ctx_.claims[v].v.fetch_add(tried_ == 0 ? 1 : uint64_t(1) << 32, std::memory_order_relaxed);
      const int64_t front = (int64_t)(uint32_t)old, back = (int64_t)(old >> 32);
      if (front + back < e - s) {
        *c = tried_ == 0 ? s + front : e - 1 - back;
        return true;
      }
    }
    return false;
  }

 private:
  void range(int t, int64_t* s, int64_t* e) const {
    *s = n_ * t / ctx_.nth;
    *e = n_ * (t + 1) / ctx_.nth;
  }
  const KernelCtx& ctx_;
  int64_t n_, next_ = 0, end_ = 0;
  bool shared_;
  int tried_ = 0;
};

}  // namespace ggts
