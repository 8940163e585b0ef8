// Synchronous GGUF header parser over a byte prefix of a file. Every length and count is checked against
// the real file size before anything is allocated, so a hostile header cannot crash, hang or exhaust memory.

import { GgmlType, typeTraits } from "@ggts/tensor";
import { GgufError } from "./errors.js";
import { GgufArray, GgufKV, GgufValueType, scalarSize, valueTypeName, isValueType } from "./value-types.js";

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const DEFAULT_ALIGNMENT = 32;
export const MAX_DIMS = 4;
/** Parsing refuses headers (metadata + tensor infos) larger than this. Real headers are a few MiB. */
export const MAX_HEADER_BYTES = 1 << 30;
/** Limit on JS values (strings, booleans, nested arrays) created for one header; real vocabs hold < 1M. */
export const MAX_HEADER_VALUES = 1 << 24;
/** Longest metadata string accepted; real ones (chat templates) are well under 1 MiB. */
export const MAX_STRING_BYTES = 16 << 20;
/** Nesting limit for arrays of arrays (keeps recursion bounded). */
export const MAX_ARRAY_DEPTH = 8;

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** 1..4 dims, ggml order (ne0 contiguous). */
  ne: number[];
  /** Absolute file offset of the tensor data. */
  offset: number;
  /** Offset relative to the start of the data section, as stored in the file. */
  relOffset: number;
  nbytes: number;
  nElements: number;
}

export interface GgufHeader {
  version: number;
  alignment: number;
  dataOffset: number;
  fileSize: number;
  /** Bytes of header (magic through tensor infos), before padding to the data section. */
  headerSize: number;
  metadata: Map<string, GgufKV>;
  tensors: GgufTensorInfo[];
}

/** Thrown (internally) when the parser needs more of the file than it was given. */
export class NeedMoreBytes {
  constructor(readonly end: number) {}
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder("utf-8");

class Cursor {
  pos = 0;
  /** JS values still allowed (see MAX_HEADER_VALUES). */
  valueBudget = MAX_HEADER_VALUES;
  private readonly dv: DataView;

  constructor(readonly bytes: Uint8Array, readonly fileSize: number, readonly complete: boolean) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(reason: string, at = this.pos): never {
    throw new GgufError(reason, at);
  }

