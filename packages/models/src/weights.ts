// Weight binding: one backend buffer over the GGUF data section; every weight is a leaf bound at its offset.
import { GgmlType, Tensor, tensor, typeName, type Backend, type BackendBuffer } from "@ggts/tensor";
import type { GgufFile } from "@ggts/gguf";

export interface WeightOptions {
  /** Accepted element types (default: any). */
  types?: readonly GgmlType[];
  /** Other accepted shapes (e.g. a 3-D conv weight); the tensor is reshaped to `shape`. */
  alt?: readonly (readonly number[])[];
}

const F32_ONLY = [GgmlType.F32] as const;

const norm4 = (s: readonly number[]) => {
  const r = [...s];
  while (r.length < 4) r.push(1);
  return r;
};
const same = (a: readonly number[], b: readonly number[]) => {
  const x = norm4(a), y = norm4(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

export class WeightLoader {
  readonly used = new Set<string>();
  constructor(readonly arch: string, readonly file: GgufFile, readonly backend: Backend,
              readonly buffer: BackendBuffer, readonly dataOffset: number) {}

  has(name: string): boolean { return this.file.hasTensor(name); }

  /** A bound weight leaf with ggml shape `shape`; throws naming arch, tensor and expected shape/type. */
  get(name: string, shape: readonly number[], opts: WeightOptions = {}): Tensor {
    if (!this.file.hasTensor(name)) {
      throw new Error(`${this.arch}: missing tensor ${name} (expected shape [${shape.join(",")}])`);
    }
    const info = this.file.tensor(name);
    const okShape = same(info.ne, shape) || (opts.alt ?? []).some((a) => same(info.ne, a));
    if (!okShape) {
      throw new Error(`${this.arch}: tensor ${name} has shape [${info.ne.join(",")}], expected [${shape.join(",")}]`);
    }
    if (opts.types && !opts.types.includes(info.type)) {
      throw new Error(`${this.arch}: tensor ${name} has type ${typeName(info.type)}, expected ${opts.types.map(typeName).join(" or ")}`);
    }
    const t = tensor(info.type, shape, undefined, name);
    if (t.nBytes !== info.nbytes) {
      throw new Error(`${this.arch}: tensor ${name} holds ${info.nbytes} bytes, ${t.nBytes} expected for ${typeName(info.type)} [${shape.join(",")}]`);
    }
    this.backend.bind(t, this.buffer, info.offset - this.dataOffset);
    this.used.add(name);
    return t;
  }

  /** An f32 weight (norms, biases, gates, conv kernels: consumed by elementwise ops). */
  f32(name: string, shape: readonly number[], alt?: readonly (readonly number[])[]): Tensor {
    return this.get(name, shape, { types: F32_ONLY, alt });
  }

  opt(name: string, shape: readonly number[], opts: WeightOptions = {}): Tensor | null {
    return this.has(name) ? this.get(name, shape, opts) : null;
  }
}
