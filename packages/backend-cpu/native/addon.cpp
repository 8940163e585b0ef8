// Node-API surface of the CPU backend: buffers, file mappings, tensor copies and asynchronous graph runs.
#include <napi.h>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include "buffers.h"
#include "mm_iface.h"
#include "threadpool.h"
#include "validate.h"

namespace ggts {
namespace cpu {

namespace {

struct BufferHandle {
  std::shared_ptr<NativeBuffer> buf;
  int64_t adjusted = 0;  // bytes reported to V8 as external memory
};

// Per-op time of the graphs run while profiling is on (key: op, type of src0). Thread 0 times every step: a
// multi-thread node until all threads passed the barrier after it, single-thread nodes one by one.
struct OpTime { int64_t count = 0; double ns = 0; int64_t threads = 0; };
using OpProfile = std::map<std::pair<int, int32_t>, OpTime>;

struct Context {
  std::unique_ptr<ThreadPool> pool;
  uint8_t* wdata = nullptr;
  size_t wcap = 0;
  std::atomic<bool> busy{false};
  double split_min_ns;
  bool profiling = false;  // set and read on the JS thread only while no graph runs
  OpProfile profile;
  // Claim counters (one per thread) of consecutive steps alternate: while step s uses one set, thread 0 zeroes
  // the other for s+1 (its last users finished before the barrier that started s).
  std::unique_ptr<ChunkClaims[]> claims[2];
  Context(int threads, double split) : pool(new ThreadPool(threads)), split_min_ns(split) {
    for (auto& c : claims) c.reset(new ChunkClaims[(size_t)threads]);
  }
  void clear_claims(int set) {
    for (int t = 0; t < pool->size(); t++) claims[set][t].v.store(0, std::memory_order_relaxed);
  }
  ~Context() { std::free(wdata); }
  void reserve(size_t n) {
    if (n <= wcap) return;
    std::free(wdata);
    wcap = (n + 4095) & ~size_t(4095);
    wdata = (uint8_t*)std::aligned_alloc(64, wcap);
    if (!wdata) { wcap = 0; throw std::runtime_error("cpu: cannot allocate " + std::to_string(n) + " bytes of scratch"); }
  }
};
std::atomic<int64_t> g_contexts{0};

struct ContextHandle { std::shared_ptr<Context> ctx; };

BufferHandle* buffer_arg(const Napi::Value& v, const char* fn) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string(fn) + ": expected a buffer handle");
  auto* h = v.As<Napi::External<BufferHandle>>().Data();
  if (!h || !h->buf) throw Napi::Error::New(v.Env(), std::string(fn) + ": buffer was freed");
  return h;
}

Napi::Value wrap_buffer(Napi::Env env, std::shared_ptr<NativeBuffer> b) {
  auto* h = new BufferHandle{std::move(b)};
  if (!h->buf->map) {
    h->adjusted = (int64_t)h->buf->size;
    Napi::MemoryManagement::AdjustExternalMemory(env, h->adjusted);
  }
  return Napi::External<BufferHandle>::New(env, h, [](Napi::Env env, BufferHandle* p) {
    if (p->adjusted) Napi::MemoryManagement::AdjustExternalMemory(env, -p->adjusted);
    delete p;
  });
}

uint64_t u64_arg(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || std::floor(d) != d)
    throw Napi::RangeError::New(v.Env(), std::string(what) + " must be a non-negative integer");
  return (uint64_t)d;
}

Napi::Value AllocBuffer(const Napi::CallbackInfo& info) {
  const uint64_t size = u64_arg(info[0], "allocBuffer: size");
  try { return wrap_buffer(info.Env(), alloc_buffer(size)); }
  catch (const std::exception& e) { throw Napi::Error::New(info.Env(), e.what()); }
}

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "mapFile: path must be a string");
  const uint64_t off = u64_arg(info[1], "mapFile: offset"), size = u64_arg(info[2], "mapFile: size");
  try { return wrap_buffer(info.Env(), map_file_region(info[0].As<Napi::String>().Utf8Value(), off, size)); }
  catch (const std::exception& e) { throw Napi::Error::New(info.Env(), e.what()); }
}

Napi::Value FreeBuffer(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "freeBuffer: expected a buffer handle");
  auto* h = info[0].As<Napi::External<BufferHandle>>().Data();
  if (h->buf) {
    if (h->adjusted) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -h->adjusted);
    h->adjusted = 0;
    h->buf.reset();  // a running graph keeps its own reference until it finishes
  }
  return info.Env().Undefined();
}

