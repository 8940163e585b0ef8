// One micro-batch as the graph builders see it, and the state writes a graph must run.
import { GgmlType, Tensor, tensor } from "@ggts/tensor";
import type { SequenceMemory } from "./memory.js";

export type DeltaNetMode = "fused" | "decomposed";

export interface GraphOptions {
  deltaNet: DeltaNetMode;
  flashAttn: boolean;
  chunkSize: number;
  /** Max attention score elements per product (queries are split beyond it). */
  attnScoreLimit: number;
}

export class UBatch {
  /** Nodes that update memory (cpy/setRows results): graph outputs so they always run. */
  readonly writes: Tensor[] = [];
  readonly nTokens: number;
  readonly nSeqs: number;
  private posT: Tensor | null = null;

  constructor(
    /** Token ids, sequence-major: sequence s owns tokens [s·nSeqTokens, (s+1)·nSeqTokens). */
    readonly tokens: Int32Array,
    readonly nSeqTokens: number,
    readonly seqs: readonly SequenceMemory[],
    /** Rows (token indices into the batch) whose logits are wanted, in output order. */
    readonly outRows: readonly number[],
    readonly opts: GraphOptions,
  ) {
    this.nSeqs = seqs.length;
    this.nTokens = tokens.length;
    if (this.nTokens !== nSeqTokens * this.nSeqs) {
      throw new Error(`ubatch: ${this.nTokens} tokens is not ${nSeqTokens} tokens × ${this.nSeqs} sequences`);
    }
  }

  /** Position of the first token of sequence s in this ubatch. */
  pos0(s: number): number { return this.seqs[s].position; }

  /** i32 positions of every token [T]. */
  positions(): Tensor {
    if (!this.posT) {
      const p = new Int32Array(this.nTokens);
      for (let s = 0; s < this.nSeqs; s++) for (let t = 0; t < this.nSeqTokens; t++) p[s * this.nSeqTokens + t] = this.pos0(s) + t;
      this.posT = tensor(GgmlType.I32, [this.nTokens], p, "inp_pos");
    }
    return this.posT;
  }
}
