// A persistent pool: workers sleep between graph runs; inside a run all threads execute the same job and
// synchronise with a spin-then-sleep barrier.
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace ggts {
namespace cpu {

class ThreadPool {
 public:
  explicit ThreadPool(int nthreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return nth_; }
  // Runs fn(ith, nth, arg) on every thread (the caller is thread 0) and returns when all are done.
  void run(void (*fn)(int ith, int nth, void* arg), void* arg);
  void barrier();
  static void barrier_thunk(void* pool) { static_cast<ThreadPool*>(pool)->barrier(); }

 private:
  void worker(int ith);
  int nth_;
  std::vector<std::thread> threads_;
  std::atomic<uint32_t> job_gen_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  void (*fn_)(int, int, void*) = nullptr;
  void* arg_ = nullptr;
  alignas(64) std::atomic<int> bar_count_{0};
  alignas(64) std::atomic<uint32_t> bar_gen_{0};
};

}  // namespace cpu
}  // namespace ggts
