// The planned graph as one Float64Array that a native backend walks in a single call.
// Every tensor the graph touches gets one record of REC doubles; sources precede their consumers.
import { Tensor } from "./tensor.js";
import type { Graph } from "./graph.js";
import { OP_NAMES, OP_PARAMS, VIEW_OPS, opCode, type OpName } from "./ops/spec.js";

export const REC = 48;
export const MAX_SRC = 8;
export const MAX_PARAMS = 25;
/** Field offsets inside a record. */
export const F = {
  op: 0, type: 1, ne: 2, nb: 6, buffer: 10, offset: 11, flags: 12, nSrc: 13, src: 14, nParams: 22, params: 23,
} as const;
/** Record flags. */
export const RF = { noCompute: 1, output: 2, leaf: 4, inplace: 8 } as const;

export interface SerializedGraph {
  records: Float64Array;
  count: number;
  tensors: Tensor[];
  /** Record index of each tensor. */
  index: Map<Tensor, number>;
}

/**
 * place(root) gives the buffer slot (an index the backend understands) and byte offset of a storage root.
 * A tensor's record offset is its root's offset plus its view offset.
 */
export function serializeGraph(graph: Graph, place: (root: Tensor) => [number, number],
                               inplace: ReadonlySet<Tensor> = new Set()): SerializedGraph {
  const tensors = [...graph.leaves, ...graph.nodes];
  const index = new Map<Tensor, number>();
  tensors.forEach((t, i) => index.set(t, i));
  const outputs = new Set(graph.outputs);
  const rec = new Float64Array(tensors.length * REC);
  tensors.forEach((t, i) => {
    const o = i * REC;
    rec[o + F.op] = opCode(t.op);
    rec[o + F.type] = t.type;
    for (let d = 0; d < 4; d++) { rec[o + F.ne + d] = t.ne[d]; rec[o + F.nb + d] = t.nb[d]; }
    const [buf, off] = place(t.root);
    rec[o + F.buffer] = buf;
    rec[o + F.offset] = off + t.viewOffset;
    rec[o + F.flags] = (VIEW_OPS.has(t.op) ? RF.noCompute : 0) | (outputs.has(t) ? RF.output : 0) |
      (t.isLeaf ? RF.leaf : 0) | (inplace.has(t) ? RF.inplace : 0);
    if (t.src.length > MAX_SRC) throw new Error(`serializeGraph: ${t} has more than ${MAX_SRC} sources`);
    rec[o + F.nSrc] = t.src.length;
    for (let s = 0; s < MAX_SRC; s++) rec[o + F.src + s] = s < t.src.length ? index.get(t.src[s])! : -1;
    const names = OP_PARAMS[t.op as OpName] as readonly string[];
    rec[o + F.nParams] = names.length;
    names.forEach((n, p) => { rec[o + F.params + p] = t.params[n] ?? 0; });
  });
  return { records: rec, count: tensors.length, tensors, index };
}

export { OP_NAMES };
