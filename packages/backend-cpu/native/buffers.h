// Native storage: 64-byte aligned allocations and read-only file mappings shared per file (refcounted).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ggts {
namespace cpu {

struct Mapping;

struct NativeBuffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  bool readonly = false;
  bool anon_map = false;         // large allocations: anonymous mapping (zero pages materialise lazily)
  std::shared_ptr<Mapping> map;  // set for file-backed buffers
  ~NativeBuffer();
};

std::shared_ptr<NativeBuffer> alloc_buffer(size_t size);
// Throws std::runtime_error with a one-line reason.
std::shared_ptr<NativeBuffer> map_file_region(const std::string& path, uint64_t offset, uint64_t size);

struct AllocStats { int64_t buffers, bytes, mappings, mapped_bytes; };
AllocStats alloc_stats();

}  // namespace cpu
}  // namespace ggts
