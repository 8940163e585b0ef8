// The per-backend execution context and the launch entry points of the kernel files.
#pragma once
#include <cuda_runtime.h>
#include <cstddef>
#include "graph.h"

namespace ggts_cuda {

struct ExecCtx {
  cudaStream_t stream = nullptr;
  int* err = nullptr;            // device: [record+1, code, value]
  char* work = nullptr;          // device scratch, at least workspace_bytes(node) for every node
  size_t work_size = 0;
  int max_smem_optin = 48 * 1024;
  int sm_count = 1;
  int cc_major = 8;
};

// Scratch a node needs (b converted to f16, expert routing tables, ...).
size_t workspace_bytes(const Node& n);
// Enqueues the node's kernels on ctx.stream; throws std::runtime_error for a launch it cannot make.
void launch_node(const Node& n, const ExecCtx& ctx);

// Per-family launchers (one .cu file each).
void launch_copy(const Node& n, const ExecCtx& ctx);
void launch_elementwise(const Node& n, const ExecCtx& ctx);
void launch_reduce(const Node& n, const ExecCtx& ctx);
void launch_sort(const Node& n, const ExecCtx& ctx);
void launch_matmul(const Node& n, const ExecCtx& ctx);
size_t matmul_workspace(const Node& n);
void launch_attention(const Node& n, const ExecCtx& ctx);
void launch_delta(const Node& n, const ExecCtx& ctx);
// Called once per device so kernels with large shared memory may use it.
void configure_kernels(const ExecCtx& ctx);

}  // namespace ggts_cuda
