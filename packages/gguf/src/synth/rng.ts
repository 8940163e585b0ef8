// Deterministic random numbers for synthetic models: a 32-bit counter-free generator (sfc32) seeded by
// mixing strings and integers, plus normal and uniform helpers. Same seed → same bits on every platform.

/** 32-bit FNV-1a of a string, for deriving per-tensor seeds from names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** splitmix32-style finaliser; mixes several integers into one seed. */
export function mixSeed(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = (h ^ (x >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  private spare = NaN;

  constructor(seed: number) {
    this.a = mixSeed(seed, 1); this.b = mixSeed(seed, 2); this.c = mixSeed(seed, 3); this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** sfc32 step. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Fills dst with random bytes, four per step, little-endian (so the bytes match on every platform). */
  fillBytes(dst: Uint8Array): void {
    const n4 = dst.length >>> 2;
    if (LITTLE_ENDIAN && dst.byteOffset % 4 === 0) {
      const w = new Uint32Array(dst.buffer, dst.byteOffset, n4);
      for (let i = 0; i < n4; i++) w[i] = this.u32();
    } else {
      for (let i = 0; i < n4; i++) {
        const t = this.u32();
        dst[4 * i] = t & 0xff; dst[4 * i + 1] = (t >>> 8) & 0xff; dst[4 * i + 2] = (t >>> 16) & 0xff; dst[4 * i + 3] = t >>> 24;
      }
    }
    if (dst.length & 3) {
      const t = this.u32();
      for (let i = n4 * 4, s = 0; i < dst.length; i++, s += 8) dst[i] = (t >>> s) & 0xff;
    }
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Marsaglia polar method, the second value cached). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    for (;;) {
      const u = 2 * this.next() - 1, v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      this.spare = v * f;
      return u * f;
    }
  }
}