Napi::Value SetBytes(const Napi::CallbackInfo& info) {
  auto* h = buffer_arg(info[0], "setTensor");
  const uint64_t off = u64_arg(info[1], "setTensor: offset");
  if (!info[2].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "setTensor: data must be a typed array");
  auto ta = info[2].As<Napi::TypedArray>();
  const size_t n = ta.ByteLength();
  if (h->buf->readonly) throw Napi::Error::New(info.Env(), "setTensor: buffer is a read-only file mapping");
  if (off > h->buf->size || n > h->buf->size - off)
    throw Napi::RangeError::New(info.Env(), "setTensor: " + std::to_string(n) + " bytes at offset " + std::to_string(off) +
                                                " exceed the buffer's " + std::to_string(h->buf->size) + " bytes");
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  std::memcpy(h->buf->data + off, src, n);
  return info.Env().Undefined();
}

Napi::Value GetBytes(const Napi::CallbackInfo& info) {
  auto* h = buffer_arg(info[0], "getTensor");
  const uint64_t off = u64_arg(info[1], "getTensor: offset"), n = u64_arg(info[2], "getTensor: size");
  if (off > h->buf->size || n > h->buf->size - off)
    throw Napi::RangeError::New(info.Env(), "getTensor: range [" + std::to_string(off) + ", " + std::to_string(off + n) +
                                                ") outside the buffer's " + std::to_string(h->buf->size) + " bytes");
  auto out = Napi::Uint8Array::New(info.Env(), n);
  std::memcpy(out.Data(), h->buf->data + off, n);
  return out;
}

Napi::Value BufferSize(const Napi::CallbackInfo& info) {
  auto* h = buffer_arg(info[0], "bufferSize");
  return Napi::Number::New(info.Env(), (double)h->buf->size);
}

Napi::Value CreateContext(const Napi::CallbackInfo& info) {
  const uint64_t threads = u64_arg(info[0], "createContext: threads");
  if (threads < 1 || threads > 512) throw Napi::RangeError::New(info.Env(), "createContext: threads must be in 1..512");
  double split = SPLIT_MIN_NS;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsNumber() || !(info[1].As<Napi::Number>().DoubleValue() >= 0))
      throw Napi::RangeError::New(info.Env(), "createContext: splitMinNs must be a non-negative number");
    split = info[1].As<Napi::Number>().DoubleValue();
  }
  auto* h = new ContextHandle{std::make_shared<Context>((int)threads, split)};
  g_contexts++;
  return Napi::External<ContextHandle>::New(info.Env(), h, [](Napi::Env, ContextHandle* p) { delete p; g_contexts--; });
}

ContextHandle* context_arg(const Napi::Value& v) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), "expected a context handle");
  auto* h = v.As<Napi::External<ContextHandle>>().Data();
  if (!h->ctx) throw Napi::Error::New(v.Env(), "cpu: backend was disposed");
  return h;
}

Napi::Value DestroyContext(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "destroyContext: expected a context handle");
  info[0].As<Napi::External<ContextHandle>>().Data()->ctx.reset();
  return info.Env().Undefined();
}

Napi::Error graph_error(Napi::Env env, const std::string& msg, int record) {
  auto e = Napi::Error::New(env, msg);
  if (record >= 0) e.Value().Set("record", Napi::Number::New(env, record));
  return e;
}

struct Job {
  CompiledGraph graph;
  Context* ctx;
  RunError err;
};

void no_barrier(void*) {}

