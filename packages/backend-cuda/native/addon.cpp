// Node-API surface of the CUDA backend. Buffers and execution contexts are numeric handles; compute() takes the
// serialised graph plus the buffer handle of each slot, validates every record, then enqueues all kernels on
// the context's stream (replaying a captured CUDA graph when the same graph repeats) and waits for them.
#include <napi.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include "exec.h"
#include "graph.h"

using namespace ggts_cuda;

namespace {

struct Buffer { void* ptr = nullptr; uint64_t size = 0; bool readonly = false; };

struct GraphEntry {
  cudaGraphExec_t exec = nullptr;
  uint64_t full = 0;
  int seen = 0;
};

struct Context {
  cudaStream_t stream = nullptr;
  ExecCtx ex;
  bool graphs = true;
  std::map<uint64_t, GraphEntry> graph_cache;
};

std::mutex g_mu;
std::map<int, Buffer> g_buffers;
std::map<int, std::unique_ptr<Context>> g_contexts;
int g_next_id = 1;
bool g_kernels_configured = false;

std::string cuda_text(cudaError_t e) { return std::string(cudaGetErrorString(e)); }

void ck(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("cuda: ") + what + ": " + cuda_text(e));
}

// Why the device cannot be used, or "" when it can.
std::string unavailable_reason() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) { cudaGetLastError(); return cuda_text(e); }
  if (n == 0) return "no CUDA device found";
  return "";
}

struct Cublas { bool tried = false; bool ok = false; std::string error; std::string lib; };
Cublas g_cublas;

// cuBLAS is optional: probed at run time so the addon never needs it to load.
const Cublas& cublas_probe() {
  if (g_cublas.tried) return g_cublas;
  g_cublas.tried = true;
  std::string errs;
  for (const char* lib : {"libcublas.so.13", "libcublas.so.12"}) {
    void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (h) { g_cublas.ok = true; g_cublas.lib = lib; return g_cublas; }
    const char* de = dlerror();
    if (!errs.empty()) errs += "; ";
    errs += de ? de : lib;
  }
  g_cublas.error = errs;
  return g_cublas;
}

Context& context(const Napi::Env& env, const Napi::Value& v) {
  const int id = v.As<Napi::Number>().Int32Value();
  auto it = g_contexts.find(id);
  if (it == g_contexts.end()) throw Napi::Error::New(env, "cuda: unknown context " + std::to_string(id));
  return *it->second;
}

Buffer& buffer(const Napi::Env& env, const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "cuda: buffer handle must be a number");
  const int id = v.As<Napi::Number>().Int32Value();
  auto it = g_buffers.find(id);
  if (it == g_buffers.end()) throw Napi::Error::New(env, "cuda: unknown or freed buffer " + std::to_string(id));
  return it->second;
}

uint64_t to_u64(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("cuda: ") + what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d)
    throw Napi::RangeError::New(env, std::string("cuda: ") + what + " must be a non-negative integer");
  return (uint64_t)d;
}

Napi::Value Available(const Napi::CallbackInfo& info) {
  const std::string r = unavailable_reason();
  if (r.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), r);
}

Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  int rt = 0, drv = 0;
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);
  o.Set("runtimeVersion", rt);
  o.Set("driverVersion", drv);
  const Cublas& cb = cublas_probe();
  o.Set("cublas", cb.ok);
  if (cb.ok) o.Set("cublasLibrary", cb.lib); else o.Set("cublasError", cb.error);
  const std::string why = unavailable_reason();
  if (!why.empty()) { o.Set("error", why); return o; }
  int dev = 0;
  cudaGetDevice(&dev);
  cudaDeviceProp p;
  if (cudaGetDeviceProperties(&p, dev) == cudaSuccess) {
    o.Set("name", std::string(p.name));
    o.Set("memoryBytes", (double)p.totalGlobalMem);
    o.Set("computeCapability", std::to_string(p.major) + "." + std::to_string(p.minor));
    o.Set("multiprocessors", p.multiProcessorCount);
    o.Set("sharedMemoryPerBlockOptin", (double)p.sharedMemPerBlockOptin);
  }
  size_t fr = 0, tot = 0;
  if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) o.Set("freeBytes", (double)fr);
  return o;
}

