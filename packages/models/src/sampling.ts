// Token sampling with llama.cpp's semantics and order: penalties → top-k → top-p → min-p → temperature → draw.

export interface SamplerOptions {
  /** Softmax temperature, applied after the filters (as llama.cpp does). <= 0 means greedy. Default 0.8. */
  temperature?: number;
  /** Keep the k most likely tokens; <= 0 disables. Default 40. */
  topK?: number;
  /** Keep the smallest prefix of the sorted distribution whose mass reaches p; >= 1 disables. Default 0.95. */
  topP?: number;
  /** Drop tokens whose probability is below minP × the top probability; <= 0 disables. Default 0.05. */
  minP?: number;
  /** Repetition penalty: positive logits are divided by it, negative ones multiplied. 1 disables. Default 1. */
  repeatPenalty?: number;
  /** Subtracted once from the logit of every token present in the window. Default 0. */
  presencePenalty?: number;
  /** Subtracted count times from the logit of every token in the window. Default 0. */
  frequencyPenalty?: number;
  /** Penalty window: the last N accepted tokens; 0 disables penalties, -1 uses all of them. Default 64. */
  penaltyLastN?: number;
  /** PRNG seed (uint32); the same seed and inputs give the same draws. Default: random. */
  seed?: number;
  /** Always take the argmax of the (penalised) logits, whatever the temperature. */
  greedy?: boolean;
}

/** Index of the largest value; the lowest index wins an exact tie (like std::max_element). NaN is never chosen. */
export function argmax(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error("sampling: argmax of an empty array");
  let best = -1;
  let bestV = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > bestV || (best < 0 && v === -Infinity)) {
      best = i;
      bestV = v;
    }
  }
  if (best < 0) throw new Error("sampling: all logits are NaN");
  return best;
}

/** xoshiro128** seeded through splitmix32: small, fast, and reproducible across platforms. */
export class Xoshiro128 {
  private s = new Uint32Array(4);

  constructor(seed: number) {
    this.seed(seed);
  }

