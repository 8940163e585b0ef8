// Byte-level BPE: a piece's UTF-8 bytes are written as byte chars, then merged by rank.
//
// Symbols are interned: vocabulary strings keep their token id, strings that occur only inside merges
// get ids from vocabSize upwards. A merge is then a lookup of (leftId, rightId) → rank.

import { byteEncode } from "./unicode.js";

const CACHE_LIMIT = 65536;

interface HeapItem {
  rank: number;
  left: number;
  right: number;
  leftSym: number;
  rightSym: number;
}

/** Min-heap ordered by rank, then by left position (llama.cpp merges the leftmost of equal ranks first). */
class MergeQueue {
  private items: HeapItem[] = [];

  get size(): number {
    return this.items.length;
  }

  private less(a: HeapItem, b: HeapItem): boolean {
    return a.rank < b.rank || (a.rank === b.rank && a.left < b.left);
  }

  push(item: HeapItem): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  pop(): HeapItem {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class BytePairEncoder {
  private readonly symbolIds = new Map<string, number>();
  private readonly stride: number;
  private readonly pairRank = new Map<number, number>();
  private mergeResult: Int32Array;
  private readonly cache = new Map<string, number[]>();

  /**
   * @param tokens vocabulary strings (byte chars); a later duplicate wins, as in llama.cpp
   * @param merges "left right" strings in rank order; when empty, ranks follow the tiktoken rule
   *   (a pair's rank is the id of its concatenation), using only tokens for which `mergeable(id)` holds
   * @param ignoreMerges a piece that is itself a token is emitted whole (llama.cpp does this for llama3)
   */
  constructor(
    private readonly tokens: readonly string[],
    merges: readonly string[],
    mergeable: (id: number) => boolean = () => true,
    private readonly ignoreMerges = false,
  ) {
    for (let i = 0; i < tokens.length; i++) this.symbolIds.set(tokens[i]!, i);
    let nextId = tokens.length;
    const intern = (s: string): number => {
      let id = this.symbolIds.get(s);
      if (id === undefined) {
        id = nextId++;
        this.symbolIds.set(s, id);
      }
      return id;
    };

    const parsed: [number, number, number][] = [];
    if (merges.length > 0) {
      for (let r = 0; r < merges.length; r++) {
        const m = merges[r]!;
        const sp = m.indexOf(" ", 1);
        if (sp < 0) throw new Error(`tokenizer: merge ${r} "${m}" has no space separating its two parts`);
        const a = m.slice(0, sp);
        const b = m.slice(sp + 1);
        parsed.push([intern(a), intern(b), intern(a + b)]);
      }
    }
    this.stride = nextId + 1;
    this.mergeResult = new Int32Array(Math.max(merges.length, 1));

    if (merges.length > 0) {
      for (let r = 0; r < parsed.length; r++) {
        const [a, b, c] = parsed[r]!;
        const key = a * this.stride + b;
        if (!this.pairRank.has(key)) this.pairRank.set(key, r); // first occurrence wins
        this.mergeResult[r] = c;
      }
    } else {
      this.mergeResult = new Int32Array(tokens.length);
      for (let t = 0; t < tokens.length; t++) {
        if (!mergeable(t)) continue;
        const s = tokens[t]!;
        if (this.symbolIds.get(s) !== t) continue;
        this.mergeResult[t] = t;
        for (let k = 1; k < s.length; k++) {
          const a = this.symbolIds.get(s.slice(0, k));
          const b = this.symbolIds.get(s.slice(k));
          if (a === undefined || b === undefined || !mergeable(a) || !mergeable(b)) continue;
          const key = a * this.stride + b;
          const old = this.pairRank.get(key);
          if (old === undefined || t < old) this.pairRank.set(key, t);
        }
      }
    }
  }

  /** Token id of an exact vocabulary string. */
  lookup(text: string): number | undefined {
    const id = this.symbolIds.get(text);
    return id !== undefined && id < this.tokens.length ? id : undefined;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /** BPE-encode one pre-tokenized piece of plain text; appends ids to `out`. */
  encodePiece(piece: string, out: number[]): void {
    const cached = this.cache.get(piece);
    if (cached) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids = this.bpe(byteEncode(piece));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    for (const id of ids) out.push(id);
  }

  private bpe(word: string): number[] {
    const n = word.length;
    if (n === 1) return this.finish(word, this.symbolIds.get(word));
    if (this.ignoreMerges) {
      const id = this.lookup(word);
      if (id !== undefined) return [id];
    }

    const sym = new Int32Array(n);
    const start = new Int32Array(n);
    const len = new Int32Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      sym[i] = this.symbolIds.get(word[i]!) ?? -1;
      start[i] = i;
      len[i] = 1;
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }

    const queue = new MergeQueue();
    const addPair = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const a = sym[left]!;
      const b = sym[right]!;
      if (a < 0 || b < 0) return;
      const rank = this.pairRank.get(a * this.stride + b);
      if (rank !== undefined) queue.push({ rank, left, right, leftSym: a, rightSym: b });
    };
    for (let i = 0; i + 1 < n; i++) addPair(i, i + 1);

    while (queue.size > 0) {
      const it = queue.pop();
      const { left, right } = it;
      // Skip entries made stale by an earlier merge.
      if (len[left] === 0 || len[right] === 0 || next[left] !== right) continue;
      if (sym[left] !== it.leftSym || sym[right] !== it.rightSym) continue;
      sym[left] = this.mergeResult[it.rank]!;
      len[left] = len[left]! + len[right]!;
      len[right] = 0;
      next[left] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = left;
      addPair(prev[left]!, left);
      addPair(left, next[left]!);
    }

    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) {
      const id = sym[i]!;
      if (id >= 0 && id < this.tokens.length) out.push(id);
      else this.fallback(word.substr(start[i]!, len[i]!), out);
    }
    return out;
  }

  private finish(word: string, id: number | undefined): number[] {
    const out: number[] = [];
    if (id !== undefined && id < this.tokens.length) out.push(id);
    else this.fallback(word, out);
    return out;
  }

  // A final symbol that is not a token: llama.cpp looks up each of its UTF-8 bytes as a one-byte token,
  // which can only succeed for ASCII.
  private fallback(text: string, out: number[]): void {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) continue;
      const id = this.lookup(text[i]!);
      if (id !== undefined) out.push(id);
    }
  }
}