Napi::Value OpTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env, OP_COUNT);
  for (int i = 0; i < OP_COUNT; i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", op_name(i));
    o.Set("params", op_param_count(i));
    a.Set(i, o);
  }
  return a;
}

std::vector<double> records_of(const Napi::Env& env, const Napi::Value& v, size_t& count) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "cuda: records must be a Float64Array");
  Napi::Float64Array r = v.As<Napi::Float64Array>();
  if (r.ElementLength() % REC != 0) throw Napi::RangeError::New(env, "cuda: records length is not a multiple of " + std::to_string(REC));
  count = r.ElementLength() / REC;
  return std::vector<double>(r.Data(), r.Data() + r.ElementLength());
}

// validateGraph(records, bufferSizes: Float64Array, readonly: Uint8Array) → null | {record, message}.
// Uses fake base addresses: no device is touched.
Napi::Value ValidateGraph(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t count = 0;
  std::vector<double> rec = records_of(env, info[0], count);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "cuda: bufferSizes must be a Float64Array");
  Napi::Float64Array sizes = info[1].As<Napi::Float64Array>();
  std::vector<BufferView> views;
  const bool has_ro = info.Length() > 2 && info[2].IsTypedArray();
  Napi::Uint8Array ro = has_ro ? info[2].As<Napi::Uint8Array>() : Napi::Uint8Array();
  for (size_t i = 0; i < sizes.ElementLength(); i++) {
    const double s = sizes[i];
    if (!(s >= 0) || s > 9007199254740991.0) throw Napi::RangeError::New(env, "cuda: bad buffer size");
    views.push_back({(uint64_t)(i + 1) << 48, (uint64_t)s, has_ro && i < ro.ElementLength() && ro[i] != 0});
  }
  try {
    std::vector<Node> nodes = validate_graph(rec.data(), count, views);
    (void)nodes;
    return env.Null();
  } catch (const GraphError& e) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("record", e.record);
    o.Set("message", e.what());
    return o;
  }
}

Napi::Value CreateContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  const std::string why = unavailable_reason();
  if (!why.empty()) throw Napi::Error::New(env, "cuda: " + why);
  auto c = std::make_unique<Context>();
  try {
    ck(cudaSetDevice(0), "cudaSetDevice");
    ck(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "cudaStreamCreate");
    ck(cudaMalloc((void**)&c->ex.err, 4 * sizeof(int)), "cudaMalloc(error word)");
    cudaDeviceProp p;
    ck(cudaGetDeviceProperties(&p, 0), "cudaGetDeviceProperties");
    c->ex.stream = c->stream;
    c->ex.max_smem_optin = (int)p.sharedMemPerBlockOptin;
    c->ex.sm_count = p.multiProcessorCount;
    c->ex.cc_major = p.major;
    const char* g = std::getenv("GGTS_CUDA_GRAPHS");
    c->graphs = !(g && g[0] == '0');
    if (!g_kernels_configured) { configure_kernels(c->ex); g_kernels_configured = true; }
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  const int id = g_next_id++;
  g_contexts[id] = std::move(c);
  return Napi::Number::New(env, id);
}

void drop_graphs(Context& c) {
  for (auto& kv : c.graph_cache) if (kv.second.exec) cudaGraphExecDestroy(kv.second.exec);
  c.graph_cache.clear();
}

Napi::Value DestroyContext(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_mu);
  const int id = info[0].As<Napi::Number>().Int32Value();
  auto it = g_contexts.find(id);
  if (it == g_contexts.end()) return info.Env().Undefined();
  Context& c = *it->second;
  cudaStreamSynchronize(c.stream);
  drop_graphs(c);
  if (c.ex.work) cudaFree(c.ex.work);
  if (c.ex.err) cudaFree(c.ex.err);
  cudaStreamDestroy(c.stream);
  g_contexts.erase(it);
  return info.Env().Undefined();
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  const uint64_t size = to_u64(env, info[0], "size");
  const bool readonly = info.Length() > 1 && info[1].ToBoolean().Value();
  Buffer b;
  b.size = size;
  b.readonly = readonly;
  const cudaError_t e = cudaMalloc(&b.ptr, size == 0 ? 1 : size);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw Napi::Error::New(env, "cuda: cudaMalloc(" + std::to_string(size) + " bytes): " + cuda_text(e));
  }
  const int id = g_next_id++;
  g_buffers[id] = b;
  return Napi::Number::New(env, id);
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(g_mu);
  const int id = info[0].As<Napi::Number>().Int32Value();
  auto it = g_buffers.find(id);
  if (it != g_buffers.end()) {
    // Kernels still queued may read it; freeing waits for the device (cudaFree synchronises).
    cudaFree(it->second.ptr);
    g_buffers.erase(it);
  }
  return info.Env().Undefined();
}

