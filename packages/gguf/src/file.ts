// GgufFile: parsed header plus lazy access to tensor data (from a file handle or from memory).

import type { FileHandle } from "node:fs/promises";
import { GgufError } from "./errors.js";
import { GgufHeader, GgufTensorInfo, NeedMoreBytes, parseHeader } from "./parse.js";
import {
  GgufArray, GgufKV, GgufValueType, describeKVType, isIntegerType, isNumericType,
} from "./value-types.js";

/** Where tensor bytes come from. */
export interface ByteSource {
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Largest single read; bigger ranges are assembled from several reads. */
const READ_CHUNK = 1 << 30;

class MemorySource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.subarray(offset, offset + length);
  }
  async close(): Promise<void> {}
}

class FileSource implements ByteSource {
  constructor(private fh: FileHandle | null, private readonly path: string) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!this.fh) throw new Error(`GGUF ${this.path}: read after close()`);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = Math.min(READ_CHUNK, length - done);
      const { bytesRead } = await this.fh.read(out, done, n, offset + done);
      if (bytesRead === 0) throw new GgufError(`file shrank: read of ${length} bytes hit end of file`, offset + done, this.path);
      done += bytesRead;
    }
    return out;
  }
  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
  }
}

export type DefaultArg<T> = T | undefined;

export class GgufFile {
  path?: string;
  version: number;
  alignment: number;
  /** Absolute file offset of the data section (tensor relOffsets count from here). */
  dataOffset: number;
  fileSize: number;
  /** Bytes of header before the padding to dataOffset. */
  headerSize: number;
  metadata: Map<string, GgufKV>;
  tensors: GgufTensorInfo[];
  private readonly byName: Map<string, GgufTensorInfo>;

  constructor(header: GgufHeader, private readonly source: ByteSource, path?: string) {
    this.path = path;
    this.version = header.version;
    this.alignment = header.alignment;
    this.dataOffset = header.dataOffset;
    this.fileSize = header.fileSize;
    this.headerSize = header.headerSize;
    this.metadata = header.metadata;
    this.tensors = header.tensors;
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  private where(): string {
    return this.path ? ` in ${this.path}` : "";
  }

  has(key: string): boolean {
    return this.metadata.has(key);
  }

  get(key: string): unknown | undefined {
    return this.metadata.get(key)?.value;
  }

  /** The KV for `key`, or an error naming the key when missing. */
  kv(key: string): GgufKV {
    const kv = this.metadata.get(key);
    if (!kv) throw new Error(`GGUF metadata key "${key}" not found${this.where()}`);
    return kv;
  }

  private typeError(kv: GgufKV, expected: string): Error {
    return new Error(`GGUF metadata key "${kv.key}" has type ${describeKVType(kv)}, expected ${expected}`);
  }

  private lookup<T>(key: string, dflt: T | undefined, hasDefault: boolean): GgufKV | { dflt: T } {
    const kv = this.metadata.get(key);
    if (kv) return kv;
    if (hasDefault) return { dflt: dflt as T };
    throw new Error(`GGUF metadata key "${key}" not found${this.where()}`);
  }

  getString(key: string, ...dflt: [string?]): string {
    const r = this.lookup(key, dflt[0], dflt.length > 0);
    if ("dflt" in r) return r.dflt;
    if (r.type !== GgufValueType.STRING) throw this.typeError(r, "STRING");
    return r.value as string;
  }

  /** Any numeric scalar (64-bit integers converted when they fit exactly in a number). */
  getNumber(key: string, ...dflt: [number?]): number {
    const r = this.lookup(key, dflt[0], dflt.length > 0);
    if ("dflt" in r) return r.dflt;
    if (r.type === GgufValueType.ARRAY || !isNumericType(r.type)) throw this.typeError(r, "a number");
    return toSafeNumber(r.value, r.key);
  }

  /** An integer scalar of any integer type whose value fits in 0..2^32-1. */
  getU32(key: string, ...dflt: [number?]): number {
    const r = this.lookup(key, dflt[0], dflt.length > 0);
    if ("dflt" in r) return r.dflt;
    if (r.type === GgufValueType.ARRAY || !isIntegerType(r.type)) throw this.typeError(r, "an unsigned 32-bit integer");
    const v = toSafeNumber(r.value, r.key);
    if (v < 0 || v > 0xffffffff) throw new Error(`GGUF metadata key "${key}" value ${v} does not fit in UINT32`);
    return v;
  }

  getBool(key: string, ...dflt: [boolean?]): boolean {
    const r = this.lookup(key, dflt[0], dflt.length > 0);
    if ("dflt" in r) return r.dflt;
    if (r.type !== GgufValueType.BOOL) throw this.typeError(r, "BOOL");
    return r.value as boolean;
  }

  /** The raw array value (typed array, boolean[], string[] or GgufArray[]). */
  getArray(key: string, ...dflt: [unknown?]): ArrayLike<unknown> {
    const r = this.lookup(key, dflt[0], dflt.length > 0);
    if ("dflt" in r) return r.dflt as ArrayLike<unknown>;
    if (r.type !== GgufValueType.ARRAY) throw this.typeError(r, "ARRAY");
    return r.value as ArrayLike<unknown>;
  }

  getStringArray(key: string, ...dflt: [string[]?]): string[] {
    const r = this.lookup(key, dflt[0], dflt.length > 0);
    if ("dflt" in r) return r.dflt as string[];
    if (r.type !== GgufValueType.ARRAY || r.arrayType !== GgufValueType.STRING) throw this.typeError(r, "ARRAY of STRING");
    return r.value as string[];
  }

  /** A numeric array as number[] (64-bit elements converted when safe). */
  getNumberArray(key: string, ...dflt: [number[]?]): number[] {
    const r = this.lookup(key, dflt[0], dflt.length > 0);
    if ("dflt" in r) return r.dflt as number[];
    if (r.type !== GgufValueType.ARRAY || r.arrayType === undefined || !isNumericType(r.arrayType)) {
      throw this.typeError(r, "ARRAY of numbers");
    }
    const v = r.value as ArrayLike<number | bigint>;
    return Array.from(v, (x) => toSafeNumber(x, r.key));
  }

  get architecture(): string {
    return this.getString("general.architecture");
  }

  hasTensor(name: string): boolean {
    return this.byName.has(name);
  }

  tensor(name: string): GgufTensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new Error(`GGUF tensor "${name}" not found${this.where()}`);
    return t;
  }

