// Tensor element types with their GGUF ids and block layouts (ggml's type_traits table).

export enum GgmlType {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ4_NL = 20, IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
}

export interface TypeTraits {
  readonly id: GgmlType;
  readonly name: string;       // lower-case, as llama.cpp prints it ("q4_K")
  readonly blockSize: number;  // elements per block
  readonly typeSize: number;   // bytes per block
  readonly quantized: boolean;
}

const t = (id: GgmlType, name: string, blockSize: number, typeSize: number): TypeTraits =>
  ({ id, name, blockSize, typeSize, quantized: blockSize > 1 });

export const TYPE_TRAITS: ReadonlyMap<GgmlType, TypeTraits> = new Map([
  t(GgmlType.F32, "f32", 1, 4), t(GgmlType.F16, "f16", 1, 2), t(GgmlType.BF16, "bf16", 1, 2),
  t(GgmlType.F64, "f64", 1, 8), t(GgmlType.I8, "i8", 1, 1), t(GgmlType.I16, "i16", 1, 2),
  t(GgmlType.I32, "i32", 1, 4), t(GgmlType.I64, "i64", 1, 8),
  t(GgmlType.Q4_0, "q4_0", 32, 18), t(GgmlType.Q4_1, "q4_1", 32, 20),
  t(GgmlType.Q5_0, "q5_0", 32, 22), t(GgmlType.Q5_1, "q5_1", 32, 24),
  t(GgmlType.Q8_0, "q8_0", 32, 34), t(GgmlType.Q8_1, "q8_1", 32, 36),
  t(GgmlType.Q2_K, "q2_K", 256, 84), t(GgmlType.Q3_K, "q3_K", 256, 110),
  t(GgmlType.Q4_K, "q4_K", 256, 144), t(GgmlType.Q5_K, "q5_K", 256, 176),
  t(GgmlType.Q6_K, "q6_K", 256, 210), t(GgmlType.Q8_K, "q8_K", 256, 292),
  t(GgmlType.IQ4_NL, "iq4_nl", 32, 18), t(GgmlType.IQ4_XS, "iq4_xs", 256, 136),
].map((x) => [x.id, x]));

// Ids ggml knows but ggts does not implement; named so the error says what the file holds.
const KNOWN_UNSUPPORTED: Record<number, string> = {
  4: "Q4_2 (removed)", 5: "Q4_3 (removed)", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S",
  21: "IQ3_S", 22: "IQ2_S", 29: "IQ1_M", 31: "Q4_0_4_4 (removed)", 32: "Q4_0_4_8 (removed)",
  33: "Q4_0_8_8 (removed)", 34: "TQ1_0", 35: "TQ2_0", 36: "IQ4_NL_4_4 (removed)", 37: "IQ4_NL_4_8 (removed)",
  38: "IQ4_NL_8_8 (removed)", 39: "MXFP4",
};

export function isKnownType(id: number): id is GgmlType {
  return TYPE_TRAITS.has(id as GgmlType);
}

export function typeTraits(id: number): TypeTraits {
  const tr = TYPE_TRAITS.get(id as GgmlType);
  if (!tr) {
    const what = KNOWN_UNSUPPORTED[id];
    throw new Error(`unsupported tensor type id ${id}${what ? ` (${what})` : ""}`);
  }
  return tr;
}

const BY_NAME = new Map([...TYPE_TRAITS.values()].map((tr) => [tr.name.toLowerCase(), tr.id]));

export type TypeLike = GgmlType | string;

/** Accepts a GgmlType or a name such as "f32", "Q4_K", "q8_0" (case-insensitive). */
export function toType(x: TypeLike): GgmlType {
  if (typeof x === "number") return typeTraits(x).id;
  const id = BY_NAME.get(x.toLowerCase());
  if (id === undefined) throw new Error(`unknown tensor type "${x}"`);
  return id;
}

export const typeName = (id: GgmlType): string => typeTraits(id).name;

/** Bytes of one row of ne0 elements; throws when ne0 is not a whole number of blocks. */
export function rowSize(type: GgmlType, ne0: number): number {
  const tr = typeTraits(type);
  if (ne0 % tr.blockSize !== 0) {
    throw new Error(`row of ${ne0} elements is not a multiple of the ${tr.name} block size ${tr.blockSize}`);
  }
  return (ne0 / tr.blockSize) * tr.typeSize;
}

export const isFloatType = (id: GgmlType) => id === GgmlType.F32 || id === GgmlType.F16 || id === GgmlType.BF16;
export const isIntType = (id: GgmlType) =>
  id === GgmlType.I8 || id === GgmlType.I16 || id === GgmlType.I32 || id === GgmlType.I64;