void range_check(const Napi::Env& env, const Buffer& b, uint64_t off, uint64_t len, const char* what) {
  if (off > b.size || len > b.size - off)
    throw Napi::RangeError::New(env, std::string("cuda: ") + what + " of " + std::to_string(len) + " bytes at offset " +
                                         std::to_string(off) + " exceeds the buffer's " + std::to_string(b.size) + " bytes");
}

// upload(ctx, buffer, offset, Uint8Array)
Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  Context& c = context(env, info[0]);
  Buffer& b = buffer(env, info[1]);
  const uint64_t off = to_u64(env, info[2], "offset");
  if (!info[3].IsTypedArray()) throw Napi::TypeError::New(env, "cuda: upload data must be a Uint8Array");
  Napi::Uint8Array data = info[3].As<Napi::Uint8Array>();
  range_check(env, b, off, data.ByteLength(), "upload");
  if (data.ByteLength() == 0) return env.Undefined();
  try {
    ck(cudaMemcpyAsync((char*)b.ptr + off, data.Data(), data.ByteLength(), cudaMemcpyHostToDevice, c.stream), "upload");
    ck(cudaStreamSynchronize(c.stream), "upload");
  } catch (const std::exception& e) { throw Napi::Error::New(env, e.what()); }
  return env.Undefined();
}

// download(ctx, buffer, offset, size) → Uint8Array
Napi::Value Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  Context& c = context(env, info[0]);
  Buffer& b = buffer(env, info[1]);
  const uint64_t off = to_u64(env, info[2], "offset");
  const uint64_t len = to_u64(env, info[3], "size");
  range_check(env, b, off, len, "download");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, (size_t)len);
  if (len == 0) return out;
  try {
    ck(cudaMemcpyAsync(out.Data(), (const char*)b.ptr + off, len, cudaMemcpyDeviceToHost, c.stream), "download");
    ck(cudaStreamSynchronize(c.stream), "download");
  } catch (const std::exception& e) { throw Napi::Error::New(env, e.what()); }
  return out;
}

// Streams [fileOffset, fileOffset + size) of a file into a device buffer through two pinned 64 MiB staging
// buffers, so that reading the next piece overlaps copying the previous one.
class FileLoader : public Napi::AsyncWorker {
 public:
  FileLoader(Napi::Env env, void* dst, std::string path, uint64_t file_off, uint64_t size)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), dst_(dst), path_(std::move(path)),
        file_off_(file_off), size_(size) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    constexpr size_t CHUNK = size_t(64) << 20;
    FILE* f = std::fopen(path_.c_str(), "rb");
    if (!f) { SetError("cuda: cannot open " + path_ + ": " + std::strerror(errno)); return; }
    cudaStream_t st = nullptr;
    void* pinned[2] = {nullptr, nullptr};
    cudaEvent_t done[2] = {nullptr, nullptr};
    std::string err;
    try {
      ck(cudaSetDevice(0), "cudaSetDevice");
      ck(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking), "cudaStreamCreate");
      for (int i = 0; i < 2; i++) {
        ck(cudaHostAlloc(&pinned[i], CHUNK, cudaHostAllocDefault), "cudaHostAlloc(staging)");
        ck(cudaEventCreateWithFlags(&done[i], cudaEventDisableTiming), "cudaEventCreate");
      }
      if (fseeko(f, (off_t)file_off_, SEEK_SET) != 0) throw std::runtime_error("cuda: cannot seek in " + path_);
      uint64_t pos = 0;
      int slot = 0;
      bool used[2] = {false, false};
      while (pos < size_) {
        const size_t n = (size_t)std::min<uint64_t>(CHUNK, size_ - pos);
        if (used[slot]) ck(cudaEventSynchronize(done[slot]), "staging wait");
        const size_t got = std::fread(pinned[slot], 1, n, f);
        if (got != n) throw std::runtime_error("cuda: " + path_ + " ended before byte " + std::to_string(file_off_ + size_));
        ck(cudaMemcpyAsync((char*)dst_ + pos, pinned[slot], n, cudaMemcpyHostToDevice, st), "weights upload");
        ck(cudaEventRecord(done[slot], st), "cudaEventRecord");
        used[slot] = true;
        pos += n;
        slot ^= 1;
      }
      ck(cudaStreamSynchronize(st), "weights upload");
    } catch (const std::exception& e) {
      err = e.what();
    }
    if (st) cudaStreamSynchronize(st);
    for (int i = 0; i < 2; i++) {
      if (pinned[i]) cudaFreeHost(pinned[i]);
      if (done[i]) cudaEventDestroy(done[i]);
    }
    if (st) cudaStreamDestroy(st);
    std::fclose(f);
    if (!err.empty()) SetError(err);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  void* dst_;
  std::string path_;
  uint64_t file_off_, size_;
};