  seed(seed: number): void {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** Next uint32. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The distribution a draw is made from, after all filters: ids with their probabilities. */
export interface SamplerDistribution {
  ids: Int32Array;
  probs: Float64Array;
}

export class Sampler {
  readonly options: Readonly<Required<Omit<SamplerOptions, "seed">>>;
  readonly seed: number;
  private readonly rng: Xoshiro128;
  private readonly history: number[] = [];
  private readonly counts = new Map<number, number>();

  constructor(opts: SamplerOptions = {}) {
    const o = {
      temperature: opts.temperature ?? 0.8,
      topK: opts.topK ?? 40,
      topP: opts.topP ?? 0.95,
      minP: opts.minP ?? 0.05,
      repeatPenalty: opts.repeatPenalty ?? 1,
      presencePenalty: opts.presencePenalty ?? 0,
      frequencyPenalty: opts.frequencyPenalty ?? 0,
      penaltyLastN: opts.penaltyLastN ?? 64,
      greedy: opts.greedy ?? false,
    };
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`sampling: option ${k} must be finite, got ${v}`);
    }
    if (o.repeatPenalty <= 0) throw new Error(`sampling: repeatPenalty must be > 0, got ${o.repeatPenalty}`);
    if (!Number.isInteger(o.topK)) throw new Error(`sampling: topK must be an integer, got ${o.topK}`);
    if (!Number.isInteger(o.penaltyLastN) || o.penaltyLastN < -1) {
      throw new Error(`sampling: penaltyLastN must be an integer >= -1, got ${o.penaltyLastN}`);
    }
    if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff)) {
      throw new Error(`sampling: seed must be an integer in [0, 2^32), got ${opts.seed}`);
    }
    this.options = o;
    this.seed = opts.seed ?? (Math.random() * 0x100000000) >>> 0;
    this.rng = new Xoshiro128(this.seed);
  }

  /** Forget the accepted tokens and restart the PRNG from the seed. */
  reset(): void {
    this.history.length = 0;
    this.counts.clear();
    this.rng.seed(this.seed);
  }

  /** Record a token that became part of the sequence (prompt or generated), for the penalties. */
  accept(token: number): void {
    if (!Number.isInteger(token) || token < 0) throw new Error(`sampling: accept() got invalid token ${token}`);
    const lastN = this.options.penaltyLastN;
    if (lastN === 0) return;
    this.history.push(token);
    this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
    if (lastN > 0 && this.history.length > lastN) {
      const old = this.history.shift()!;
      const c = this.counts.get(old)! - 1;
      if (c === 0) this.counts.delete(old);
      else this.counts.set(old, c);
    }
  }

  /** Choose the next token from one row of logits. */
  sample(logits: Float32Array): number {
    const l = this.penalized(logits);
    if (this.isGreedy()) return argmax(l);
    const { ids, probs } = this.filter(l);
    const u = this.rng.next();
    let cum = 0;
    for (let i = 0; i < ids.length; i++) {
      cum += probs[i]!;
      if (u < cum) return ids[i]!;
    }
    return ids[ids.length - 1]!; // rounding left u ≥ the total
  }

  /** The distribution sample() would draw from (a one-hot for greedy). Does not advance the PRNG. */
  distribution(logits: Float32Array): SamplerDistribution {
    const l = this.penalized(logits);
    if (this.isGreedy()) return { ids: Int32Array.of(argmax(l)), probs: Float64Array.of(1) };
    return this.filter(l);
  }

  private isGreedy(): boolean {
    return this.options.greedy || this.options.temperature <= 0;
  }

  private penalized(logits: Float32Array): Float32Array {
    if (logits.length === 0) throw new Error("sampling: empty logits");
    const { repeatPenalty, presencePenalty, frequencyPenalty, penaltyLastN } = this.options;
    const active = penaltyLastN !== 0 && (repeatPenalty !== 1 || presencePenalty !== 0 || frequencyPenalty !== 0);
    if (!active || this.counts.size === 0) return logits;
    const out = logits.slice();
    for (const [tok, count] of this.counts) {
      if (tok >= out.length) continue;
      let v = out[tok]!;
      v = v <= 0 ? v * repeatPenalty : v / repeatPenalty;
      v -= count * frequencyPenalty + (count > 0 ? presencePenalty : 0);
      out[tok] = v;
    }
    return out;
  }

  private filter(l: Float32Array): SamplerDistribution {
    const { topK, topP, minP, temperature } = this.options;
    const n = l.length;
    let ids: Int32Array;
    let sorted = false;
    if (topK > 0 && topK < n) {
      ids = topKIndices(l, topK);
      sorted = true;
    } else {
      ids = new Int32Array(n);
      let m = 0;
      for (let i = 0; i < n; i++) if (!Number.isNaN(l[i])) ids[m++] = i;
      ids = ids.subarray(0, m);
    }

    if (topP < 1) {
      // Probabilities are normalised over every candidate still in play (llama.cpp's softmax step).
      let max = -Infinity;
      for (let i = 0; i < ids.length; i++) max = Math.max(max, l[ids[i]!]!);
      const z = sumExpIds(l, ids, max);
      if (sorted) sortIds(l, ids);
      else ids = sortedPrefixCovering(l, ids, max, z, topP);
      let cum = 0;
      let keep = ids.length;
      for (let i = 0; i < ids.length; i++) {
        cum += Math.exp(l[ids[i]!]! - max) / z;
        if (cum >= topP) {
          keep = i + 1;
          break;
        }
      }
      ids = ids.subarray(0, keep);
    }

    if (minP > 0) {
      let max = -Infinity;
      for (let i = 0; i < ids.length; i++) max = Math.max(max, l[ids[i]!]!);
      const cut = max + Math.log(minP);
      const kept: number[] = [];
      for (let i = 0; i < ids.length; i++) if (l[ids[i]!]! >= cut) kept.push(ids[i]!);
      if (kept.length > 0) ids = Int32Array.from(kept);
    }

    // Temperature, then softmax over the survivors.
    let max = -Infinity;
    for (let i = 0; i < ids.length; i++) max = Math.max(max, l[ids[i]!]! / temperature);
    const probs = new Float64Array(ids.length);
    let z = 0;
    for (let i = 0; i < ids.length; i++) {
      const e = Math.exp(l[ids[i]!]! / temperature - max);
      probs[i] = e;
      z += e;
    }
    if (!(z > 0) || !Number.isFinite(z)) throw new Error("sampling: logits give no finite probability mass");
    for (let i = 0; i < probs.length; i++) probs[i]! /= z;
    return { ids, probs };
  }
}

