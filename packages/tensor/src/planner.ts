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
  // Runs once per compute (models rebuild graphs per token), hence plain loops over closures.
  const steps = graph.nodes;
  const lastUse = new Map<Tensor, number>();
  const END = steps.length;
  for (let i = 0; i < END; i++) { const src = steps[i].src; for (let k = 0; k < src.length; k++) lastUse.set(src[k].root, i); }
  for (const o of graph.outputs) lastUse.set(o.root, END);
  // A view output keeps its root alive; so does any view reachable after its root's producer.
  for (let i = 0; i < END; i++) {
    const n = steps[i];
    if (n.viewSrc) { const r = n.root; lastUse.set(r, Math.max(lastUse.get(r) ?? i, i)); }
  }

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
    // free stays sorted by offset and coalesced: insert in place and merge with the neighbours only.
    let lo = 0, hi = free.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (free[mid].off < off) lo = mid + 1; else hi = mid; }
    free.splice(lo, 0, { off, size: bytes });
    if (lo + 1 < free.length && free[lo].off + free[lo].size === free[lo + 1].off) {
      free[lo].size += free[lo + 1].size; free.splice(lo + 1, 1);
    }
    if (lo > 0 && free[lo - 1].off + free[lo - 1].size === free[lo].off) {
      free[lo - 1].size += free[lo].size; free.splice(lo, 1);
    }
  };
  const bytesOf = (t: Tensor) => t.nBytes;

  for (const leaf of graph.leaves) {
    if (!needsStorage(leaf)) continue;
    offsets.set(leaf, alloc(bytesOf(leaf)));
    lifetimes.set(leaf, [-1, lastUse.get(leaf) ?? -1]);
  }
  // Roots whose bytes are released after step i (arrays created on demand: most steps free nothing).
  const dying: (Tensor[] | undefined)[] = new Array(END);
  const die = (i: number, r: Tensor) => { const d = dying[i]; if (d) d.push(r); else dying[i] = [r]; };
  for (const [r, i] of lastUse) if (i < END && offsets.has(r)) die(i, r);

  for (let i = 0; i < END; i++) {
    const n = steps[i];
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
        dying[i] = dying[i]?.filter((r) => r !== s0);
        lifetimes.get(s0)![1] = i;
      } else {
        offsets.set(n, alloc(bytesOf(n)));
      }
      lifetimes.set(n, [i, last]);
      if (last < END && last > i) die(last, n);
      else if (last <= i) die(i, n);
    }
    const d = dying[i];
    if (d) for (let k = 0; k < d.length; k++) release(offsets.get(d[k])!, bytesOf(d[k]));
  }
  return { size, alignment, offsets, lifetimes, inplace };
}
