// Shared graph placement for backends: plan the arena, (re)allocate it, bind roots, list uploads.
import type { Tensor } from "./tensor.js";
import type { Graph } from "./graph.js";
import type { Backend, BackendBuffer } from "./backend.js";
import { planMemory, type MemoryPlan } from "./planner.js";

export interface ArenaState { arena: BackendBuffer | null }

export interface PlacedGraph {
  plan: MemoryPlan;
  /** Leaves whose host data must be copied in before running. */
  uploads: Tensor[];
}

export function placeGraph(backend: Backend, graph: Graph, state: ArenaState,
                           allocArena: (size: number) => BackendBuffer, alignment = 256): PlacedGraph {
  const needs = (r: Tensor): boolean => {
    if (r.buffer === null || r.buffer.isArena) return true;
    if (r.buffer.backend !== backend) {
      throw new Error(`${backend.name}: ${r} lives in a buffer of backend "${r.buffer.backend.name}"`);
    }
    return false;
  };
  const dropStale = (t: Tensor) => {
    const r = t.root;
    if (r.buffer?.isArena && r.buffer !== state.arena) r.buffer = null; // stale arena binding
  };
  for (const t of graph.leaves) dropStale(t);
  for (const t of graph.nodes) dropStale(t);
  const plan = planMemory(graph, needs, alignment);
  if (!state.arena || state.arena.size < plan.size) {
    state.arena?.free();
    state.arena = allocArena(Math.max(plan.size, alignment));
  }
  for (const [r, off] of plan.offsets) { r.buffer = state.arena; r.offset = off; }
  const uploads = graph.leaves.filter((l) => l.data !== null && plan.offsets.has(l));
  return { plan, uploads };
}

/** Byte position of t's first element inside its root's buffer. */
export function storageOf(t: Tensor): { buffer: BackendBuffer; offset: number } {
  const r = t.root;
  if (!r.buffer) throw new Error(`${t} has no storage: compute its graph or bind it to a buffer first`);
  return { buffer: r.buffer, offset: r.offset + t.viewOffset };
}
