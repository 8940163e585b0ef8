// Data movement: CPY, CONT, DUP, CONCAT, PAD, SET, REPEAT, GET_ROWS, SET_ROWS. Same-type copies move raw
// bits (exact for i32 and f16); converting copies go through f32; quantized destinations quantize per block.
import { GgmlType, typeTraits, type Tensor } from "@ggts/tensor";
import { count, guard, type KernelBuilder, type KernelSpec } from "./spec.js";
import { DEQUANT_TYPES } from "./quant-read.js";
import { QUANT_WRITE_TYPES, quantWriteFn } from "./quant-write.js";

const STORE_TYPES = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.I32]);
const READ_TYPES = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.I32, GgmlType.I16, GgmlType.I8, ...DEQUANT_TYPES]);

/** WGSL statement copying one element from src slot s (byte address sa) to dst (byte address da). */
function copyElem(dt: GgmlType, st: GgmlType, s: string, da: string, sa: string): string | null {
  if (dt === st) {
    const size = typeTraits(dt).typeSize;
    if (typeTraits(dt).blockSize > 1) return null;
    if (size === 4) return `sw_d((${da}) >> 2u, rd_${s}((${sa}) >> 2u));`;
    if (size === 8) return `{ let x = ${da}; let y = ${sa}; sw_d(x >> 2u, rd_${s}(y >> 2u)); sw_d((x >> 2u) + 1u, rd_${s}((y >> 2u) + 1u)); }`;
    if (size === 2) return `sbits_d(${da}, u16_${s}(${sa}), 16u);`;
    if (size === 1) return `sb_d(${da}, u8_${s}(${sa}));`;
    return null;
  }
  if (!STORE_TYPES.has(dt) || !READ_TYPES.has(st) || typeTraits(st).blockSize > 1) return null;
  return `st_d(${da}, ld_${s}(${sa}));`;
}

const elems = (n: Tensor, key: string, body: string, bind: number[], ints: number[] = []): KernelSpec => ({
  key, wg: 64, threads: n.nElements, bind, ints, body: guard(count("d")) + `  let i = unravel(gid, ne_d());\n` + body,
});

/** Copies src[srcIdx] into dst in logical element order (CPY, CONT, DUP), quantizing when dst is a block type. */
function copyLogical(n: Tensor, srcIdx: number): KernelSpec | null {
  const a = n.src[srcIdx], s = `s${srcIdx}`;
  const dtr = typeTraits(n.type), atr = typeTraits(a.type);
  if (dtr.blockSize > 1) {
    if (a.type === n.type && a.isContiguous && n.isContiguous) {
      // Raw byte copy of contiguous quantized data.
      return { key: `bytecopy`, wg: 64, threads: n.nBytes, bind: [srcIdx], ints: [n.nBytes],
        body: guard("pu(0u)") + `  sb_d(off_d() + gid, u8_${s}(off_${s}() + gid));\n` };
    }
    if (!QUANT_WRITE_TYPES.has(n.type) || !READ_TYPES.has(a.type) || !n.isContiguous) return null;
    const bs = dtr.blockSize;
    const get = atr.blockSize > 1 ? `get_${s}(j.x, j.y, j.z, j.w)` : `ld_${s}(at_${s}(j.x, j.y, j.z, j.w))`;
    return { key: `quantcopy:${n.type}`, wg: 64, threads: n.nElements / bs, bind: [srcIdx], helpers: quantWriteFn(n.type),
      body: guard(`${count("d")} / ${bs}u`) + `
  for (var k = 0u; k < ${bs}u; k++) { let j = unravel(gid * ${bs}u + k, ne_${s}()); QX[k] = ${get}; }
  qw(off_d() + gid * ${dtr.typeSize}u);
` };
  }
  if (atr.blockSize > 1) {
    if (!READ_TYPES.has(a.type) || !STORE_TYPES.has(n.type)) return null;
    return elems(n, "dequantcopy", `  let j = unravel(gid, ne_${s}());\n  st_d(at_d(i.x, i.y, i.z, i.w), get_${s}(j.x, j.y, j.z, j.w));\n`, [srcIdx]);
  }
  const c = copyElem(n.type, a.type, s, "at_d(i.x, i.y, i.z, i.w)", `at_${s}(j.x, j.y, j.z, j.w)`);
  if (!c) return null;
  return elems(n, "copy", `  let j = unravel(gid, ne_${s}());\n  ${c}\n`, [srcIdx]);
}

const concat: KernelBuilder = (n) => {
  const [a] = n.src;
  const dim = n.params.dim;
  const ca = copyElem(n.type, a.type, "s0", "da", "at_s0(i.x, i.y, i.z, i.w)");
  const cb = copyElem(n.type, a.type, "s1", "da", "at_s1(k.x, k.y, k.z, k.w)");
  if (!ca || !cb) return null;
  const comp = ["x", "y", "z", "w"][dim];
  return elems(n, `concat:${dim}`, `
  let da = at_d(i.x, i.y, i.z, i.w);
  if (i.${comp} < ne_s0().${comp}) { ${ca} } else {
    var k = i; k.${comp} = i.${comp} - ne_s0().${comp};
    ${cb}
  }
`, [0, 1]);
};

