#include "threadpool.h"
#include <immintrin.h>

namespace ggts {
namespace cpu {

// Spinning keeps latency low between nodes; sleeping keeps idle pools (and oversubscribed machines) cheap.
static constexpr int SPIN = 4096;

template <typename T>
static void wait_change(std::atomic<T>& a, T old) {
  for (int i = 0; i < SPIN; i++) {
    if (a.load(std::memory_order_acquire) != old) return;
    _mm_pause();
  }
  while (a.load(std::memory_order_acquire) == old) a.wait(old, std::memory_order_acquire);
}

ThreadPool::ThreadPool(int nthreads) : nth_(nthreads < 1 ? 1 : nthreads) {
  for (int i = 1; i < nth_; i++) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  job_gen_.fetch_add(1, std::memory_order_acq_rel);
  job_gen_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::worker(int ith) {
  uint32_t seen = 0;
  for (;;) {
    // Idle workers sleep on the job generation (no spinning between graph runs).
    while (job_gen_.load(std::memory_order_acquire) == seen) job_gen_.wait(seen, std::memory_order_acquire);
    seen = job_gen_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    fn_(ith, nth_, arg_);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == nth_ - 1) done_.notify_one();
  }
}

void ThreadPool::run(void (*fn)(int, int, void*), void* arg) {
  if (nth_ == 1) { fn(0, 1, arg); return; }
  fn_ = fn; arg_ = arg;
  done_.store(0, std::memory_order_relaxed);
  job_gen_.fetch_add(1, std::memory_order_acq_rel);
  job_gen_.notify_all();
  fn(0, nth_, arg);
  for (;;) {
    int d = done_.load(std::memory_order_acquire);
    if (d == nth_ - 1) break;
    wait_change(done_, d);
  }
}

void ThreadPool::barrier() {
  if (nth_ == 1) return;
  const uint32_t gen = bar_gen_.load(std::memory_order_acquire);
  if (bar_count_.fetch_add(1, std::memory_order_acq_rel) + 1 == nth_) {
    bar_count_.store(0, std::memory_order_relaxed);
    bar_gen_.fetch_add(1, std::memory_order_acq_rel);
    bar_gen_.notify_all();
    return;
  }
  wait_change(bar_gen_, gen);
}

}  // namespace cpu
}  // namespace ggts
