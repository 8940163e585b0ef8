// GGUF writer: header first (all KVs and tensor infos known up front), then tensor data streamed
// tensor by tensor, so multi-GiB files never sit in memory.

import { GgmlType, typeTraits } from "@ggts/tensor";
import { ByteBuilder, writeKV } from "./encode.js";
import { DEFAULT_ALIGNMENT, GGUF_MAGIC, MAX_DIMS, GgufTensorInfo } from "./parse.js";
import { GgufKV, GgufValueType } from "./value-types.js";

/** Tensor bytes: a buffer, or chunks (sync or async) whose lengths add up to the tensor's nbytes. */
export type TensorData = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
/** Data given up front or produced on demand when the writer reaches the tensor. */
export type TensorDataSource = TensorData | (() => TensorData | Promise<TensorData>);

/** ggml's GGML_MAX_NAME: llama.cpp rejects tensor names of 64 bytes or more. */
export const MAX_TENSOR_NAME_BYTES = 63;

export interface GgufWriterOptions {
  /** Data alignment (power of two, default 32). Non-default values are stored as general.alignment. */
  alignment?: number;
  version?: 2 | 3;
}

export interface WriteProgress {
  tensorIndex: number;
  tensorCount: number;
  name: string;
  bytesWritten: number;
  totalBytes: number;
}

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

export class GgufWriter {
  readonly version: 2 | 3;
  private readonly kvs = new Map<string, GgufKV>();
  private readonly infos: GgufTensorInfo[] = [];
  private readonly data = new Map<string, TensorDataSource>();
  private dataSize = 0;
  private alignmentOpt: number | undefined;

  constructor(opts: GgufWriterOptions = {}) {
    this.version = opts.version ?? 3;
    if (this.version !== 2 && this.version !== 3) throw new Error(`GGUF writer: unsupported version ${this.version}`);
    if (opts.alignment !== undefined && opts.alignment !== DEFAULT_ALIGNMENT) {
      this.setKV("general.alignment", GgufValueType.UINT32, opts.alignment);
    }
    this.alignmentOpt = opts.alignment;
  }

  get alignment(): number {
    const kv = this.kvs.get("general.alignment");
    return kv ? (kv.value as number) : (this.alignmentOpt ?? DEFAULT_ALIGNMENT);
  }

  /** Adds or replaces a KV (insertion order is kept, as in the file). */
  setKV(key: string, type: GgufValueType, value: unknown, arrayType?: GgufValueType): this {
    if (key === "general.alignment") {
      if (type !== GgufValueType.UINT32 || typeof value !== "number" || value <= 0 || (value & (value - 1)) !== 0) {
        throw new Error(`GGUF writer: general.alignment must be a UINT32 power of two, got ${String(value)}`);
      }
      if (this.infos.length > 0 && value !== this.alignment) throw new Error("GGUF writer: set general.alignment before adding tensors");
    }
    const kv: GgufKV = { key, type, value };
    if (type === GgufValueType.ARRAY) kv.arrayType = arrayType;
    // Validates now, so a bad value fails at the call that set it rather than at write time.
    writeKV(new ByteBuilder(), kv);
    this.kvs.set(key, kv);
    return this;
  }

  addKV(kv: GgufKV): this {
    return this.setKV(kv.key, kv.type, kv.value, kv.arrayType);
  }

  setString(key: string, v: string) { return this.setKV(key, GgufValueType.STRING, v); }
  setU32(key: string, v: number) { return this.setKV(key, GgufValueType.UINT32, v); }
  setI32(key: string, v: number) { return this.setKV(key, GgufValueType.INT32, v); }
  setF32(key: string, v: number) { return this.setKV(key, GgufValueType.FLOAT32, v); }
  setBool(key: string, v: boolean) { return this.setKV(key, GgufValueType.BOOL, v); }
  setArray(key: string, arrayType: GgufValueType, v: ArrayLike<unknown>) { return this.setKV(key, GgufValueType.ARRAY, v, arrayType); }

  get metadata(): ReadonlyMap<string, GgufKV> {
    return this.kvs;
  }

