// Deterministic GGUF mutation fuzzer shared by the CI test and scripts/fuzz-long.mjs.
// Each case mutates a working copy in place and restores it afterwards, so multi-MiB inputs are never copied.

import { GgufError } from "../errors.js";
import { parseGguf } from "../file.js";

/** xorshift32-based PRNG; same seed → same cases on every platform. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 0x9e3779b9; }
  u32(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return (this.s = x);
  }
  int(n: number): number { return Math.floor((this.u32() / 0x100000000) * n); }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
}

export interface Field { pos: number; size: 4 | 8; kind: string }

/**
 * Offsets of the structural fields (counts, lengths, type ids, dims, offsets) of a well-formed GGUF header,
 * found by a minimal walker independent of the real parser. Returns fields and the header end.
 */
export function locateFields(b: Uint8Array): { fields: Field[]; headerEnd: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fields: Field[] = [];
  let p = 8;
  const u64 = (kind: string) => { fields.push({ pos: p, size: 8, kind }); const v = Number(dv.getBigUint64(p, true)); p += 8; return v; };
  const u32 = (kind: string) => { fields.push({ pos: p, size: 4, kind }); const v = dv.getUint32(p, true); p += 4; return v; };
  const str = (kind: string) => { const n = u64(kind); p += n; };
  const sizes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const value = (t: number): void => {
    if (t === 8) str("string length");
    else if (t === 9) {
      const et = u32("array type");
      const n = u64("array count");
      if (et === 8 || et === 9) for (let i = 0; i < n; i++) value(et);
      else p += n * sizes[et];
    } else p += sizes[t];
  };
  const nT = u64("tensor count");
  const nKV = u64("kv count");
  for (let i = 0; i < nKV; i++) { str("key length"); value(u32("value type")); }
  for (let i = 0; i < nT; i++) {
    str("tensor name length");
    const nd = u32("n_dims");
    for (let d = 0; d < nd; d++) u64("ne");
    u32("tensor type");
    u64("tensor offset");
  }
  return { fields, headerEnd: p };
}

const HUGE: bigint[] = [
  0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 1n << 53n, (1n << 53n) - 1n,
  1n << 32n, 0xffffffffn, 0x7fffffffn, 1n << 31n, 1n << 30n, 0n, 1n,
];

export type Outcome = "ok" | "gguf-error";

export interface FuzzStats {
  cases: number; ok: number; errors: number; byKind: Record<string, number>;
  /** Slowest single case (ms) and what it was, to catch near-hangs. */
  slowestMs: number; slowest: string;
}

/** Runs `cases` mutations of `input`; throws (with the case description) on anything but success or GgufError. */
export function fuzzInput(input: Uint8Array, cases: number, seed: number, stats?: FuzzStats): FuzzStats {
  const st = stats ?? { cases: 0, ok: 0, errors: 0, byKind: {}, slowestMs: 0, slowest: "" };
  const rng = new Rng(seed);
  const work = new Uint8Array(input); // one private copy, restored after each case
  const dv = new DataView(work.buffer);
  const { fields, headerEnd } = locateFields(work);
  // Mutations stay near the header (where the parser looks); a little past it to reach padding/data.
  const span = Math.min(work.length, headerEnd + 64);

  for (let i = 0; i < cases; i++) {
    const kind = rng.pick(["truncate", "bitflip", "huge", "swap", "small", "bytes", "typeid"] as const);
    let len = work.length;
    const saved: [number, Uint8Array][] = [];
    const save = (pos: number, n: number) => saved.push([pos, work.slice(pos, pos + n)]);
    let desc: string = kind;
    switch (kind) {
      case "truncate":
        len = rng.int(4) === 0 ? rng.int(work.length) : rng.int(span);
        desc += ` to ${len}`;
        break;
      case "bitflip": {
        const n = 1 + rng.int(8);
        for (let k = 0; k < n; k++) {
          const pos = rng.int(span);
          save(pos, 1);
          work[pos] ^= 1 << rng.int(8);
          desc += ` @${pos}`;
        }
        break;
      }
      case "huge": case "small": {
        const f = rng.pick(fields);
        save(f.pos, f.size);
        let v: bigint;
        if (kind === "huge") v = rng.int(3) === 0 ? BigInt(work.length - f.pos + rng.int(16) - 8) : rng.pick(HUGE);
        else v = BigInt(rng.int(rng.int(2) ? 4 : 300));
        if (v < 0n) v = 0n;
        if (f.size === 8) dv.setBigUint64(f.pos, v & 0xffffffffffffffffn, true);
        else dv.setUint32(f.pos, Number(v & 0xffffffffn), true);
        desc += ` ${f.kind}@${f.pos}=${v}`;
        break;
      }
      case "swap": {
        const a = rng.pick(fields), b = rng.pick(fields);
        const va = work.slice(a.pos, a.pos + a.size), vb = work.slice(b.pos, b.pos + b.size);
        save(a.pos, a.size); save(b.pos, b.size);
        work.fill(0, a.pos, a.pos + a.size); work.fill(0, b.pos, b.pos + b.size);
        work.set(vb.subarray(0, a.size), a.pos); work.set(va.subarray(0, b.size), b.pos);
        desc += ` ${a.kind}@${a.pos}<->${b.kind}@${b.pos}`;
        break;
      }
      case "bytes": {
        const pos = rng.int(span), n = 1 + rng.int(16);
        save(pos, n);
        for (let k = pos; k < Math.min(pos + n, work.length); k++) work[k] = rng.int(256);
        desc += ` @${pos}+${n}`;
        break;
      }
      case "typeid": {
        const typed = fields.filter((f) => f.kind.endsWith("type"));
        const f = rng.pick(typed);
        save(f.pos, 4);
        dv.setUint32(f.pos, rng.int(3) === 0 ? rng.u32() : rng.int(45), true);
        desc += ` ${f.kind}@${f.pos}`;
        break;
      }
    }
    const t0 = performance.now();
    try {
      const g = parseGguf(work.subarray(0, len));
      for (const t of g.tensors) {
        if (t.offset + t.nbytes > len || t.offset < g.dataOffset) throw new Error(`tensor ${t.name} outside the file`);
      }
      st.ok++;
    } catch (e) {
      if (!(e instanceof GgufError)) {
        throw new Error(`fuzz case ${i} (seed ${seed}, ${desc}) threw a non-GgufError: ${(e as Error)?.stack ?? e}`);
      }
      if (!(e.offset >= 0 && e.offset <= len)) throw new Error(`fuzz case ${i} (${desc}): error offset ${e.offset} outside the input`);
      st.errors++;
    }
    const ms = performance.now() - t0;
    if (ms > st.slowestMs) { st.slowestMs = ms; st.slowest = `case ${i} seed ${seed}: ${desc}`; }
    st.cases++;
    st.byKind[kind] = (st.byKind[kind] ?? 0) + 1;
    for (let k = saved.length - 1; k >= 0; k--) work.set(saved[k][1], saved[k][0]);
  }
  return st;
}
