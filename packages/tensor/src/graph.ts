// A computation graph: the nodes reachable from the outputs, sources before consumers (ggml_build_forward).
import { Tensor, TensorFlag } from "./tensor.js";
import { VIEW_OPS } from "./ops/spec.js";

export class Graph {
  /** Computed tensors (views included), in an order where every source precedes its consumers. */
  readonly nodes: Tensor[] = [];
  /** Leaves (op NONE) the nodes read. */
  readonly leaves: Tensor[] = [];
  readonly outputs: readonly Tensor[];

  constructor(outputs: readonly Tensor[]) {
    if (outputs.length === 0) throw new Error("Graph: no outputs given");
    this.outputs = [...outputs];
    const seen = new Set<Tensor>();
    // Iterative post-order DFS: deep graphs (hundreds of layers) must not overflow the JS stack.
    for (const out of outputs) {
      if (!(out instanceof Tensor)) throw new Error(`Graph: output ${String(out)} is not a Tensor`);
      const stack: [Tensor, number][] = [[out, 0]];
      while (stack.length) {
        const top = stack[stack.length - 1];
        const [t, i] = top;
        if (seen.has(t)) { stack.pop(); continue; }
        if (i < t.src.length) {
          top[1]++;
          const s = t.src[i];
          if (!seen.has(s)) stack.push([s, 0]);
          continue;
        }
        stack.pop();
        seen.add(t);
        (t.isLeaf ? this.leaves : this.nodes).push(t);
      }
    }
    for (const o of outputs) o.flags |= TensorFlag.Output;
  }

  /** Nodes that run a kernel (everything but pure views). */
  get computeNodes(): Tensor[] { return this.nodes.filter((n) => !VIEW_OPS.has(n.op)); }
}