  /** Declares a tensor; its data comes now, or later via `data` callbacks or writeFile's provider. */
  addTensor(name: string, type: GgmlType, ne: readonly number[], data?: TensorDataSource): GgufTensorInfo {
    const nameBytes = new TextEncoder().encode(name).length;
    if (nameBytes > MAX_TENSOR_NAME_BYTES) throw new Error(`GGUF writer: tensor name "${name}" is ${nameBytes} bytes (max ${MAX_TENSOR_NAME_BYTES})`);
    if (this.infos.some((t) => t.name === name)) throw new Error(`GGUF writer: duplicate tensor "${name}"`);
    if (ne.length < 1 || ne.length > MAX_DIMS) throw new Error(`GGUF writer: tensor "${name}" has ${ne.length} dims (1..${MAX_DIMS})`);
    let nElements = 1;
    for (const n of ne) {
      if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`GGUF writer: tensor "${name}" has invalid dimension ${n} in [${ne}]`);
      nElements *= n;
    }
    if (!Number.isSafeInteger(nElements)) throw new Error(`GGUF writer: tensor "${name}" element count overflows`);
    const tr = typeTraits(type);
    if (ne[0] % tr.blockSize !== 0) {
      throw new Error(`GGUF writer: tensor "${name}" ne0 ${ne[0]} is not a multiple of the ${tr.name} block size ${tr.blockSize}`);
    }
    const nbytes = (nElements / tr.blockSize) * tr.typeSize;
    const relOffset = this.dataSize;
    this.dataSize = alignUp(relOffset + nbytes, this.alignment);
    const info: GgufTensorInfo = { name, type, ne: [...ne], offset: -1, relOffset, nbytes, nElements };
    this.infos.push(info);
    if (data !== undefined) this.data.set(name, data);
    return info;
  }

  /** Encoded header (magic .. tensor infos), without the padding that precedes the data. */
  headerBytes(): Uint8Array {
    const b = new ByteBuilder();
    b.u32(GGUF_MAGIC);
    b.u32(this.version);
    b.u64(this.infos.length);
    b.u64(this.kvs.size);
    for (const kv of this.kvs.values()) writeKV(b, kv);
    for (const t of this.infos) {
      b.string(t.name);
      b.u32(t.ne.length);
      for (const n of t.ne) b.u64(n);
      b.u32(t.type);
      b.u64(t.relOffset);
    }
    return b.result();
  }

  /** Tensor infos with absolute offsets, as a reader will report them. */
  tensorInfos(): GgufTensorInfo[] {
    const dataOffset = alignUp(this.headerBytes().length, this.alignment);
    return this.infos.map((t) => ({ ...t, ne: [...t.ne], offset: dataOffset + t.relOffset }));
  }

  /** Total file size: aligned header plus every tensor padded to the alignment. */
  fileSize(): number {
    return alignUp(this.headerBytes().length, this.alignment) + this.dataSize;
  }

  /**
   * The whole file as a sequence of chunks. `provider` supplies data for tensors added without data.
   * Each tensor's chunks must add up to exactly its nbytes.
   */
  async *chunks(provider?: (info: GgufTensorInfo, index: number) => TensorData | Promise<TensorData>,
    onProgress?: (p: WriteProgress) => void): AsyncGenerator<Uint8Array> {
    const header = this.headerBytes();
    const align = this.alignment;
    const dataOffset = alignUp(header.length, align);
    const total = dataOffset + this.dataSize;
    yield header;
    if (dataOffset > header.length) yield new Uint8Array(dataOffset - header.length);
    let written = dataOffset;
    for (const [i, info] of this.infos.entries()) {
      let src: TensorDataSource | undefined = this.data.get(info.name);
      if (src === undefined) {
        if (!provider) throw new Error(`GGUF writer: no data for tensor "${info.name}"`);
        src = await provider(info, i);
      } else if (typeof src === "function") {
        src = await src();
      }
      let got = 0;
      const check = (c: Uint8Array) => {
        got += c.length;
        if (got > info.nbytes) throw new Error(`GGUF writer: tensor "${info.name}" got more than its ${info.nbytes} bytes`);
      };
      if (src instanceof Uint8Array) {
        check(src);
        yield src;
      } else if (Symbol.asyncIterator in src) {
        for await (const c of src as AsyncIterable<Uint8Array>) { check(c); yield c; }
      } else {
        for (const c of src as Iterable<Uint8Array>) { check(c); yield c; }
      }
      if (got !== info.nbytes) throw new Error(`GGUF writer: tensor "${info.name}" got ${got} bytes, expected ${info.nbytes}`);
      const pad = alignUp(info.nbytes, align) - info.nbytes;
      if (pad > 0) yield new Uint8Array(pad);
      written += info.nbytes + pad;
      onProgress?.({ tensorIndex: i, tensorCount: this.infos.length, name: info.name, bytesWritten: written, totalBytes: total });
    }
  }

  /** Writes the file, streaming tensor data; returns the number of bytes written. */
  async writeFile(path: string, provider?: (info: GgufTensorInfo, index: number) => TensorData | Promise<TensorData>,
    onProgress?: (p: WriteProgress) => void): Promise<number> {
    const { open } = await import("node:fs/promises"); // on demand: toBytes() works without node:fs
    const fh = await open(path, "w");
    let pos = 0;
    try {
      for await (const c of this.chunks(provider, onProgress)) {
        let done = 0;
        while (done < c.length) {
          const { bytesWritten } = await fh.write(c, done, c.length - done, pos + done);
          done += bytesWritten;
        }
        pos += c.length;
      }
    } finally {
      await fh.close();
    }
    return pos;
  }

  /** Builds the whole file in memory (small files and tests). */
  async toBytes(provider?: (info: GgufTensorInfo, index: number) => TensorData | Promise<TensorData>): Promise<Uint8Array> {
    const out = new Uint8Array(this.fileSize());
    let pos = 0;
    for await (const c of this.chunks(provider)) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  }
}
