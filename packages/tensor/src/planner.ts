// Memory planning: places the graph's unbound storage roots in one arena, reusing bytes once a tensor's
// last reader has run, and letting elementwise ops write over a source that dies at that node.
import { Tensor } from "./tensor.js";
import type { Graph } from "./graph.js";

/** Ops whose kernels must accept dst aliasing src[0] (same type, shape and contiguous layout). */
export const INPLACE_OPS: ReadonlySet<string> = new Set([
  "ADD", "SUB", "MUL", "DIV", "SCALE", "CLAMP", "NEG", "ABS", "SQR", "SQRT", "LOG", "EXP", "SIN", "COS", "TANH",
  "RELU", "SIGMOID", "SILU", "SOFTPLUS", "GELU", "GELU_ERF", "RMS_NORM", "SOFT_MAX", "ROPE",
]);

export interface MemoryPlan {
  size: number;
  alignment: number;
  /** Arena offset of every planned root. */
  offsets: Map<Tensor, number>;
  /** Index of the first and last step at which each planned root is live (leaves start at -1). */
  lifetimes: Map<Tensor, [number, number]>;
  /** Nodes that reuse their src[0]'s bytes. */
  inplace: Set<Tensor>;
}

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * needsStorage(root) says which roots the arena must hold (typically: not bound to a buffer yet).
 * Leaves are live from the start (their data is uploaded before the graph runs); outputs to the end.
 */
export function planMemory(graph: Graph, needsStorage: (root: Tensor) => boolean, alignment = 256,
                           allowInplace = true): MemoryPlan {
  const steps = graph.nodes;
  const lastUse = new Map<Tensor, number>();
  const END = steps.length;
  steps.forEach((n, i) => { for (const s of n.src) lastUse.set(s.root, i); });
  for (const o of graph.outputs) lastUse.set(o.root, END);
  // A view output keeps its root alive; so does any view reachable after its root's producer.
  steps.forEach((n, i) => { if (n.viewSrc) lastUse.set(n.root, Math.max(lastUse.get(n.root) ?? i, i)); });

  const offsets = new Map<Tensor, number>();
  const lifetimes = new Map<Tensor, [number, number]>();
  const inplace = new Set<Tensor>();
  const free: { off: number; size: number }[] = [];
  let size = 0;

  const alloc = (bytes: number): number => {
    bytes = alignUp(Math.max(bytes, 1), alignment);
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      if (free[i].size >= bytes && (best < 0 || free[i].size < free[best].size)) best = i;
    }
    if (best >= 0) {
      const b = free[best];
      const off = b.off;
      if (b.size === bytes) free.splice(best, 1); else { b.off += bytes; b.size -= bytes; }
      return off;
    }
    // Grow the arena, absorbing a free block that touches its end.
    const tail = free.findIndex((b) => b.off + b.size === size);
    if (tail >= 0) {
      const off = free[tail].off;
      free.splice(tail, 1);
      size = off + bytes;
      return off;
    }
    const off = size;
    size += bytes;
    return off;
  };
  const release = (off: number, bytes: number) => {
    bytes = alignUp(Math.max(bytes, 1), alignment);
    free.push({ off, size: bytes });
    free.sort((a, b) => a.off - b.off);
    for (let i = 0; i + 1 < free.length; ) {
      if (free[i].off + free[i].size === free[i + 1].off) { free[i].size += free[i + 1].size; free.splice(i + 1, 1); }
      else i++;
    }
  };
  const bytesOf = (t: Tensor) => t.nBytes;

  for (const leaf of graph.leaves) {
    if (!needsStorage(leaf)) continue;
    offsets.set(leaf, alloc(bytesOf(leaf)));
    lifetimes.set(leaf, [-1, lastUse.get(leaf) ?? -1]);
  }
  const dying: Tensor[][] = steps.map(() => []);
  for (const [r, i] of lastUse) if (i < END && offsets.has(r)) dying[i].push(r);

  steps.forEach((n, i) => {
    if (!n.viewSrc && !n.isLeaf && needsStorage(n)) {
      const s0 = n.src[0];
      const last = lastUse.get(n) ?? i;
      if (allowInplace && INPLACE_OPS.has(n.op) && s0 && s0 === s0.root && !s0.isLeaf && offsets.has(s0) &&
          lastUse.get(s0) === i && s0.type === n.type && s0.nBytes === n.nBytes && s0.isContiguous &&
          n.isContiguous && n.src.every((s) => s === s0 || s.root !== s0)) {
        // (A second source reading s0 through another view, e.g. add(x, transpose(x)), would see
        // elements already overwritten, so such nodes get fresh storage.)
        offsets.set(n, offsets.get(s0)!);
        inplace.add(n);
        dying[i] = dying[i].filter((r) => r !== s0);
        lifetimes.get(s0)![1] = i;
      } else {
        offsets.set(n, alloc(bytesOf(n)));
      }
      lifetimes.set(n, [i, last]);
      if (last < END && last > i) dying[last].push(n);
      else if (last <= i) dying[i].push(n);
    }
    for (const r of dying[i]) release(offsets.get(r)!, bytesOf(r));
  });
  return { size, alignment, offsets, lifetimes, inplace };
}
