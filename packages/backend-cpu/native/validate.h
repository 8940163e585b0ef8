// Turns the serialised graph (packages/tensor/src/serialize.ts) into compiled nodes, checking every field:
// native code never trusts the records it is given.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>
#include "ops.h"

namespace ggts {
namespace cpu {

constexpr int REC = 48;
namespace F { enum { op = 0, type = 1, ne = 2, nb = 6, buffer = 10, offset = 11, flags = 12, nSrc = 13, src = 14, nParams = 22, params = 23 }; }
namespace RF { enum { noCompute = 1, output = 2, leaf = 4, inplace = 8 }; }

struct BufferView { uint8_t* data; size_t size; bool readonly; };

struct GraphError : std::runtime_error {
  int record;
  GraphError(int rec, const std::string& msg) : std::runtime_error(msg), record(rec) {}
};

struct CompiledGraph {
  std::vector<Node> nodes;
  size_t wsize = 0;
  bool parallel = false;  // some node runs on more than one thread
};

// Rough single-thread cost of a node in nanoseconds, used to decide whether splitting it across threads pays
// for the barrier (and, on an oversubscribed machine, the wake-up of a descheduled worker).
double node_cost_ns(const Node& n);

// Default split_min_ns: below it a node runs on one thread, since a barrier costs ~1 us with every thread
// spinning and far more when a worker has been descheduled (oversubscribed machines).
constexpr double SPLIT_MIN_NS = 20000;

// Throws GraphError naming the record on the first violation. Nodes estimated to cost less than split_min_ns run
// on one thread; the others on all nth.
CompiledGraph compile_graph(const double* rec, size_t count, const std::vector<BufferView>& buffers, int nth,
                            double split_min_ns, RunError* err);

}  // namespace cpu
}  // namespace ggts
