// The lazy tensor: shape, strides, producing op and storage binding (ggml_tensor's fields).
import { GgmlType, typeTraits, rowSize, typeName } from "./types.js";
import type { BackendBuffer } from "./backend.js";

export type Shape4 = [number, number, number, number];

export const enum TensorFlag { Input = 1, Output = 2, Weight = 4 }

export type OpParams = Readonly<Record<string, number>>;

let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  name = "";
  flags = 0;
  /** Host data for a leaf, uploaded by the backend at compute time when the leaf has no buffer. */
  data: ArrayBufferView | null = null;
  /** Storage binding (roots only; a view reads its root's). */
  buffer: BackendBuffer | null = null;
  offset = 0;

  constructor(
    readonly type: GgmlType,
    readonly ne: Readonly<Shape4>,
    readonly nb: Readonly<Shape4>,
    readonly op: string = "NONE",
    readonly src: readonly Tensor[] = [],
    readonly params: OpParams = {},
    /** Root tensor whose storage this one shares (always a non-view), with a byte offset into it. */
    readonly viewSrc: Tensor | null = null,
    readonly viewOffset = 0,
  ) {}

  get isLeaf(): boolean { return this.op === "NONE"; }
  /** The tensor that owns the bytes this one reads/writes. */
  get root(): Tensor { return this.viewSrc ?? this; }
  get nElements(): number { return this.ne[0] * this.ne[1] * this.ne[2] * this.ne[3]; }
  get nRows(): number { return this.ne[1] * this.ne[2] * this.ne[3]; }
  /** Bytes spanned from the first to one past the last element (ggml_nbytes). */
  get nBytes(): number { return nBytesOf(this.type, this.ne, this.nb); }
  get typeName(): string { return typeName(this.type); }
  get isContiguous(): boolean { return isContiguous(this.type, this.ne, this.nb); }
  setName(name: string): this { this.name = name; return this; }
  setFlag(f: TensorFlag): this { this.flags |= f; return this; }
  toString(): string {
    return `${this.name || `#${this.id}`}(${this.op}, ${this.typeName}, [${this.ne.join(",")}])`;
  }
}

export function contiguousStrides(type: GgmlType, ne: Readonly<Shape4>): Shape4 {
  const tr = typeTraits(type);
  const nb0 = tr.typeSize;
  const nb1 = rowSize(type, ne[0]);
  return [nb0, nb1, nb1 * ne[1], nb1 * ne[1] * ne[2]];
}

export function isContiguous(type: GgmlType, ne: Readonly<Shape4>, nb: Readonly<Shape4>): boolean {
  const c = contiguousStrides(type, ne);
  for (let i = 0; i < 4; i++) if (ne[i] > 1 && nb[i] !== c[i]) return false;
  return true;
}

export function nBytesOf(type: GgmlType, ne: Readonly<Shape4>, nb: Readonly<Shape4>): number {
  if (ne[0] * ne[1] * ne[2] * ne[3] === 0) return 0;
  const tr = typeTraits(type);
  // Quantized rows are contiguous blocks; plain types may have any element stride.
  let bytes = tr.blockSize === 1 ? tr.typeSize + (ne[0] - 1) * nb[0] : rowSize(type, ne[0]);
  for (let i = 1; i < 4; i++) bytes += (ne[i] - 1) * nb[i];
  return bytes;
}

export function toShape4(shape: readonly number[], what = "shape"): Shape4 {
  if (shape.length < 1 || shape.length > 4) throw new Error(`${what}: expected 1 to 4 dims, got [${shape.join(",")}]`);
  const s: Shape4 = [1, 1, 1, 1];
  shape.forEach((v, i) => {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${what}: dim ${i} must be a non-negative integer, got ${v}`);
    s[i] = v;
  });
  return s;
}

/** A leaf tensor (input or weight). `data`, when given, is host data uploaded at compute time. */
export function tensor(type: GgmlType, shape: readonly number[], data?: ArrayBufferView | readonly number[], name = ""): Tensor {
  const ne = toShape4(shape, "tensor");
  const t = new Tensor(type, ne, contiguousStrides(type, ne));
  t.name = name;
  if (data !== undefined) setHostData(t, data);
  return t;
}

/** Attach host data to a leaf, converting plain number arrays for f32/i32 tensors. */
export function setHostData(t: Tensor, data: ArrayBufferView | readonly number[]): void {
  if (!t.isLeaf || t.viewSrc) throw new Error(`setHostData: ${t} is not a leaf`);
  let view: ArrayBufferView;
  if (Array.isArray(data)) {
    if (t.type === GgmlType.F32) view = Float32Array.from(data);
    else if (t.type === GgmlType.I32) view = Int32Array.from(data);
    else throw new Error(`setHostData: plain arrays need an f32 or i32 tensor, ${t} is ${t.typeName}`);
  } else view = data as ArrayBufferView;
  if (view.byteLength !== t.nBytes) {
    throw new Error(`setHostData: ${t} needs ${t.nBytes} bytes, got ${view.byteLength}`);
  }
  t.data = view;
}