  /** Makes sure n bytes at pos are available; `what` names the field for the truncation message. */
  need(n: number, what: string, suffix = ""): void {
    const end = this.pos + n;
    if (end <= this.bytes.length && end <= this.fileSize) return;
    what += suffix; // labels are only assembled on the failure path
    if (end > this.fileSize) {
      this.fail(`truncated file: ${what} needs ${n} bytes but only ${this.fileSize - this.pos} remain`);
    }
    if (end > this.bytes.length) {
      if (this.complete) this.fail(`truncated data: ${what} needs ${n} bytes but only ${this.bytes.length - this.pos} remain`);
      if (end > MAX_HEADER_BYTES) this.fail(`header region exceeds the ${MAX_HEADER_BYTES}-byte limit while reading ${what}`);
      throw new NeedMoreBytes(end);
    }
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  u8(what: string): number { this.need(1, what); return this.dv.getUint8(this.pos++); }
  u32(what: string): number { this.need(4, what); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }

  /** u64 that must fit in a JS number (sizes, counts, offsets). */
  u64n(what: string, suffix = ""): number {
    this.need(8, what, suffix);
    const lo = this.dv.getUint32(this.pos, true), hi = this.dv.getUint32(this.pos + 4, true);
    if (hi > 0x1fffff) this.fail(`${what}${suffix} ${this.dv.getBigUint64(this.pos, true)} is too large`);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  /** A count of items each taking at least `minItemBytes`; rejects counts the rest of the file cannot hold. */
  count(what: string, minItemBytes: number): number {
    const at = this.pos;
    const n = this.u64n(what);
    if (n * minItemBytes > this.remaining()) {
      this.fail(`${what} ${n} cannot fit in the ${this.remaining()} bytes left in the file`, at);
    }
    return n;
  }

  string(what: string): string {
    const at = this.pos;
    const len = this.u64n(what, " length");
    if (len > this.remaining()) this.fail(`${what} length ${len} exceeds the ${this.remaining()} bytes left in the file`, at);
    if (len > MAX_STRING_BYTES) this.fail(`${what} length ${len} exceeds the ${MAX_STRING_BYTES}-byte string limit`, at);
    this.need(len, what);
    const s = decodeString(this.bytes, this.pos, len);
    this.pos += len;
    return s;
  }

  scalar(t: GgufValueType, what: string): unknown {
    const size = scalarSize(t);
    this.need(size, what);
    const p = this.pos;
    this.pos += size;
    const dv = this.dv;
    switch (t) {
      case GgufValueType.UINT8: return dv.getUint8(p);
      case GgufValueType.INT8: return dv.getInt8(p);
      case GgufValueType.UINT16: return dv.getUint16(p, true);
      case GgufValueType.INT16: return dv.getInt16(p, true);
      case GgufValueType.UINT32: return dv.getUint32(p, true);
      case GgufValueType.INT32: return dv.getInt32(p, true);
      case GgufValueType.FLOAT32: return dv.getFloat32(p, true);
      case GgufValueType.BOOL: return dv.getUint8(p) !== 0;
      case GgufValueType.UINT64: return dv.getBigUint64(p, true);
      case GgufValueType.INT64: return dv.getBigInt64(p, true);
      case GgufValueType.FLOAT64: return dv.getFloat64(p, true);
    }
    return this.fail(`internal: not a scalar type ${t}`);
  }

  /** Copies n little-endian elements of `size` bytes into a fresh, aligned buffer. */
  typed(n: number, size: number, what: string): ArrayBuffer {
    const nb = n * size;
    this.need(nb, what);
    const copy = this.bytes.slice(this.pos, this.pos + nb);
    if (!LITTLE_ENDIAN_HOST && size > 1) swapInPlace(copy, size);
    this.pos += nb;
    return copy.buffer;
  }
}

function swapInPlace(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

function decodeString(b: Uint8Array, pos: number, len: number): string {
  // Short ASCII strings (most vocab entries) are faster to build by hand than through TextDecoder.
  if (len <= 32) {
    let s = "";
    for (let i = 0; i < len; i++) {
      const c = b[pos + i];
      if (c >= 0x80) return utf8.decode(b.subarray(pos, pos + len));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(b.subarray(pos, pos + len));
}

/** Smallest encoding of one array element, used to reject impossible counts before allocating. */
function minElementBytes(t: GgufValueType): number {
  if (t === GgufValueType.STRING) return 8;
  if (t === GgufValueType.ARRAY) return 12;
  return scalarSize(t);
}

function readValueType(c: Cursor, what: string): GgufValueType {
  const at = c.pos;
  const t = c.u32(what);
  if (!isValueType(t)) c.fail(`${what} ${t} is not a valid GGUF value type`, at);
  return t;
}

function readArray(c: Cursor, key: string, depth: number): GgufArray {
  if (depth > MAX_ARRAY_DEPTH) c.fail(`key "${key}": arrays nested deeper than ${MAX_ARRAY_DEPTH}`);
  const arrayType = readValueType(c, `key "${key}" array element type`);
  const n = c.count(`key "${key}" array length`, minElementBytes(arrayType));
  if (arrayType === GgufValueType.BOOL || arrayType === GgufValueType.STRING || arrayType === GgufValueType.ARRAY) {
    c.valueBudget -= n;
    if (c.valueBudget < 0) c.fail(`key "${key}": array of ${n} elements exceeds the limit of ${MAX_HEADER_VALUES} values per header`);
  }
  const what = `key "${key}" array data`;
  switch (arrayType) {
    case GgufValueType.UINT8: return { arrayType, value: new Uint8Array(c.typed(n, 1, what)) };
    case GgufValueType.INT8: return { arrayType, value: new Int8Array(c.typed(n, 1, what)) };
    case GgufValueType.UINT16: return { arrayType, value: new Uint16Array(c.typed(n, 2, what)) };
    case GgufValueType.INT16: return { arrayType, value: new Int16Array(c.typed(n, 2, what)) };
    case GgufValueType.UINT32: return { arrayType, value: new Uint32Array(c.typed(n, 4, what)) };
    case GgufValueType.INT32: return { arrayType, value: new Int32Array(c.typed(n, 4, what)) };
    case GgufValueType.FLOAT32: return { arrayType, value: new Float32Array(c.typed(n, 4, what)) };
    case GgufValueType.UINT64: return { arrayType, value: new BigUint64Array(c.typed(n, 8, what)) };
    case GgufValueType.INT64: return { arrayType, value: new BigInt64Array(c.typed(n, 8, what)) };
    case GgufValueType.FLOAT64: return { arrayType, value: new Float64Array(c.typed(n, 8, what)) };
    case GgufValueType.BOOL: {
      const raw = new Uint8Array(c.typed(n, 1, what));
      return { arrayType, value: Array.from(raw, (x) => x !== 0) };
    }
    case GgufValueType.STRING: {
      const out: string[] = new Array(n);
      const label = `key "${key}" string element`;
      for (let i = 0; i < n; i++) out[i] = c.string(label);
      return { arrayType, value: out };
    }
    case GgufValueType.ARRAY: {
      const out: GgufArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readArray(c, key, depth + 1);
      return { arrayType, value: out };
    }
  }
}

function readKV(c: Cursor, index: number): GgufKV {
  const key = c.string(`metadata key ${index}`);
  const type = readValueType(c, `key "${key}" value type`);
  if (type === GgufValueType.ARRAY) {
    const arr = readArray(c, key, 1);
    return { key, type, value: arr.value, arrayType: arr.arrayType };
  }
  if (type === GgufValueType.STRING) return { key, type, value: c.string(`key "${key}" value`) };
  return { key, type, value: c.scalar(type, `key "${key}" value`) };
}

function traitsOrFail(c: Cursor, typeId: number, name: string, at: number): { blockSize: number; typeSize: number } {
  try {
    return typeTraits(typeId);
  } catch (e) {
    return c.fail(`tensor "${name}": ${(e as Error).message}`, at);
  }
}

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * Parses the header from `bytes`, the first bytes.length bytes of a file of `fileSize` bytes.
 * Throws NeedMoreBytes when `complete` is false and the header extends past `bytes`.
 */
export function parseHeader(bytes: Uint8Array, fileSize: number, complete: boolean): GgufHeader {
  const c = new Cursor(bytes, fileSize, complete);
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const shown = Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, "0")).join(" ");
    c.fail(`bad magic (bytes ${shown}, expected "GGUF")`, 0);
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24 | (version & 0xff00) << 8 | (version >>> 8) & 0xff00 | version >>> 24) >>> 0;
    if (swapped === 2 || swapped === 3) c.fail(`big-endian GGUF files are not supported (version field reads ${swapped} byte-swapped)`, 4);
    c.fail(`unsupported GGUF version ${version} (supported: 2, 3)`, 4);
  }
  // Minimum sizes: a tensor info takes >= 8+4+8+4+8 bytes, a KV >= 8+4+1.
  const nTensors = c.count("tensor count", 32);
  const nKV = c.count("metadata count", 13);

  const metadata = new Map<string, GgufKV>();
  for (let i = 0; i < nKV; i++) {
    const at = c.pos;
    const kv = readKV(c, i);
    if (metadata.has(kv.key)) c.fail(`duplicate metadata key "${kv.key}"`, at);
    metadata.set(kv.key, kv);
  }

  let alignment = DEFAULT_ALIGNMENT;
  const alignKV = metadata.get("general.alignment");
  if (alignKV) {
    if (alignKV.type !== GgufValueType.UINT32) {
      c.fail(`general.alignment has type ${valueTypeName(alignKV.type)}, expected UINT32`, c.pos);
    }
    alignment = alignKV.value as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      c.fail(`general.alignment ${alignment} is not a power of two`, c.pos);
    }
  }