function sumExpIds(l: Float32Array, ids: Int32Array, max: number): number {
  let z = 0;
  for (let i = 0; i < ids.length; i++) {
    const v = l[ids[i]!]!;
    if (v === v) z += Math.exp(v - max); // skip NaN
  }
  return z;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const ID_BITS = 2 ** 21;

/** Sort ids by descending logit, lower id first on ties. */
function sortIds(l: Float32Array, ids: Int32Array): void {
  if (ids.length < 512 || l.length > ID_BITS) {
    ids.sort((a, b) => l[b]! - l[a]! || a - b);
    return;
  }
  // Large sets: pack (order-preserving bits of the logit, id) into one exact double and let the
  // engine's numeric typed-array sort do the work, several times faster than a comparator.
  const keys = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    f32[0] = l[ids[i]!]! + 0; // folds -0 into +0
    const bits = u32[0]!;
    const ascending = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
    keys[i] = (0xffffffff - ascending) * ID_BITS + ids[i]!;
  }
  keys.sort();
  for (let i = 0; i < ids.length; i++) ids[i] = keys[i]! % ID_BITS;
}

/** The k best ids in descending order, via a size-k min-heap (O(n log k)). */
function topKIndices(l: Float32Array, k: number): Int32Array {
  const heap = new Int32Array(k);
  let size = 0;
  // "worse" = lower logit, or equal logit and higher id.
  const worse = (a: number, b: number) => l[a]! < l[b]! || (l[a]! === l[b]! && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const c1 = 2 * i + 1;
      const c2 = c1 + 1;
      let m = i;
      if (c1 < size && worse(heap[c1]!, heap[m]!)) m = c1;
      if (c2 < size && worse(heap[c2]!, heap[m]!)) m = c2;
      if (m === i) return;
      const t = heap[i]!;
      heap[i] = heap[m]!;
      heap[m] = t;
      i = m;
    }
  };
  for (let id = 0; id < l.length; id++) {
    if (Number.isNaN(l[id])) continue;
    if (size < k) {
      heap[size] = id;
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i]!, heap[p]!)) break;
        const t = heap[i]!;
        heap[i] = heap[p]!;
        heap[p] = t;
        i = p;
      }
    } else if (worse(heap[0]!, id)) {
      heap[0] = id;
      siftDown(0);
    }
  }
  const out = heap.slice(0, size);
  sortIds(l, out);
  return out;
}

/**
 * Sorted prefix of all ids that certainly contains the top-p cut: only candidates above a threshold are
 * sorted, the threshold being lowered until their mass reaches p (avoids sorting a 160k vocabulary).
 */
function sortedPrefixCovering(l: Float32Array, all: Int32Array, max: number, z: number, p: number): Int32Array {
  for (const drop of [8, 16, 32, 64]) {
    const t = max - drop;
    const picked: number[] = [];
    let mass = 0;
    for (let i = 0; i < all.length; i++) {
      const v = l[all[i]!]!;
      if (v >= t) {
        picked.push(all[i]!);
        mass += Math.exp(v - max);
      }
    }
    if (mass >= p * z * (1 + 1e-12)) {
      const ids = Int32Array.from(picked);
      sortIds(l, ids);
      return ids;
    }
  }
  const ids = all.slice();
  sortIds(l, ids);
  return ids;
}