// loadFile(buffer, dstOffset, path, fileOffset, size) → Promise<void>
Napi::Value LoadFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  Buffer& b = buffer(env, info[0]);
  const uint64_t dst_off = to_u64(env, info[1], "dstOffset");
  if (!info[2].IsString()) throw Napi::TypeError::New(env, "cuda: path must be a string");
  const uint64_t file_off = to_u64(env, info[3], "fileOffset");
  const uint64_t size = to_u64(env, info[4], "size");
  range_check(env, b, dst_off, size, "loadFile");
  auto* w = new FileLoader(env, (char*)b.ptr + dst_off, info[2].As<Napi::String>().Utf8Value(), file_off, size);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

uint64_t fnv(uint64_t h, const void* p, size_t n) {
  const unsigned char* c = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++) { h ^= c[i]; h *= 1099511628211ull; }
  return h;
}

// The topology (ops, types, shapes, strides, wiring) and the full identity (plus offsets, params, buffers).
void graph_hashes(const double* rec, size_t count, const std::vector<BufferView>& views, uint64_t& topo, uint64_t& full) {
  topo = 1469598103934665603ull;
  for (size_t i = 0; i < count; i++) {
    const double* r = rec + i * REC;
    topo = fnv(topo, r + F::op, sizeof(double) * 10);        // op, type, ne, nb
    topo = fnv(topo, r + F::flags, sizeof(double) * 10);     // flags, nSrc, src
  }
  full = fnv(topo, rec, sizeof(double) * REC * count);
  for (const auto& v : views) full = fnv(full, &v.base, sizeof v.base);
}

void enqueue_all(const std::vector<Node>& nodes, const ExecCtx& ex) {
  for (const Node& n : nodes) launch_node(n, ex);
}

std::string kernel_error_text(const std::vector<Node>& nodes, int rec, int code, int value) {
  const char* op = "?";
  for (const Node& n : nodes) if (n.record == rec) op = op_name(n.op);
  std::string what = code == 1 ? "row index " + std::to_string(value) + " out of range"
                   : code == 2 ? "expert id " + std::to_string(value) + " out of range"
                               : "kernel error " + std::to_string(code);
  return "cuda: record " + std::to_string(rec) + " (" + op + "): " + what;
}