inline double now_ns() {
  return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void add_time(OpProfile& prof, const Node& n, double ns) {
  OpTime& t = prof[{n.op, n.nsrc > 0 ? n.src[0].type : -1}];
  t.count++;
  t.ns += ns;
  t.threads += n.nth;
}

// Consecutive single-thread nodes form one step that thread 0 runs alone; every multi-thread node is a step of
// its own run by all threads. Steps are separated by one barrier, so small nodes cost no synchronisation.
void run_job(int ith, int nth, void* arg) {
  Job* job = static_cast<Job*>(arg);
  const std::vector<Node>& nodes = job->graph.nodes;
  ThreadPool* pool = job->ctx->pool.get();
  KernelCtx par{ith, nth, job->ctx->wdata, 0, ThreadPool::barrier_thunk, pool};
  KernelCtx solo{0, 1, job->ctx->wdata, 0, no_barrier, nullptr};
  OpProfile* prof = ith == 0 && job->ctx->profiling ? &job->ctx->profile : nullptr;
  const Node* timed = nullptr;  // multi-thread node whose time ends at the next barrier
  double t0 = 0;
  const size_t count = nodes.size();
  int prev_rec = -1;  // last record of the previous step
  for (size_t i = 0, step = 0; i < count; step++) {
    if (prev_rec >= 0 && nth > 1) {
      pool->barrier();
      // failed_by: a faster thread may already be raising errors in the next step.
      if (job->err.failed_by(prev_rec)) return;
    }
    if (timed) { add_time(*prof, *timed, now_ns() - t0); timed = nullptr; }
    if (ith == 0) job->ctx->clear_claims((step + 1) & 1);
    if (nodes[i].nth > 1 && nth > 1) {
      const Node& n = nodes[i++];
      par.wsize = n.wsize;
      par.claims = job->ctx->claims[step & 1].get();
      if (prof) { timed = &n; t0 = now_ns(); }
      n.fn(par, n);
      prev_rec = n.record;
      continue;
    }
    size_t j = i;
    while (j < count && (nodes[j].nth <= 1 || nth == 1)) j++;
    if (ith == 0) {
      for (size_t k = i; k < j; k++) {
        const Node& n = nodes[k];
        solo.wsize = n.wsize;
        if (prof) t0 = now_ns();
        n.fn(solo, n);
        if (prof) add_time(*prof, n, now_ns() - t0);
        if (job->err.failed()) break;
      }
    }
    prev_rec = nodes[j - 1].record;
    i = j;
  }
  if (timed) add_time(*prof, *timed, now_ns() - t0);  // the pool's completion wait is the last barrier
}

class ComputeWorker : public Napi::AsyncWorker {
 public:
  ComputeWorker(Napi::Env env, std::shared_ptr<Context> ctx, std::vector<std::shared_ptr<NativeBuffer>> bufs,
                std::unique_ptr<Job> job)
      : Napi::AsyncWorker(env, "ggts-cpu-compute"), deferred_(Napi::Promise::Deferred::New(env)),
        ctx_(std::move(ctx)), bufs_(std::move(bufs)), job_(std::move(job)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      ctx_->reserve(job_->graph.wsize + 64);
      job_->ctx = ctx_.get();
      for (auto& n : job_->graph.nodes) n.err = &job_->err;
      ctx_->clear_claims(0);
      ctx_->clear_claims(1);
      // Workers are not woken at all for graphs of small nodes only.
      if (job_->graph.parallel) ctx_->pool->run(run_job, job_.get());
      else run_job(0, 1, job_.get());
    } catch (const std::exception& e) {
      job_->err.set(-2, e.what());
    }
  }
  void OnOK() override {
    ctx_->busy.store(false);
    Napi::Env env = Env();
    const int rec = job_->err.record.load();
    if (rec == -1) { deferred_.Resolve(env.Undefined()); return; }
    std::string msg = job_->err.message;
    if (rec >= 0) msg = "cpu: record " + std::to_string(rec) + ": " + msg;
    deferred_.Reject(graph_error(env, msg, rec).Value());
  }
  void OnError(const Napi::Error& e) override {
    ctx_->busy.store(false);
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Context> ctx_;
  std::vector<std::shared_ptr<NativeBuffer>> bufs_;  // kept alive while the graph runs
  std::unique_ptr<Job> job_;
};

// compute(ctx, records: Float64Array, count, buffers: handle[]) → Promise<void>. Validation errors throw
// synchronously with a `record` property.
Napi::Value Compute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* ch = context_arg(info[0]);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "compute: records must be a Float64Array");
  auto recs = info[1].As<Napi::Float64Array>();
  const uint64_t count = u64_arg(info[2], "compute: count");
  if (count > recs.ElementLength() / REC)
    throw Napi::RangeError::New(env, "compute: count " + std::to_string(count) + " exceeds the records given");
  if (!info[3].IsArray()) throw Napi::TypeError::New(env, "compute: buffers must be an array");
  auto arr = info[3].As<Napi::Array>();
  std::vector<std::shared_ptr<NativeBuffer>> bufs;
  std::vector<BufferView> views;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    auto* h = buffer_arg(arr.Get(i), "compute");
    bufs.push_back(h->buf);
    views.push_back({h->buf->data, h->buf->size, h->buf->readonly});
  }
  auto& ctx = ch->ctx;
  auto job = std::make_unique<Job>();
  try {
    job->graph = compile_graph(recs.Data(), count, views, ctx->pool->size(), ctx->split_min_ns, &job->err);
  } catch (const GraphError& e) {
    throw graph_error(env, e.what(), e.record);
  }
  bool expected = false;
  if (!ctx->busy.compare_exchange_strong(expected, true))
    throw Napi::Error::New(env, "cpu: compute called while another graph is running on this backend");
  auto* w = new ComputeWorker(env, ctx, std::move(bufs), std::move(job));
  auto p = w->Promise();
  w->Queue();
  return p;
}

