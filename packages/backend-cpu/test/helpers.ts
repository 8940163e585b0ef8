// Test helpers: record building for hand-made (and hand-corrupted) serialised graphs.
import { F, MAX_SRC, OP_NAMES, OP_PARAMS, REC, RF, contiguousStrides, type GgmlType, type OpName } from "@ggts/tensor";

export interface RecSpec {
  op: OpName;
  type: GgmlType;
  ne: number[];
  nb?: number[];
  buffer?: number;
  offset?: number;
  src?: number[];
  params?: number[];
  flags?: number;
}

export function records(specs: RecSpec[]): Float64Array {
  const out = new Float64Array(specs.length * REC);
  specs.forEach((s, i) => {
    const o = i * REC;
    const ne = [...s.ne, 1, 1, 1, 1].slice(0, 4) as [number, number, number, number];
    const nb = s.nb ?? contiguousStrides(s.type, ne);
    out[o + F.op] = OP_NAMES.indexOf(s.op);
    out[o + F.type] = s.type;
    for (let d = 0; d < 4; d++) { out[o + F.ne + d] = ne[d]; out[o + F.nb + d] = nb[d]; }
    out[o + F.buffer] = s.buffer ?? 0;
    out[o + F.offset] = s.offset ?? 0;
    out[o + F.flags] = s.flags ?? (s.op === "NONE" ? RF.leaf : 0);
    const src = s.src ?? [];
    out[o + F.nSrc] = src.length;
    for (let k = 0; k < MAX_SRC; k++) out[o + F.src + k] = k < src.length ? src[k] : -1;
    const np = (OP_PARAMS[s.op] as readonly string[]).length;
    out[o + F.nParams] = np;
    (s.params ?? []).forEach((v, k) => { out[o + F.params + k] = v; });
  });
  return out;
}