// compute(ctx, records, bufferHandles: Int32Array) — validates, runs, waits.
Napi::Value Compute(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(g_mu);
  Context& c = context(env, info[0]);
  size_t count = 0;
  std::vector<double> rec = records_of(env, info[1], count);
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(env, "cuda: buffer handles must be an Int32Array");
  Napi::Int32Array handles = info[2].As<Napi::Int32Array>();
  std::vector<BufferView> views;
  for (size_t i = 0; i < handles.ElementLength(); i++) {
    const Buffer& b = buffer(env, Napi::Number::New(env, handles[i]));
    views.push_back({(uint64_t)(uintptr_t)b.ptr, b.size, b.readonly});
  }
  std::vector<Node> nodes;
  try {
    nodes = validate_graph(rec.data(), count, views);
  } catch (const GraphError& e) {
    throw Napi::Error::New(env, e.what());
  }
  try {
    size_t work = 0;
    for (const Node& n : nodes) work = std::max(work, workspace_bytes(n));
    if (work > c.ex.work_size) {
      ck(cudaStreamSynchronize(c.stream), "workspace");
      if (c.ex.work) cudaFree(c.ex.work);
      c.ex.work = nullptr;
      c.ex.work_size = 0;
      ck(cudaMalloc((void**)&c.ex.work, work), "cudaMalloc(workspace)");
      c.ex.work_size = work;
      drop_graphs(c);  // captured graphs point at the old workspace
    }
    ck(cudaMemsetAsync(c.ex.err, 0, 4 * sizeof(int), c.stream), "reset error word");
    bool launched = false;
    if (c.graphs && !nodes.empty()) {
      uint64_t topo = 0, full = 0;
      graph_hashes(rec.data(), count, views, topo, full);
      if (c.graph_cache.size() >= 16 && !c.graph_cache.count(topo)) drop_graphs(c);  // bound the cache
      GraphEntry& ge = c.graph_cache[topo];
      ge.seen++;
      if (ge.exec && ge.full == full) {
        ck(cudaGraphLaunch(ge.exec, c.stream), "cudaGraphLaunch");
        launched = true;
      } else if (ge.seen >= 2) {
        // The topology repeats (token generation): capture once, then update the instantiated graph in place.
        cudaGraph_t g = nullptr;
        bool captured = false;
        if (cudaStreamBeginCapture(c.stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess) {
          try { enqueue_all(nodes, c.ex); } catch (...) { cudaStreamEndCapture(c.stream, &g); if (g) cudaGraphDestroy(g); throw; }
          captured = cudaStreamEndCapture(c.stream, &g) == cudaSuccess && g != nullptr;
        }
        if (captured) {
          bool ready = false;
          if (ge.exec) {
            cudaGraphExecUpdateResultInfo ri;
            ready = cudaGraphExecUpdate(ge.exec, g, &ri) == cudaSuccess;
            if (!ready) { cudaGetLastError(); cudaGraphExecDestroy(ge.exec); ge.exec = nullptr; }
          }
          if (!ready) ready = cudaGraphInstantiate(&ge.exec, g, 0) == cudaSuccess;
          cudaGraphDestroy(g);
          if (ready) {
            ge.full = full;
            ck(cudaGraphLaunch(ge.exec, c.stream), "cudaGraphLaunch");
            launched = true;
          } else {
            ge.exec = nullptr;
          }
        }
        if (!launched) { cudaGetLastError(); c.graphs = false; drop_graphs(c); }  // fall back to plain launches
      }
    }
    if (!launched) enqueue_all(nodes, c.ex);
    int herr[4] = {0, 0, 0, 0};
    ck(cudaMemcpyAsync(herr, c.ex.err, sizeof herr, cudaMemcpyDeviceToHost, c.stream), "read error word");
    ck(cudaStreamSynchronize(c.stream), "graph execution");
    if (herr[0] != 0) throw std::runtime_error(kernel_error_text(nodes, herr[0] - 1, herr[1], herr[2]));
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return Napi::Number::New(env, (double)nodes.size());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("available", Napi::Function::New(env, Available));
  exports.Set("deviceInfo", Napi::Function::New(env, DeviceInfo));
  exports.Set("opTable", Napi::Function::New(env, OpTable));
  exports.Set("validateGraph", Napi::Function::New(env, ValidateGraph));
  exports.Set("createContext", Napi::Function::New(env, CreateContext));
  exports.Set("destroyContext", Napi::Function::New(env, DestroyContext));
  exports.Set("alloc", Napi::Function::New(env, Alloc));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("upload", Napi::Function::New(env, Upload));
  exports.Set("download", Napi::Function::New(env, Download));
  exports.Set("loadFile", Napi::Function::New(env, LoadFile));
  exports.Set("compute", Napi::Function::New(env, Compute));
  exports.Set("recordSize", Napi::Number::New(env, REC));
  return exports;
}

}  // namespace

NODE_API_MODULE(ggts_cuda, Init)