  /** Reads a tensor's bytes (a view into memory for parseGguf, a fresh buffer for openGguf). */
  async readTensorData(t: string | GgufTensorInfo): Promise<Uint8Array> {
    const info = typeof t === "string" ? this.tensor(t) : t;
    return this.source.read(info.offset, info.nbytes);
  }

  /** Reads any byte range of the file (e.g. part of a tensor, for chunked uploads). */
  async readRange(offset: number, length: number): Promise<Uint8Array> {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.fileSize)) {
      throw new Error(`GGUF read [${offset}, ${offset + length}) outside the file (${this.fileSize} bytes)${this.where()}`);
    }
    return this.source.read(offset, length);
  }

  /** Streams a tensor's bytes in chunks of at most chunkBytes (default 64 MiB). */
  async *streamTensorData(t: string | GgufTensorInfo, chunkBytes = 64 << 20): AsyncGenerator<Uint8Array> {
    const info = typeof t === "string" ? this.tensor(t) : t;
    for (let done = 0; done < info.nbytes; done += chunkBytes) {
      yield await this.source.read(info.offset + done, Math.min(chunkBytes, info.nbytes - done));
    }
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}

function toSafeNumber(v: unknown, key: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new Error(`GGUF metadata key "${key}" value ${v} is not exactly representable as a number`);
    }
    return Number(v);
  }
  throw new Error(`GGUF metadata key "${key}" holds a non-numeric value`);
}

/** Parses a GGUF held in memory; tensor data is served as views into `bytes`. */
export function parseGguf(bytes: Uint8Array): GgufFile {
  // A plain Uint8Array view, so tensor data never comes back as a Node Buffer.
  if (Object.getPrototypeOf(bytes) !== Uint8Array.prototype) bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new GgufFile(parseHeader(bytes, bytes.length, true), new MemorySource(bytes));
}

const FIRST_READ = 1 << 20;

/** Opens a GGUF file, reading only its header region; tensor data is read on demand. */
export async function openGguf(path: string): Promise<GgufFile> {
  // Loaded on demand so that parseGguf (and the package) also works where node:fs does not exist.
  const { open } = await import("node:fs/promises");
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    let want = Math.min(size, FIRST_READ);
    for (;;) {
      const buf = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      try {
        const header = parseHeader(buf.subarray(0, got), size, got >= size);
        return new GgufFile(header, new FileSource(fh, path), path);
      } catch (e) {
        if (e instanceof NeedMoreBytes && got === want) {
          want = Math.min(size, Math.max(e.end, want * 2));
          continue;
        }
        if (e instanceof NeedMoreBytes) throw new GgufError("file shrank while reading its header", got, path);
        throw e;
      }
    }
  } catch (e) {
    await fh.close();
    if (e instanceof GgufError && !e.path) throw e.withPath(path);
    throw e;
  }
}

export type { GgufArray };
