// In-shader dequantisation: dq_<slot>(block byte address, element index in block) -> f32, bit-exact with
// ops.md §11. Blocks need not be 4-byte aligned; bytes come out of u32 words via u8_/u16_/h_ accessors.
import { GgmlType, typeName } from "@ggts/tensor";

const KV = "-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0, 1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0";
export const IQ4_TABLE = `var<private> KVALS: array<f32, 16> = array<f32, 16>(${KV});\n`;

/** Nibble i (0..31) of the 16 packed bytes at qa: low nibbles first, then high. */
const nib = (n: string) => `fn nib_${n}(qa: u32, i: u32) -> u32 { return (u8_${n}(qa + (i & 15u)) >> ((i >> 4u) * 4u)) & 15u; }\n`;

/** Q4_K/Q5_K 6-bit scale and min of sub-block s from the 12 scale bytes at sa. */
const k4scale = (n: string) => `
fn scmin_${n}(sa: u32, s: u32) -> vec2<f32> {
  if (s < 4u) { return vec2<f32>(f32(u8_${n}(sa + s) & 63u), f32(u8_${n}(sa + s + 4u) & 63u)); }
  let sc = (u8_${n}(sa + s + 4u) & 15u) | ((u8_${n}(sa + s - 4u) >> 6u) << 4u);
  let m = (u8_${n}(sa + s + 4u) >> 4u) | ((u8_${n}(sa + s) >> 6u) << 4u);
  return vec2<f32>(f32(sc), f32(m));
}
`;

export function dequantFn(type: GgmlType, n: string): string {
  const sig = `fn dq_${n}(ba: u32, i: u32) -> f32`;
  switch (type) {
    case GgmlType.Q4_0: return nib(n) + `${sig} { return (f32(nib_${n}(ba + 2u, i)) - 8.0) * h_${n}(ba); }\n`;
    case GgmlType.Q4_1: return nib(n) + `${sig} { return f32(nib_${n}(ba + 4u, i)) * h_${n}(ba) + h_${n}(ba + 2u); }\n`;
    case GgmlType.Q5_0: return nib(n) + `${sig} {
  let q = nib_${n}(ba + 6u, i) | (((u8_${n}(ba + 2u + (i >> 3u)) >> (i & 7u)) & 1u) << 4u);
  return (f32(q) - 16.0) * h_${n}(ba);
}\n`;
    case GgmlType.Q5_1: return nib(n) + `${sig} {
  let q = nib_${n}(ba + 8u, i) | (((u8_${n}(ba + 4u + (i >> 3u)) >> (i & 7u)) & 1u) << 4u);
  return f32(q) * h_${n}(ba) + h_${n}(ba + 2u);
}\n`;
    case GgmlType.Q8_0: return `${sig} { return f32(i8_${n}(ba + 2u + i)) * h_${n}(ba); }\n`;
    case GgmlType.Q8_1: return `${sig} { return f32(i8_${n}(ba + 4u + i)) * h_${n}(ba); }\n`;
    case GgmlType.IQ4_NL: return nib(n) + `${sig} { return h_${n}(ba) * KVALS[nib_${n}(ba + 2u, i)]; }\n`;
    case GgmlType.Q2_K: return `${sig} {
  let h = i >> 7u; let j = (i >> 5u) & 3u; let r = i & 31u;
  let q = (u8_${n}(ba + 16u + 32u * h + r) >> (2u * j)) & 3u;
  let sc = u8_${n}(ba + (i >> 4u));
  return h_${n}(ba + 80u) * f32(sc & 15u) * f32(q) - h_${n}(ba + 82u) * f32(sc >> 4u);
}\n`;
    case GgmlType.Q3_K: return `${sig} {
  let h = i >> 7u; let j = (i >> 5u) & 3u; let r = i & 31u;
  var q = i32((u8_${n}(ba + 32u + 32u * h + r) >> (2u * j)) & 3u);
  if (((u8_${n}(ba + r) >> (4u * h + j)) & 1u) == 0u) { q -= 4; }
  let t = i >> 4u;
  var lo: u32;
  if (t < 8u) { lo = u8_${n}(ba + 96u + t) & 15u; } else { lo = u8_${n}(ba + 96u + t - 8u) >> 4u; }
  let hi = (u8_${n}(ba + 104u + (t & 3u)) >> (2u * (t >> 2u))) & 3u;
  return h_${n}(ba + 108u) * f32(i32(lo | (hi << 4u)) - 32) * f32(q);
}\n`;
    case GgmlType.Q4_K: return k4scale(n) + `${sig} {
  let s = i >> 5u; let r = i & 31u;
  let q = (u8_${n}(ba + 16u + 32u * (s >> 1u) + r) >> ((s & 1u) * 4u)) & 15u;
  let sm = scmin_${n}(ba + 4u, s);
  return h_${n}(ba) * sm.x * f32(q) - h_${n}(ba + 2u) * sm.y;
}\n`;
    case GgmlType.Q5_K: return k4scale(n) + `${sig} {
  let s = i >> 5u; let r = i & 31u;
  var q = (u8_${n}(ba + 48u + 32u * (s >> 1u) + r) >> ((s & 1u) * 4u)) & 15u;
  q += 16u * ((u8_${n}(ba + 16u + r) >> s) & 1u);
  let sm = scmin_${n}(ba + 4u, s);
  return h_${n}(ba) * sm.x * f32(q) - h_${n}(ba + 2u) * sm.y;
}\n`;
    case GgmlType.Q6_K: return `${sig} {
  let h = i >> 7u; let g = (i >> 5u) & 3u; let r = i & 31u;
  let lo = (u8_${n}(ba + 64u * h + 32u * (g & 1u) + r) >> ((g >> 1u) * 4u)) & 15u;
  let hi = (u8_${n}(ba + 128u + 32u * h + r) >> (2u * g)) & 3u;
  return h_${n}(ba + 208u) * f32(i8_${n}(ba + 192u + (i >> 4u))) * f32(i32(lo | (hi << 4u)) - 32);
}\n`;
    case GgmlType.Q8_K: return `${sig} { return bitcast<f32>(w32_${n}(ba)) * f32(i8_${n}(ba + 4u + i)); }\n`;
    case GgmlType.IQ4_XS: return `${sig} {
  let b = i >> 5u; let j = i & 31u;
  let ls = ((u8_${n}(ba + 4u + (b >> 1u)) >> (4u * (b & 1u))) & 15u) | (((u16_${n}(ba + 2u) >> (2u * b)) & 3u) << 4u);
  let q = (u8_${n}(ba + 8u + 16u * b + (j & 15u)) >> ((j >> 4u) * 4u)) & 15u;
  return h_${n}(ba) * f32(i32(ls) - 32) * KVALS[q];
}\n`;
    default: throw new Error(`webgpu: no in-shader dequantisation for ${typeName(type)}`);
  }
}

