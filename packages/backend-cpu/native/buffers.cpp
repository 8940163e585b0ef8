#include "buffers.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

namespace ggts {
namespace cpu {

namespace {
std::atomic<int64_t> g_buffers{0}, g_bytes{0}, g_maps{0}, g_mapped{0};
std::mutex g_map_mu;
std::map<std::string, std::weak_ptr<Mapping>> g_maps_by_file;
}  // namespace

struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  std::string key;
  ~Mapping() {
    if (addr) munmap(addr, len);
    g_maps--; g_mapped -= (int64_t)len;
  }
};

NativeBuffer::~NativeBuffer() {
  if (!map && data) {
    if (anon_map) munmap(data, (size + 4095) & ~size_t(4095));
    else std::free(data);
    g_bytes -= (int64_t)size;
  }
  g_buffers--;
}

std::shared_ptr<NativeBuffer> alloc_buffer(size_t size) {
  auto b = std::make_shared<NativeBuffer>();
  g_buffers++;  // balanced by ~NativeBuffer, also when this function throws below
  void* p;
  if (size >= (size_t(1) << 20)) {
    p = mmap(nullptr, (size + 4095) & ~size_t(4095), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) p = nullptr;
    b->anon_map = true;
  } else {
    const size_t bytes = ((size ? size : 1) + 63) & ~size_t(63);
    p = std::aligned_alloc(64, bytes);
    if (p) std::memset(p, 0, bytes);
  }
  if (!p) throw std::runtime_error("cpu: cannot allocate " + std::to_string(size) + " bytes");
  b->data = (uint8_t*)p;
  b->size = size;
  g_bytes += (int64_t)size;
  return b;
}

std::shared_ptr<NativeBuffer> map_file_region(const std::string& path, uint64_t offset, uint64_t size) {
  char* rp = realpath(path.c_str(), nullptr);
  if (!rp) throw std::runtime_error("cpu: cannot open " + path + ": " + std::strerror(errno));
  std::string key(rp);
  std::free(rp);
  std::shared_ptr<Mapping> m;
  {
    std::lock_guard<std::mutex> lock(g_map_mu);
    auto it = g_maps_by_file.find(key);
    if (it != g_maps_by_file.end()) m = it->second.lock();
    if (!m) {
      const int fd = open(key.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("cpu: cannot open " + path + ": " + std::strerror(errno));
      struct stat sb;
      if (fstat(fd, &sb) != 0 || sb.st_size <= 0) {
        close(fd);
        throw std::runtime_error("cpu: cannot map " + path + ": empty or unreadable file");
      }
      void* addr = mmap(nullptr, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
      const int err = errno;
      close(fd);
      if (addr == MAP_FAILED) throw std::runtime_error("cpu: mmap of " + path + " failed: " + std::strerror(err));
      // Start reading the whole file into the page cache in the background: rows touched once in a while (token
      // embeddings, rarely routed experts) then cost a page-cache hit instead of a disk read mid-token.
      madvise(addr, (size_t)sb.st_size, MADV_WILLNEED);
      m = std::make_shared<Mapping>();
      m->addr = addr; m->len = (size_t)sb.st_size; m->key = key;
      g_maps++; g_mapped += (int64_t)m->len;
      g_maps_by_file[key] = m;
    }
  }
  if (offset > m->len || size > m->len - offset) {
    throw std::runtime_error("cpu: region [" + std::to_string(offset) + ", " + std::to_string(offset + size) +
                             ") is outside " + path + " (" + std::to_string(m->len) + " bytes)");
  }
  auto b = std::make_shared<NativeBuffer>();
  b->data = (uint8_t*)m->addr + offset;
  b->size = size;
  b->readonly = true;
  b->map = m;
  g_buffers++;
  return b;
}

AllocStats alloc_stats() { return {g_buffers.load(), g_bytes.load(), g_maps.load(), g_mapped.load()}; }

}  // namespace cpu
}  // namespace ggts