const pad: KernelBuilder = (n) => {
  const p = n.params;
  return elems(n, "pad", `
  let lp = vec4<u32>(pu(0u), pu(1u), pu(2u), pu(3u));
  let ne = ne_s0();
  var v = 0.0;
  if (all(i >= lp) && all(i - lp < ne)) { let j = i - lp; v = get_s0(j.x, j.y, j.z, j.w); }
  st_d(at_d(i.x, i.y, i.z, i.w), v);
`, [0], [p.lp0, p.lp1, p.lp2, p.lp3]);
};

const repeat: KernelBuilder = (n) => {
  const c = copyElem(n.type, n.src[0].type, "s0", "at_d(i.x, i.y, i.z, i.w)", "at_s0(j.x, j.y, j.z, j.w)");
  if (!c) return null;
  return elems(n, "repeat", `  let j = i % ne_s0();\n  ${c}\n`, [0]);
};

const set: KernelBuilder = (n) => {
  const [a, b] = n.src;
  const esz = typeTraits(n.type).typeSize;
  if (esz !== 4) return null;
  const { nb1, nb2, nb3, offset } = n.params;
  const specs: KernelSpec[] = [];
  // In place, dst is a's storage already; otherwise copy a first (a separate dispatch orders the two).
  if (!n.params.inplace) specs.push(elems(n, "set:copy", `  let j = i;\n  ${copyElem(n.type, a.type, "s0", "at_d(i.x, i.y, i.z, i.w)", "at_s0(j.x, j.y, j.z, j.w)")}\n`, [0]));
  specs.push({
    key: "set:write", wg: 64, threads: b.nElements, bind: [1], ints: [nb1, nb2, nb3, offset],
    body: guard(count("s1")) + `
  let j = unravel(gid, ne_s1());
  let da = off_d() + pu(3u) + j.x * ${esz}u + j.y * pu(0u) + j.z * pu(1u) + j.w * pu(2u);
  sw_d(da >> 2u, rd_s1(at_s1(j.x, j.y, j.z, j.w) >> 2u));
`,
  });
  return specs;
};

const getRows: KernelBuilder = (n) => {
  const a = n.src[0];
  const tr = typeTraits(a.type);
  let c: string | null;
  if (a.type === GgmlType.I32) c = `sw_d(at_d(i.x, i.y, i.z, i.w) >> 2u, rd_s0(at_s0(i.x, r, i.z, i.w) >> 2u));`;
  else if (tr.blockSize > 1) c = READ_TYPES.has(a.type) ? `st_d(at_d(i.x, i.y, i.z, i.w), get_s0(i.x, r, i.z, i.w));` : null;
  else c = copyElem(GgmlType.F32, a.type, "s0", "at_d(i.x, i.y, i.z, i.w)", "at_s0(i.x, r, i.z, i.w)");
  if (!c) return null;
  return { ...elems(n, "get_rows", `
  let r = rd_s1(at_s1(i.y, i.z, i.w, 0u) >> 2u);
  let flat = r + ne_s0().y * (i.z + ne_s0().z * i.w);
  if (flat < pu(22u) || flat >= pu(23u)) { return; }
  ${c}
`, [0, 1]), rowChunked: true };
};

const setRows: KernelBuilder = (n) => {
  const [dst, src, idx] = n.src;
  // i64 indices: the low word (little-endian) holds any valid row.
  const rowIdx = `rd_s2(at_s2(j.y, j.z % ne_s2().y, j.w % ne_s2().z, 0u) >> 2u)`;
  const dtr = typeTraits(dst.type);
  if (dtr.blockSize > 1) {
    if (!QUANT_WRITE_TYPES.has(dst.type)) return null;
    const bs = dtr.blockSize;
    return { key: `set_rows_q:${dst.type}:${idx.type}`, wg: 64, threads: src.nElements / bs, bind: [1, 2], helpers: quantWriteFn(dst.type),
      body: guard(`${count("s1")} / ${bs}u`) + `
  let j = unravel(gid * ${bs}u, ne_s1());
  for (var k = 0u; k < ${bs}u; k++) { QX[k] = ld_s1(at_s1(j.x + k, j.y, j.z, j.w)); }
  let r = ${rowIdx};
  qw(at_d(j.x, r, j.z, j.w));
` };
  }
  const c = copyElem(dst.type, src.type, "s1", "at_d(j.x, r, j.z, j.w)", "at_s1(j.x, j.y, j.z, j.w)");
  if (!c) return null;
  return { key: `set_rows:${idx.type}`, wg: 64, threads: src.nElements, bind: [1, 2], body: guard(count("s1")) + `
  let j = unravel(gid, ne_s1());
  let r = ${rowIdx};
  ${c}
` };
};

export const copyKernels: Record<string, KernelBuilder> = {
  CPY: (n) => copyLogical(n, 0), CONT: (n) => copyLogical(n, 0), DUP: (n) => copyLogical(n, 0),
  CONCAT: concat, PAD: pad, REPEAT: repeat, SET: set, GET_ROWS: getRows, SET_ROWS: setRows,
};
