// Per-sequence hybrid memory: attention KV cache rows (written with setRows) and recurrent state (conv + delta),
// all backend-bound leaves in one buffer per sequence, so graphs read and update them in place.
import { GgmlType, Tensor, tensor, typeTraits, type Backend, type BackendBuffer } from "@ggts/tensor";

export type KvType = "f32" | "f16" | "q8_0";

export const KV_TYPES: Record<KvType, GgmlType> = { f32: GgmlType.F32, f16: GgmlType.F16, q8_0: GgmlType.Q8_0 };

/** What one layer keeps per sequence. Attention: row widths (values per token); recurrent: state shapes. */
export interface LayerMemorySpec {
  kRow?: number;
  vRow?: number;
  /** Conv state [K−1, channels, blocks] (f32). */
  conv?: [number, number, number];
  /** Delta state [S, S, H_v] (f32, key index contiguous). */
  ssm?: [number, number, number];
}

export interface LayerMemory {
  k: Tensor | null;
  v: Tensor | null;
  conv: Tensor | null;
  ssm: Tensor | null;
}

const ALIGN = 256;
const alignUp = (x: number) => Math.ceil(x / ALIGN) * ALIGN;

export interface MemorySnapshot {
  position: number;
  /** Bytes of every state tensor and the used rows of every cache tensor, in layer order. */
  parts: Uint8Array[];
}

let nextId = 0;

export class SequenceMemory {
  readonly layers: LayerMemory[];
  readonly buffer: BackendBuffer;
  /** Distinguishes memories in graph-reuse keys. */
  readonly id = nextId++;
  position = 0;
  /** Cache rows 0..finiteRows−1 hold finite values (written or zeroed): padded attention may read them. */
  private finiteRows = 0;
  private readonly recurrent: Tensor[] = [];
  private readonly caches: Tensor[] = [];

  constructor(readonly backend: Backend, specs: readonly LayerMemorySpec[], readonly nCtx: number, readonly kvType: KvType) {
    const kvT = KV_TYPES[kvType];
    const mk = (type: GgmlType, shape: number[], name: string) => tensor(type, shape, undefined, name);
    const kvTensor = (row: number, name: string) => {
      const bs = typeTraits(kvT).blockSize;
      if (row % bs !== 0) {
        throw new Error(`kv cache type ${kvType} needs rows that are a multiple of ${bs} values, ${name} has ${row}`);
      }
      return mk(kvT, [row, nCtx], name);
    };
    this.layers = specs.map((s, il) => ({
      k: s.kRow ? kvTensor(s.kRow, `cache_k_l${il}`) : null,
      v: s.vRow ? kvTensor(s.vRow, `cache_v_l${il}`) : null,
      conv: s.conv ? mk(GgmlType.F32, [...s.conv], `conv_state_l${il}`) : null,
      ssm: s.ssm ? mk(GgmlType.F32, [...s.ssm, 1], `ssm_state_l${il}`) : null,
    }));
    for (const l of this.layers) {
      for (const t of [l.k, l.v]) if (t) this.caches.push(t);
      for (const t of [l.conv, l.ssm]) if (t) this.recurrent.push(t);
    }
    const all = [...this.caches, ...this.recurrent];
    let size = 0;
    const offs = all.map((t) => { const o = size; size = alignUp(size + t.nBytes); return o; });
    this.buffer = backend.allocBuffer(Math.max(size, ALIGN));
    all.forEach((t, i) => backend.bind(t, this.buffer, offs[i]));
  }

  get bytes(): number { return this.buffer.size; }

  /**
   * Makes cache rows below n safe to read under a mask: rows never written are zeroed (fresh memory may hold
   * NaN bit patterns, and NaN·0 would leak through the masked softmax). Rows below the position are written.
   */
  async readableRows(n: number): Promise<void> {
    const from = Math.max(this.finiteRows, this.position);
    if (n <= from) return;
    for (const t of this.caches) {
      const row = t.nb[1];
      await this.backend.setTensor(t, new Uint8Array((n - from) * row), from * row);
    }
    this.finiteRows = n;
  }

  /** Zeroes the recurrent state; cache rows beyond the position are never read, so they stay as they are. */
  async clear(): Promise<void> {
    for (const t of this.recurrent) await this.backend.setTensor(t, new Uint8Array(t.nBytes));
    this.position = 0;
  }

  async save(): Promise<MemorySnapshot> {
    const parts: Uint8Array[] = [];
    for (const t of this.caches) {
      parts.push(this.position ? await this.backend.getTensor(t, 0, this.position * t.nb[1]) : new Uint8Array(0));
    }
    for (const t of this.recurrent) parts.push(await this.backend.getTensor(t));
    return { position: this.position, parts };
  }

  async restore(s: MemorySnapshot): Promise<void> {
    const all = [...this.caches, ...this.recurrent];
    if (s.parts.length !== all.length) throw new Error(`restoreState: snapshot has ${s.parts.length} parts, this model needs ${all.length}`);
    if (s.position > this.nCtx) throw new Error(`restoreState: snapshot position ${s.position} exceeds the context size ${this.nCtx}`);
    all.forEach((t, i) => {
      const want = i < this.caches.length ? s.position * t.nb[1] : t.nBytes;
      if (s.parts[i].byteLength !== want) throw new Error(`restoreState: part ${i} (${t.name}) has ${s.parts[i].byteLength} bytes, expected ${want}`);
    });
    for (let i = 0; i < all.length; i++) if (s.parts[i].byteLength) await this.backend.setTensor(all[i], s.parts[i]);
    this.position = s.position;
  }

  free(): void { this.buffer.free(); }
}