// profile(ctx, enable) → [{op, type, count, ns, threads}] accumulated since the previous call (then cleared);
// enable turns timing on or off for the following graphs.
Napi::Value Profile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& ctx = context_arg(info[0])->ctx;
  if (!info[1].IsBoolean()) throw Napi::TypeError::New(env, "profile: enable must be a boolean");
  if (ctx->busy.load()) throw Napi::Error::New(env, "cpu: profile called while a graph is running on this backend");
  auto out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& [key, t] : ctx->profile) {
    auto o = Napi::Object::New(env);
    o.Set("op", Napi::String::New(env, op_name(key.first)));
    o.Set("type", Napi::String::New(env, key.second < 0 ? "" : type_name(key.second)));
    o.Set("count", Napi::Number::New(env, (double)t.count));
    o.Set("ns", Napi::Number::New(env, t.ns));
    o.Set("threads", Napi::Number::New(env, (double)t.threads / (double)std::max<int64_t>(1, t.count)));
    out.Set(i++, o);
  }
  ctx->profile.clear();
  ctx->profiling = info[1].As<Napi::Boolean>().Value();
  return out;
}

int physical_cores() {
  std::ifstream f("/proc/cpuinfo");
  std::set<std::pair<int, int>> cores;
  std::string line;
  int phys = 0;
  while (std::getline(f, line)) {
    auto val = [&] { return std::atoi(line.substr(line.find(':') + 1).c_str()); };
    if (line.rfind("physical id", 0) == 0) phys = val();
    else if (line.rfind("core id", 0) == 0) cores.insert({phys, val()});
  }
  return (int)cores.size();
}

Napi::Value PhysicalCores(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), physical_cores()); }

Napi::Value Stats(const Napi::CallbackInfo& info) {
  const AllocStats s = alloc_stats();
  auto o = Napi::Object::New(info.Env());
  o.Set("buffers", Napi::Number::New(info.Env(), (double)s.buffers));
  o.Set("bytes", Napi::Number::New(info.Env(), (double)s.bytes));
  o.Set("mappings", Napi::Number::New(info.Env(), (double)s.mappings));
  o.Set("mappedBytes", Napi::Number::New(info.Env(), (double)s.mapped_bytes));
  o.Set("contexts", Napi::Number::New(info.Env(), (double)g_contexts.load()));
  return o;
}

Napi::Value MulMatSupports(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), mul_mat_supports((int32_t)u64_arg(info[0], "type")));
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  o.Set("avx2", Napi::Boolean::New(info.Env(), __builtin_cpu_supports("avx2") != 0));
  o.Set("fma", Napi::Boolean::New(info.Env(), __builtin_cpu_supports("fma") != 0));
  o.Set("avx512f", Napi::Boolean::New(info.Env(), __builtin_cpu_supports("avx512f") != 0));
#ifdef GGTS_BLAS
  o.Set("blas", Napi::Boolean::New(info.Env(), true));
#else
  o.Set("blas", Napi::Boolean::New(info.Env(), false));
#endif
  return o;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("allocBuffer", Napi::Function::New(env, AllocBuffer));
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("freeBuffer", Napi::Function::New(env, FreeBuffer));
  exports.Set("setBytes", Napi::Function::New(env, SetBytes));
  exports.Set("getBytes", Napi::Function::New(env, GetBytes));
  exports.Set("bufferSize", Napi::Function::New(env, BufferSize));
  exports.Set("createContext", Napi::Function::New(env, CreateContext));
  exports.Set("destroyContext", Napi::Function::New(env, DestroyContext));
  exports.Set("compute", Napi::Function::New(env, Compute));
  exports.Set("profile", Napi::Function::New(env, Profile));
  exports.Set("physicalCores", Napi::Function::New(env, PhysicalCores));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("mulMatSupports", Napi::Function::New(env, MulMatSupports));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo));
  return exports;
}

}  // namespace cpu
}  // namespace ggts

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return ggts::cpu::Init(env, exports); }
NODE_API_MODULE(ggts_cpu, InitAll)
