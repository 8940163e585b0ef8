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
  // Runs once per compute (models rebuild graphs per token): plain loops, no per-tensor closures or arrays.
  const tensors = graph.leaves.concat(graph.nodes);
  const count = tensors.length;
  const index = new Map<Tensor, number>();
  for (let i = 0; i < count; i++) index.set(tensors[i], i);
  const outputs = new Set(graph.outputs);
  const rec = new Float64Array(count * REC);
  for (let i = 0; i < count; i++) {
    const t = tensors[i];
    const o = i * REC;
    const info = opInfo(t.op);
    rec[o + F.op] = info.code;
    rec[o + F.type] = t.type;
    const ne = t.ne, nb = t.nb;
    for (let d = 0; d < 4; d++) { rec[o + F.ne + d] = ne[d]; rec[o + F.nb + d] = nb[d]; }
    const [buf, off] = place(t.root);
    rec[o + F.buffer] = buf;
    rec[o + F.offset] = off + t.viewOffset;
    rec[o + F.flags] = (info.view ? RF.noCompute : 0) | (outputs.has(t) ? RF.output : 0) |
      (t.isLeaf ? RF.leaf : 0) | (inplace.has(t) ? RF.inplace : 0);
    const src = t.src, ns = src.length;
    if (ns > MAX_SRC) throw new Error(`serializeGraph: ${t} has more than ${MAX_SRC} sources`);
    rec[o + F.nSrc] = ns;
    for (let s = 0; s < MAX_SRC; s++) rec[o + F.src + s] = s < ns ? index.get(src[s])! : -1;
    const names = info.params, params = t.params;
    rec[o + F.nParams] = names.length;
    for (let p = 0; p < names.length; p++) rec[o + F.params + p] = params[names[p]] ?? 0;
  }
  return { records: rec, count, tensors, index };
}

interface OpInfo { code: number; view: boolean; params: readonly string[] }
const OP_INFO = new Map<string, OpInfo>();
function opInfo(op: string): OpInfo {
  let info = OP_INFO.get(op);
  if (!info) {
    info = { code: opCode(op), view: VIEW_OPS.has(op as OpName), params: OP_PARAMS[op as OpName] as readonly string[] };
    OP_INFO.set(op, info);
  }
  return info;
}

export { OP_NAMES };
