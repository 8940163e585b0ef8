// In-shader quantisation of one 32-element block (QX) into the destination at byte address ba, matching the
// reference quantizers (ggml's *_ref). Bytes go through atomic read-modify-write since blocks share words.
import { GgmlType } from "@ggts/tensor";

export const QUANT_WRITE_TYPES: ReadonlySet<GgmlType> = new Set([
  GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_1, GgmlType.Q5_1, GgmlType.IQ4_NL,
]);

// IQ4_NL: ggml's quantize_row_iq4_nl_impl without imatrix (weights x², 15 trial scales, least-squares refit).
const IQ4_NL_WRITE = `
fn best_index(x: f32) -> u32 {
  if (x <= -127.0) { return 0u; }
  if (x >= 113.0) { return 15u; }
  var ml = 0u; var mu = 15u;
  while (mu - ml > 1u) { let mav = (ml + mu) >> 1u; if (x < KVALS[mav]) { mu = mav; } else { ml = mav; } }
  if (x - KVALS[mu - 1u] < KVALS[mu] - x) { return mu - 1u; }
  return mu;
}
fn qw(ba: u32) {
  var amax = 0.0; var mx = 0.0;
  for (var j = 0u; j < 32u; j++) { let ax = abs(QX[j]); if (ax > amax) { amax = ax; mx = QX[j]; } }
  var d = 0.0;
  if (amax >= 1e-15) {
    d = -mx / KVALS[0];
    var id = 1.0 / d;
    var sumqx = 0.0; var sumq2 = 0.0;
    for (var j = 0u; j < 32u; j++) {
      let q = KVALS[best_index(id * QX[j])]; let w = QX[j] * QX[j];
      sumqx += w * q * QX[j]; sumq2 += w * q * q;
    }
    d = select(0.0, sumqx / sumq2, sumq2 > 0.0);
    var best = d * sumqx;
    for (var itry = -7; itry <= 7; itry++) {
      id = (f32(itry) + KVALS[0]) / mx;
      sumqx = 0.0; sumq2 = 0.0;
      for (var j = 0u; j < 32u; j++) {
        let q = KVALS[best_index(id * QX[j])]; let w = QX[j] * QX[j];
        sumqx += w * q * QX[j]; sumq2 += w * q * q;
      }
      if (sumq2 > 0.0 && sumqx * sumqx > best * sumq2) { d = sumqx / sumq2; best = d * sumqx; }
    }
  }
  put16(ba, f16b(d));
  var id2 = 0.0; if (d != 0.0) { id2 = 1.0 / d; }
  for (var j = 0u; j < 16u; j++) {
    var l0 = 0u; var l1 = 0u;
    if (amax >= 1e-15) { l0 = best_index(id2 * QX[j]); l1 = best_index(id2 * QX[j + 16u]); }
    sb_d(ba + 2u + j, l0 | (l1 << 4u));
  }
}
`;

const common = `
var<private> QX: array<f32, 32>;
fn f16b(v: f32) -> u32 { return pack2x16float(vec2<f32>(v, 0.0)) & 65535u; }
fn f16r(v: f32) -> f32 { return unpack2x16float(f16b(v)).x; }
fn rnd_away(x: f32) -> f32 { return sign(x) * floor(abs(x) + 0.5); }
fn put16(a: u32, v: u32) { sb_d(a, v & 255u); sb_d(a + 1u, v >> 8u); }
fn put32(a: u32, v: u32) { put16(a, v & 65535u); put16(a + 2u, v >> 16u); }
`;

export function quantWriteFn(type: GgmlType): string {
  switch (type) {
    case GgmlType.Q8_0: return common + `
fn qw(ba: u32) {
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) { amax = max(amax, abs(QX[j])); }
  let d = amax / 127.0;
  var id = 0.0; if (d != 0.0) { id = 1.0 / d; }
  put16(ba, f16b(d));
  for (var j = 0u; j < 32u; j++) { sb_d(ba + 2u + j, u32(i32(rnd_away(QX[j] * id))) & 255u); }
}
`;
    case GgmlType.Q4_0: case GgmlType.Q5_0: {
      const five = type === GgmlType.Q5_0;
      const half = five ? 16 : 8, top = five ? 31 : 15, qs = five ? 6 : 2;
      return common + `
fn qw(ba: u32) {
  var amax = 0.0; var mx = 0.0;
  for (var j = 0u; j < 32u; j++) { if (amax < abs(QX[j])) { amax = abs(QX[j]); mx = QX[j]; } }
  let d = mx / -${half}.0;
  var id = 0.0; if (d != 0.0) { id = 1.0 / d; }
  put16(ba, f16b(d));
  var qh = 0u;
  for (var j = 0u; j < 16u; j++) {
    let q0 = min(${top}u, u32(trunc(QX[j] * id + ${half}.5)));
    let q1 = min(${top}u, u32(trunc(QX[j + 16u] * id + ${half}.5)));
    sb_d(ba + ${qs}u + j, (q0 & 15u) | ((q1 & 15u) << 4u));
    qh |= ((q0 >> 4u) & 1u) << j;
    qh |= ((q1 >> 4u) & 1u) << (j + 16u);
  }
  ${five ? "put32(ba + 2u, qh);" : ""}
}
`;
    }
    case GgmlType.Q4_1: case GgmlType.Q5_1: {
      const five = type === GgmlType.Q5_1;
      const qs = five ? 8 : 4;
      return common + `
fn qw(ba: u32) {
  var mn = QX[0]; var mx = QX[0];
  for (var j = 1u; j < 32u; j++) { mn = min(mn, QX[j]); mx = max(mx, QX[j]); }
  let d = (mx - mn) / ${five ? 31 : 15}.0;
  var id = 0.0; if (d != 0.0) { id = 1.0 / d; }
  put16(ba, f16b(d));
  put16(ba + 2u, f16b(mn));
  var qh = 0u;
  for (var j = 0u; j < 16u; j++) {
    var q0 = u32(trunc((QX[j] - mn) * id + 0.5));
    var q1 = u32(trunc((QX[j + 16u] - mn) * id + 0.5));
    ${five ? "q0 = q0 & 255u; q1 = q1 & 255u;" : "q0 = min(15u, q0); q1 = min(15u, q1);"}
    sb_d(ba + ${qs}u + j, (q0 & 15u) | ((q1 & 15u) << 4u));
    qh |= ((q0 >> 4u) & 1u) << j;
    qh |= ((q1 >> 4u) & 1u) << (j + 16u);
  }
  ${five ? "put32(ba + 4u, qh);" : ""}
}
`;
    }
    case GgmlType.IQ4_NL: return common + IQ4_NL_WRITE;
    default: throw new Error(`webgpu: no in-shader quantisation for type ${type}`);
  }
}
