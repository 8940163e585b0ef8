// WGSL code generation shared by every kernel: the uniform layout, per-slot accessors over u32 storage words
// (any byte layout, including 18/22/34/210-byte quant blocks) and sub-word stores through atomics.
import { GgmlType, typeTraits } from "@ggts/tensor";
import { dequantFn, IQ4_TABLE } from "./quant-read.js";
import { stripUnused } from "./strip.js";

/**
 * Uniform block (512 bytes, vec4<u32> V[32]):
 *   V[2k], V[2k+1]: ne and nb (bytes) of slot k (0 = dst, 1+i = src[i]);
 *   V[16], V[17]:   byte offsets of slots 0..7 inside their bindings;
 *   V[18..25]:      32 op parameters as f32 bits (pf(i));
 *   V[26..31]:      24 kernel-specific integers (pu(i)).
 */
export const UNIFORM_BYTES = 512;
export const PARAM_WORD = 72;
export const INT_WORD = 104;
export const MAX_SLOTS = 8;

export interface SlotDecl {
  /** Accessor suffix: d (destination) or s0..s5. */
  name: string;
  /** Uniform slot index (0 = dst). */
  index: number;
  type: GgmlType;
  binding: number;
}

export interface BindingDecl { binding: number; atomic: boolean }

const slotFns = (s: SlotDecl, atomic: boolean, f16: boolean): string => {
  const n = s.name, B = `B${s.binding}`, k = s.index;
  const rd = atomic ? `atomicLoad(&${B}[w])` : `${B}[w]`;
  const tr = typeTraits(s.type);
  let out = `
fn ne_${n}() -> vec4<u32> { return U.v[${2 * k}]; }
fn nb_${n}() -> vec4<u32> { return U.v[${2 * k + 1}]; }
fn off_${n}() -> u32 { return U.v[${16 + (k >> 2)}][${k & 3}]; }
fn rd_${n}(w: u32) -> u32 { return ${rd}; }
fn u8_${n}(a: u32) -> u32 { return (rd_${n}(a >> 2u) >> ((a & 3u) * 8u)) & 255u; }
fn i8_${n}(a: u32) -> i32 { return bitcast<i32>(u8_${n}(a) << 24u) >> 24u; }
fn u16_${n}(a: u32) -> u32 { return (rd_${n}(a >> 2u) >> ((a & 2u) * 8u)) & 65535u; }
fn h_${n}(a: u32) -> f32 { return unpack2x16float(u16_${n}(a)).x; }
${f16 ? `fn hh_${n}(a: u32) -> f16 { return bitcast<vec2<f16>>(rd_${n}(a >> 2u))[(a >> 1u) & 1u]; }\n` : ""}fn w32_${n}(a: u32) -> u32 {
  if ((a & 3u) == 0u) { return rd_${n}(a >> 2u); }
  return u8_${n}(a) | (u8_${n}(a + 1u) << 8u) | (u8_${n}(a + 2u) << 16u) | (u8_${n}(a + 3u) << 24u);
}
/** Byte address of element (i0..i3); for block types i0 must be a block start. */
fn at_${n}(i0: u32, i1: u32, i2: u32, i3: u32) -> u32 {
  let nb = nb_${n}();
  return off_${n}() + (i0 / ${tr.blockSize}u) * ${tr.blockSize === 1 ? "nb.x" : `${tr.typeSize}u`} + i1 * nb.y + i2 * nb.z + i3 * nb.w;
}
`;
  // ld: f32 value at a byte address of a plain element. get: f32 value of logical element (i0..i3).
  switch (s.type) {
    case GgmlType.F32: out += `fn ld_${n}(a: u32) -> f32 { return bitcast<f32>(rd_${n}(a >> 2u)); }\n`; break;
    case GgmlType.I32: out += `fn ld_${n}(a: u32) -> f32 { return f32(bitcast<i32>(rd_${n}(a >> 2u))); }\n`; break;
    case GgmlType.F16: out += `fn ld_${n}(a: u32) -> f32 { return h_${n}(a); }\n`; break;
    case GgmlType.BF16: out += `fn ld_${n}(a: u32) -> f32 { return bitcast<f32>(u16_${n}(a) << 16u); }\n`; break;
    case GgmlType.I16: out += `fn ld_${n}(a: u32) -> f32 { return f32(bitcast<i32>(u16_${n}(a) << 16u) >> 16u); }\n`; break;
    case GgmlType.I8: out += `fn ld_${n}(a: u32) -> f32 { return f32(i8_${n}(a)); }\n`; break;
    default: break;
  }
  if (tr.blockSize === 1) {
    if (s.type !== GgmlType.F64 && s.type !== GgmlType.I64) {
      out += `fn get_${n}(i0: u32, i1: u32, i2: u32, i3: u32) -> f32 { return ld_${n}(at_${n}(i0, i1, i2, i3)); }\n`;
    }
  } else {
    out += dequantFn(s.type, n);
    out += `fn get_${n}(i0: u32, i1: u32, i2: u32, i3: u32) -> f32 {
  return dq_${n}(at_${n}(i0 - i0 % ${tr.blockSize}u, i1, i2, i3), i0 % ${tr.blockSize}u);
}\n`;
  }
  if (k === 0) out += storeFns(s, atomic);
  return out;
};

