// Tensor values for synthetic models, produced in fixed-size chunks of whole rows. Each chunk has its own
// seed (model seed, tensor name, chunk index), so the bytes do not depend on chunking into threads.

import { GgmlType, quantizeRow, rowSize } from "@ggts/tensor";
import { FAST_QUANT_TYPES, makeFastBlocks } from "./fast-quant.js";
import { Rng, hashString, mixSeed } from "./rng.js";
import type { Init } from "./model-spec.js";

/** Elements per generation chunk (rounded down to whole rows, at least one row). */
export const CHUNK_ELEMENTS = 1 << 20;

export interface ChunkJob {
  name: string;
  init: Init;
  ne0: number;
  /** Rows in this chunk. */
  rows: number;
  chunkIndex: number;
  seed: number;
  type: GgmlType;
  /** Write random blocks directly (see fast-quant.ts) when the type and init allow it. */
  fast?: boolean;
}

/** Whether a chunk of this init and type can take the fast path. */
export function fastEligible(init: Init, type: GgmlType): boolean {
  return init.kind === "normal" && FAST_QUANT_TYPES.has(type);
}

export function rowsPerChunk(ne0: number): number {
  return Math.max(1, Math.floor(CHUNK_ELEMENTS / ne0));
}

function fill(x: Float32Array, init: Init, rng: Rng): void {
  switch (init.kind) {
    case "normal":
      for (let i = 0; i < x.length; i++) x[i] = init.std * rng.normal();
      return;
    case "norm":
      for (let i = 0; i < x.length; i++) x[i] = 1 + 0.1 * rng.normal();
      return;
    case "neg-log-uniform": {
      const a = Math.log(init.lo), b = Math.log(init.hi);
      for (let i = 0; i < x.length; i++) x[i] = -Math.exp(rng.uniform(a, b));
      return;
    }
    case "dt-bias": {
      const a = Math.log(init.lo), b = Math.log(init.hi);
      for (let i = 0; i < x.length; i++) {
        const dt = Math.exp(rng.uniform(a, b));
        x[i] = dt + Math.log(-Math.expm1(-dt)); // softplus⁻¹(dt)
      }
      return;
    }
  }
}

/** The f32 values of one chunk. */
export function chunkValues(job: Omit<ChunkJob, "type">): Float32Array {
  const x = new Float32Array(job.rows * job.ne0);
  fill(x, job.init, new Rng(mixSeed(job.seed, hashString(job.name), job.chunkIndex)));
  return x;
}

/** One chunk generated and encoded as job.type. */
export function makeChunk(job: ChunkJob): Uint8Array {
  if (job.fast && job.init.kind === "normal" && fastEligible(job.init, job.type)) {
    const out = new Uint8Array(job.rows * rowSize(job.type, job.ne0));
    // Own seed stream (tag 0x6661), so the fast bytes never alias the f32 path's values.
    makeFastBlocks(job.type, out, job.init.std, new Rng(mixSeed(job.seed, hashString(job.name), job.chunkIndex, 0x6661)));
    return out;
  }
  const x = chunkValues(job);
  const out = new Uint8Array(job.rows * rowSize(job.type, job.ne0));
  quantizeRow(job.type, x, out);
  return out;
}
