// Strided, typed storage <-> dense logical arrays (float64, ne0 fastest). The reference kernels work on
// dense arrays only, so every layout and type question is answered here once.
import { GgmlType, typeTraits } from "../types.js";
import type { Tensor } from "../tensor.js";
import { dequantizeRow, quantizeRow } from "../quant/index.js";

export interface Dense { ne: readonly number[]; v: Float64Array }

export function readDense(t: Tensor, bytes: Uint8Array, offset: number): Dense {
  const [n0, n1, n2, n3] = t.ne;
  const v = new Float64Array(n0 * n1 * n2 * n3);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tr = typeTraits(t.type);
  const row = new Float32Array(n0);
  let k = 0;
  for (let i3 = 0; i3 < n3; i3++) for (let i2 = 0; i2 < n2; i2++) for (let i1 = 0; i1 < n1; i1++) {
    const base = offset + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
    if (tr.quantized || t.type === GgmlType.F16 || t.type === GgmlType.BF16) {
      if (tr.quantized || t.nb[0] === tr.typeSize) {
        dequantizeRow(t.type, bytes.subarray(base), n0, row);
        for (let i = 0; i < n0; i++) v[k++] = row[i];
      } else {
        for (let i = 0; i < n0; i++) {
          dequantizeRow(t.type, bytes.subarray(base + i * t.nb[0]), 1, row);
          v[k++] = row[0];
        }
      }
      continue;
    }
    for (let i0 = 0; i0 < n0; i0++) {
      const p = base + i0 * t.nb[0];
      switch (t.type) {
        case GgmlType.F32: v[k++] = dv.getFloat32(p, true); break;
        case GgmlType.F64: v[k++] = dv.getFloat64(p, true); break;
        case GgmlType.I32: v[k++] = dv.getInt32(p, true); break;
        case GgmlType.I16: v[k++] = dv.getInt16(p, true); break;
        case GgmlType.I8: v[k++] = dv.getInt8(p); break;
        case GgmlType.I64: v[k++] = Number(dv.getBigInt64(p, true)); break;
        default: throw new Error(`readDense: type ${tr.name} not handled`);
      }
    }
  }
  return { ne: [n0, n1, n2, n3], v };
}

export function writeDense(t: Tensor, bytes: Uint8Array, offset: number, v: ArrayLike<number>): void {
  const [n0, n1, n2, n3] = t.ne;
  if (v.length !== n0 * n1 * n2 * n3) throw new Error(`writeDense: ${t} needs ${n0 * n1 * n2 * n3} values, got ${v.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tr = typeTraits(t.type);
  const row = new Float32Array(n0);
  const tmp = new Uint8Array(Math.max(tr.typeSize, (n0 / tr.blockSize) * tr.typeSize));
  let k = 0;
  for (let i3 = 0; i3 < n3; i3++) for (let i2 = 0; i2 < n2; i2++) for (let i1 = 0; i1 < n1; i1++) {
    const base = offset + i1 * t.nb[1] + i2 * t.nb[2] + i3 * t.nb[3];
    if (tr.quantized || t.type === GgmlType.F16 || t.type === GgmlType.BF16) {
      for (let i = 0; i < n0; i++) row[i] = v[k++];
      if (tr.quantized || t.nb[0] === tr.typeSize) {
        const out = bytes.subarray(base, base + (n0 / tr.blockSize) * tr.typeSize);
        quantizeRow(t.type, row, out);
      } else {
        for (let i = 0; i < n0; i++) {
          quantizeRow(t.type, row.subarray(i, i + 1), tmp.subarray(0, tr.typeSize));
          bytes.set(tmp.subarray(0, tr.typeSize), base + i * t.nb[0]);
        }
      }
      continue;
    }
    for (let i0 = 0; i0 < n0; i0++) {
      const p = base + i0 * t.nb[0];
      const x = v[k++];
      switch (t.type) {
        case GgmlType.F32: dv.setFloat32(p, x, true); break;
        case GgmlType.F64: dv.setFloat64(p, x, true); break;
        case GgmlType.I32: dv.setInt32(p, x, true); break;
        case GgmlType.I16: dv.setInt16(p, x, true); break;
        case GgmlType.I8: dv.setInt8(p, x); break;
        case GgmlType.I64: dv.setBigInt64(p, BigInt(Math.trunc(x)), true); break;
        default: throw new Error(`writeDense: type ${tr.name} not handled`);
      }
    }
  }
}

/** Flat index of (i0,i1,i2,i3) in a dense array of shape ne. */
export const at = (ne: readonly number[], i0: number, i1 = 0, i2 = 0, i3 = 0): number =>
  i0 + ne[0] * (i1 + ne[1] * (i2 + ne[2] * i3));
