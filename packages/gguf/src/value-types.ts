// GGUF metadata value types (gguf.h `gguf_type`).

export enum GgufValueType {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
}

/**
 * One metadata entry. Scalars: number (u8..i32, f32, f64), bigint (u64, i64), boolean, string.
 * Arrays (type ARRAY, element type in `arrayType`): numeric elements as the matching typed array
 * (Uint8Array … Float64Array, BigUint64Array/BigInt64Array for 64-bit ints), booleans as boolean[],
 * strings as string[], nested arrays as GgufArray[] (each carrying its own element type).
 */
export interface GgufKV {
  key: string;
  type: GgufValueType;
  value: unknown;
  arrayType?: GgufValueType;
}

/** An element of a nested array (array of arrays). */
export interface GgufArray {
  arrayType: GgufValueType;
  value: unknown;
}

export type GgufTypedArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigUint64Array | BigInt64Array;

/** Bytes of one scalar of a fixed-size type; 0 for STRING and ARRAY. */
export function scalarSize(t: GgufValueType): number {
  switch (t) {
    case GgufValueType.UINT8: case GgufValueType.INT8: case GgufValueType.BOOL: return 1;
    case GgufValueType.UINT16: case GgufValueType.INT16: return 2;
    case GgufValueType.UINT32: case GgufValueType.INT32: case GgufValueType.FLOAT32: return 4;
    case GgufValueType.UINT64: case GgufValueType.INT64: case GgufValueType.FLOAT64: return 8;
    default: return 0;
  }
}

export const isValueType = (t: number): t is GgufValueType => Number.isInteger(t) && t >= 0 && t <= 12;

export const valueTypeName = (t: number): string => (isValueType(t) ? GgufValueType[t] : `unknown(${t})`);

export function isNumericType(t: GgufValueType): boolean {
  return t !== GgufValueType.STRING && t !== GgufValueType.ARRAY && t !== GgufValueType.BOOL;
}

export function isIntegerType(t: GgufValueType): boolean {
  return isNumericType(t) && t !== GgufValueType.FLOAT32 && t !== GgufValueType.FLOAT64;
}

/** Describes a KV's type for error messages, e.g. "ARRAY of INT32". */
export function describeKVType(kv: { type: GgufValueType; arrayType?: GgufValueType }): string {
  return kv.type === GgufValueType.ARRAY ? `ARRAY of ${valueTypeName(kv.arrayType ?? -1)}` : valueTypeName(kv.type);
}