export const DEQUANT_TYPES: ReadonlySet<GgmlType> = new Set([
  GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q8_1, GgmlType.IQ4_NL,
  GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K, GgmlType.IQ4_XS,
]);

/**
 * Sub-block form for dot products (nib_/scmin_ helpers come from dequantFn, always present for the slot): x = dqq(ba, i) * m.x + m.y with m = dqs(ba, sub-block), so the scale
 * decoding is hoisted out of the element loop. Returns [sub-block size, WGSL] or null.
 */
export function dequantSubFn(type: GgmlType, n: string): [number, string] | null {
  const s = (body: string) => `fn dqs_${n}(ba: u32, sb: u32) -> vec2<f32> { ${body} }\n`;
  const q = (body: string) => `fn dqq_${n}(ba: u32, i: u32) -> f32 { ${body} }\n`;
  switch (type) {
    case GgmlType.Q4_0: return [32, s(`let d = h_${n}(ba); return vec2<f32>(d, -8.0 * d);`) + q(`return f32(nib_${n}(ba + 2u, i));`)];
    case GgmlType.Q4_1: return [32, s(`return vec2<f32>(h_${n}(ba), h_${n}(ba + 2u));`) + q(`return f32(nib_${n}(ba + 4u, i));`)];
    case GgmlType.Q5_0: return [32, s(`let d = h_${n}(ba); return vec2<f32>(d, -16.0 * d);`) +
      q(`return f32(nib_${n}(ba + 6u, i) | (((u8_${n}(ba + 2u + (i >> 3u)) >> (i & 7u)) & 1u) << 4u));`)];
    case GgmlType.Q5_1: return [32, s(`return vec2<f32>(h_${n}(ba), h_${n}(ba + 2u));`) +
      q(`return f32(nib_${n}(ba + 8u, i) | (((u8_${n}(ba + 4u + (i >> 3u)) >> (i & 7u)) & 1u) << 4u));`)];
    case GgmlType.Q8_0: return [32, s(`return vec2<f32>(h_${n}(ba), 0.0);`) + q(`return f32(i8_${n}(ba + 2u + i));`)];
    case GgmlType.IQ4_NL: return [32, s(`return vec2<f32>(h_${n}(ba), 0.0);`) + q(`return KVALS[nib_${n}(ba + 2u, i)];`)];
    case GgmlType.Q2_K: return [16, s(`let sc = u8_${n}(ba + sb); return vec2<f32>(h_${n}(ba + 80u) * f32(sc & 15u), -h_${n}(ba + 82u) * f32(sc >> 4u));`) +
      q(`return f32((u8_${n}(ba + 16u + 32u * (i >> 7u) + (i & 31u)) >> (2u * ((i >> 5u) & 3u))) & 3u);`)];
    case GgmlType.Q3_K: return [16, s(`
  var lo: u32;
  if (sb < 8u) { lo = u8_${n}(ba + 96u + sb) & 15u; } else { lo = u8_${n}(ba + 88u + sb) >> 4u; }
  let hi = (u8_${n}(ba + 104u + (sb & 3u)) >> (2u * (sb >> 2u))) & 3u;
  return vec2<f32>(h_${n}(ba + 108u) * f32(i32(lo | (hi << 4u)) - 32), 0.0);`) + q(`
  let h = i >> 7u; let j = (i >> 5u) & 3u; let r = i & 31u;
  var v = i32((u8_${n}(ba + 32u + 32u * h + r) >> (2u * j)) & 3u);
  if (((u8_${n}(ba + r) >> (4u * h + j)) & 1u) == 0u) { v -= 4; }
  return f32(v);`)];
    case GgmlType.Q4_K: return [32, s(`let sm = scmin_${n}(ba + 4u, sb); return vec2<f32>(h_${n}(ba) * sm.x, -h_${n}(ba + 2u) * sm.y);`) +
      q(`return f32((u8_${n}(ba + 16u + 32u * (i >> 6u) + (i & 31u)) >> (((i >> 5u) & 1u) * 4u)) & 15u);`)];
    case GgmlType.Q5_K: return [32, s(`let sm = scmin_${n}(ba + 4u, sb); return vec2<f32>(h_${n}(ba) * sm.x, -h_${n}(ba + 2u) * sm.y);`) +
      q(`return f32(((u8_${n}(ba + 48u + 32u * (i >> 6u) + (i & 31u)) >> (((i >> 5u) & 1u) * 4u)) & 15u) + 16u * ((u8_${n}(ba + 16u + (i & 31u)) >> (i >> 5u)) & 1u));`)];
    case GgmlType.Q6_K: return [16, s(`return vec2<f32>(h_${n}(ba + 208u) * f32(i8_${n}(ba + 192u + sb)), 0.0);`) + q(`
  let h = i >> 7u; let g = (i >> 5u) & 3u; let r = i & 31u;
  let lo = (u8_${n}(ba + 64u * h + 32u * (g & 1u) + r) >> ((g >> 1u) * 4u)) & 15u;
  let hi = (u8_${n}(ba + 128u + 32u * h + r) >> (2u * g)) & 3u;
  return f32(i32(lo | (hi << 4u)) - 32);`)];
    case GgmlType.IQ4_XS: return [32, s(`
  let ls = ((u8_${n}(ba + 4u + (sb >> 1u)) >> (4u * (sb & 1u))) & 15u) | (((u16_${n}(ba + 2u) >> (2u * sb)) & 3u) << 4u);
  return vec2<f32>(h_${n}(ba) * f32(i32(ls) - 32), 0.0);`) +
      q(`let b = i >> 5u; let j = i & 31u; return KVALS[(u8_${n}(ba + 8u + 16u * b + (j & 15u)) >> ((j >> 4u) * 4u)) & 15u];`)];
    default: return null;
  }
}
