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

/** A leaf whose data comes from the ubatch; a reused graph gets it refilled from the next ubatch. */
export interface GraphInput {
  readonly tensor: Tensor;
  readonly fill: (u: UBatch) => Int32Array | Float32Array;
}

export class UBatch {
  /** Nodes that update memory (cpy/setRows results): graph outputs so they always run, after everything else. */
  readonly writes: Tensor[] = [];
  /**
   * Memory updates whose destination no other node of the graph reads: they run as soon as their sources are
   * computed, so a large state copy reads data still in cache (not after the whole forward pass evicted it).
   */
  readonly earlyWrites: Tensor[] = [];
  /** Every leaf built from this ubatch's tokens and positions (see input()). */
  readonly inputs: GraphInput[] = [];
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
    /** Attention reads whole multiples of this many cache rows (masked past the position), so the graph's
     *  shapes stay the same for that many steps and a decode graph can be reused (1: exact lengths). */
    readonly kvPad = 1,
  ) {
    this.nSeqs = seqs.length;
    this.nTokens = tokens.length;
    if (this.nTokens !== nSeqTokens * this.nSeqs) {
      throw new Error(`ubatch: ${this.nTokens} tokens is not ${nSeqTokens} tokens × ${this.nSeqs} sequences`);
    }
  }

  /** Position of the first token of sequence s in this ubatch. */
  pos0(s: number): number { return this.seqs[s].position; }

  /** Cache rows attention reads for sequence s: its positions so far plus this ubatch's, padded to kvPad. */
  kvLen(s: number): number {
    const n = this.pos0(s) + this.nSeqTokens;
    return Math.min(this.seqs[s].nCtx, Math.ceil(n / this.kvPad) * this.kvPad);
  }

  /**
   * A leaf holding data derived from the ubatch. Builders create every token- or position-dependent leaf
   * here; fill must read the ubatch it is given (not capture this one), since a reused graph refills it.
   */
  input(type: GgmlType, shape: number[], name: string, fill: (u: UBatch) => Int32Array | Float32Array): Tensor {
    const t = tensor(type, shape, fill(this), name);
    this.inputs.push({ tensor: t, fill });
    return t;
  }

  /** Token ids [T]. */
  tokenIds(): Tensor { return this.input(GgmlType.I32, [this.nTokens], "inp_tokens", (u) => u.tokens); }

  /** i32 positions of every token [T]. */
  positions(): Tensor {
    this.posT ??= this.input(GgmlType.I32, [this.nTokens], "inp_pos", (u) => {
      const p = new Int32Array(u.nTokens);
      for (let s = 0; s < u.nSeqs; s++) for (let t = 0; t < u.nSeqTokens; t++) p[s * u.nSeqTokens + t] = u.pos0(s) + t;
      return p;
    });
    return this.posT;
  }

  /** Cache rows sequence s writes: its positions in this ubatch [nst]. */
  cacheRows(s: number): Tensor {
    return this.input(GgmlType.I32, [this.nSeqTokens], "kv_idxs",
      (u) => Int32Array.from({ length: u.nSeqTokens }, (_, i) => u.pos0(s) + i));
  }

  /** Causal mask [nKv, n] for sequence s's queries first..first+n−1 of this ubatch over cache rows 0..nKv−1. */
  causalMask(s: number, nKv: number, first: number, n: number): Tensor {
    return this.input(GgmlType.F32, [nKv, n], "kq_mask", (u) => {
      const pos = u.pos0(s) + first;
      const m = new Float32Array(nKv * n);
      for (let t = 0; t < n; t++) m.fill(-Infinity, t * nKv + Math.min(nKv, pos + t + 1), (t + 1) * nKv);
      return m;
    });
  }
}