  const tensors: GgufTensorInfo[] = [];
  const infoOffsets: number[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const at = c.pos;
    infoOffsets.push(at);
    const name = c.string(`tensor ${i} name`);
    if (names.has(name)) c.fail(`duplicate tensor name "${name}"`, at);
    names.add(name);
    const dimsAt = c.pos;
    const nDims = c.u32(`tensor "${name}" n_dims`);
    if (nDims < 1 || nDims > MAX_DIMS) c.fail(`tensor "${name}" has n_dims ${nDims} (must be 1..${MAX_DIMS})`, dimsAt);
    const ne: number[] = [];
    let nElements = 1;
    for (let d = 0; d < nDims; d++) {
      const dimAt = c.pos;
      const n = c.u64n(`tensor "${name}" ne[${d}]`);
      if (n === 0) c.fail(`tensor "${name}" has a zero-sized dimension ne[${d}]`, dimAt);
      nElements *= n;
      if (nElements > Number.MAX_SAFE_INTEGER) c.fail(`tensor "${name}" element count overflows`, dimAt);
      ne.push(n);
    }
    const typeAt = c.pos;
    const typeId = c.u32(`tensor "${name}" type`);
    const { blockSize, typeSize } = traitsOrFail(c, typeId, name, typeAt);
    if (ne[0] % blockSize !== 0) {
      c.fail(`tensor "${name}" row of ${ne[0]} elements is not a multiple of the block size ${blockSize} of type ${typeId}`, typeAt);
    }
    const nbytes = (nElements / blockSize) * typeSize;
    const offAt = c.pos;
    const relOffset = c.u64n(`tensor "${name}" data offset`);
    if (relOffset % alignment !== 0) c.fail(`tensor "${name}" data offset ${relOffset} is not a multiple of the alignment ${alignment}`, offAt);
    tensors.push({ name, type: typeId as GgmlType, ne, offset: relOffset, relOffset, nbytes, nElements });
  }

  const headerSize = c.pos;
  const dataOffset = alignUp(headerSize, alignment);
  // Sort by offset to find overlaps in O(n log n) without touching the declared order.
  const order = tensors.map((_, i) => i).sort((a, b) => tensors[a].relOffset - tensors[b].relOffset);
  let prevEnd = 0;
  let prevName = "";
  for (const i of order) {
    const t = tensors[i];
    t.offset = dataOffset + t.relOffset;
    const end = t.offset + t.nbytes;
    if (end > fileSize) {
      c.fail(`tensor "${t.name}" data [${t.offset}, ${end}) extends past the end of the file (${fileSize} bytes)`, infoOffsets[i]);
    }
    if (t.offset < prevEnd) c.fail(`tensor "${t.name}" data overlaps tensor "${prevName}"`, infoOffsets[i]);
    prevEnd = end;
    prevName = t.name;
  }
  return { version, alignment, dataOffset, fileSize, headerSize, metadata, tensors };
}
