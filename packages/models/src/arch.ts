// What every architecture provides to the model runtime.
import type { Tensor } from "@ggts/tensor";
import type { HParams } from "./hparams.js";
import type { LayerMemorySpec } from "./memory.js";
import type { UBatch } from "./ubatch.js";

export interface ArchGraph {
  readonly hparams: HParams;
  /** Per-layer memory each sequence needs. */
  memorySpecs(): LayerMemorySpec[];
  /**
   * Builds the forward graph of one ubatch; returns logits [n_vocab, ub.outRows.length], or null when no rows
   * are wanted (the memory writes in ub.writes and ub.earlyWrites still have to run).
   */
  build(ub: UBatch): Tensor | null;
}