/** Stores into the destination: whole words directly, half-words and bytes through atomics. */
function storeFns(s: SlotDecl, atomic: boolean): string {
  const n = s.name, B = `B${s.binding}`;
  let out = atomic ? `
fn sw_${n}(w: u32, v: u32) { atomicStore(&${B}[w], v); }
fn sbits_${n}(a: u32, v: u32, bits: u32) {
  let sh = (a & 3u) * 8u;
  let m = select((1u << bits) - 1u, 0xffffffffu, bits == 32u) << sh;
  atomicAnd(&${B}[a >> 2u], ~m);
  atomicOr(&${B}[a >> 2u], (v << sh) & m);
}
` : `fn sw_${n}(w: u32, v: u32) { ${B}[w] = v; }\n`;
  switch (s.type) {
    case GgmlType.F32: out += `fn st_${n}(a: u32, v: f32) { sw_${n}(a >> 2u, bitcast<u32>(v)); }\n`; break;
    case GgmlType.I32: out += `fn st_${n}(a: u32, v: f32) { sw_${n}(a >> 2u, bitcast<u32>(i32(v))); }\n`; break;
    case GgmlType.F16: out += `fn st_${n}(a: u32, v: f32) { sbits_${n}(a, pack2x16float(vec2<f32>(v, 0.0)) & 65535u, 16u); }\n`; break;
    case GgmlType.BF16: out += `fn st_${n}(a: u32, v: f32) { sbits_${n}(a, bf16_bits(v), 16u); }\n`; break;
    default: break;
  }
  if (atomic) out += `fn sb_${n}(a: u32, v: u32) { sbits_${n}(a, v & 255u, 8u); }\n`;
  return out;
}

/** Whether writes to a destination of this type need atomics (sub-word or unaligned block stores). */
export const needsAtomicStore = (t: GgmlType): boolean => typeTraits(t).typeSize % 4 !== 0 || typeTraits(t).blockSize > 1;

export interface ShaderParts {
  wg: number;
  slots: SlotDecl[];
  bindings: BindingDecl[];
  /** Extra module-scope declarations (helpers, workgroup vars). */
  helpers?: string;
  /** Emit `enable f16;` and the f16 accessors hh_<slot>(byte address) -> f16. */
  f16?: boolean;
  /** Body of main; has gid (global thread index), wid (workgroup index), lid (local index). */
  body: string;
}

export function buildShader(p: ShaderParts): string {
  const decls = p.bindings.map((b) =>
    `@group(0) @binding(${b.binding}) var<storage, read_write> B${b.binding}: array<${b.atomic ? "atomic<u32>" : "u32"}>;`);
  const atomicOf = new Map(p.bindings.map((b) => [b.binding, b.atomic]));
  return (p.f16 ? "enable f16;\n" : "") + stripUnused(`
struct Uni { v: array<vec4<u32>, 32> }
@group(0) @binding(0) var<uniform> U: Uni;
${decls.join("\n")}
${IQ4_TABLE}fn neg_inf() -> f32 { var b = 0xff800000u; return bitcast<f32>(b); }
fn pf(i: u32) -> f32 { return bitcast<f32>(U.v[${PARAM_WORD / 4}u + i / 4u][i % 4u]); }
fn pu(i: u32) -> u32 { return U.v[${INT_WORD / 4}u + i / 4u][i % 4u]; }
fn bf16_bits(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return (b >> 16u) | 64u; }
  return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}
/** Unravels a linear index over ne (ne0 fastest). */
fn unravel(i: u32, ne: vec4<u32>) -> vec4<u32> {
  let i0 = i % ne.x; let r = i / ne.x;
  let i1 = r % ne.y; let r2 = r / ne.y;
  return vec4<u32>(i0, i1, r2 % ne.z, r2 / ne.z);
}
${p.slots.map((s) => slotFns(s, atomicOf.get(s.binding) ?? false, p.f16 ?? false)).join("")}
${p.helpers ?? ""}
@compute @workgroup_size(${p.wg})
fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid3: vec3<u32>) {
  let wid = wid3.x + wid3.y * nwg.x;
  let gid = wid * ${p.wg}u + lid;
${p.body}
}
`);
}
