// Test helpers for the quant tests: fixture paths, a minimal GGUF tensor-directory reader (the tensor package
// cannot import @ggts/gguf), and a seeded random generator.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../../../../shared/fixtures/", import.meta.url));

export interface GgufTensorInfo {
  name: string;
  ne: number[];
  type: number;
  /** absolute byte offset of the tensor data in the file */
  offset: number;
}

/** Reads only the header and tensor directory of a GGUF v3 file. */
export function readGgufTensors(file: Buffer): Map<string, GgufTensorInfo> {
  let p = 0;
  const u32 = () => { const v = file.readUInt32LE(p); p += 4; return v; };
  const u64 = () => { const v = Number(file.readBigUInt64LE(p)); p += 8; return v; };
  const str = () => { const n = u64(); const s = file.toString("utf8", p, p + n); p += n; return s; };
  const SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skipValue = (t: number): number | undefined => {
    if (t === 8) { str(); return undefined; }
    if (t === 9) {
      const et = u32();
      const n = u64();
      for (let i = 0; i < n; i++) skipValue(et);
      return undefined;
    }
    const size = SIZES[t];
    if (size === undefined) throw new Error(`GGUF value type ${t} at ${p}`);
    const v = t === 4 ? file.readUInt32LE(p) : undefined;
    p += size;
    return v;
  };
  if (file.toString("latin1", 0, 4) !== "GGUF") throw new Error("not a GGUF file");
  p = 4;
  u32(); // version
  const nTensors = u64();
  const nKv = u64();
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const v = skipValue(u32());
    if (key === "general.alignment" && v !== undefined) alignment = v;
  }
  const infos: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(u64());
    const type = u32();
    infos.push({ name, ne, type, offset: u64() });
  }
  const dataStart = Math.ceil(p / alignment) * alignment;
  return new Map(infos.map((t) => [t.name, { ...t, offset: t.offset + dataStart }]));
}

export function loadGguf(name: string): { bytes: Buffer; tensors: Map<string, GgufTensorInfo> } {
  const bytes = readFileSync(FIXTURES + name);
  return { bytes, tensors: readGgufTensors(bytes) };
}

/** mulberry32: small deterministic PRNG so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Approximately normal values (sum of uniforms) scaled by `scale`. */
export function randomNormal(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r() + r() - 2) * 1.7320508 * scale;
  return out;
}

/**
 * 1024 values mixing the cases the scale searches treat specially, one 256-value quarter each: Gaussian; small
 * values around an offset with a few large outliers; a zero half followed by positive values; a constant run
 * followed by a zero run. Shared by the ggml golden test and the script that produced its goldens.
 */
export function goldenInput(): Float32Array {
  const r = rng(2024);
  const g = () => (r() + r() + r() + r() - 2) * 1.7320508;
  const x = new Float32Array(1024);
  for (let i = 0; i < 256; i++) x[i] = g();
  for (let i = 256; i < 512; i++) x[i] = r() < 0.03 ? 40 * g() : 0.02 + 0.001 * g();
  for (let i = 512; i < 768; i++) x[i] = i < 640 ? 0 : Math.abs(g()) * 1e-4;
  for (let i = 768; i < 1024; i++) x[i] = i < 896 ? -0.75 : 0;
  return x;
}
