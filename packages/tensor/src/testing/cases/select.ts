// Selection cases: ARGSORT (exact, distinct values) and TOP_K (index sets, order-free).
import { GgmlType } from "../../types.js";
import { argsort, topK } from "../../ops/select.js";
import { SortOrder } from "../../ops/spec.js";
import { defineCase, type OpCase } from "../case.js";
import { distinctRows } from "../init.js";
import { permutedInput } from "./util.js";

const F32 = GgmlType.F32;

export function selectCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const order of [SortOrder.ASC, SortOrder.DESC]) for (const ne of [[8, 1, 1, 1], [16, 10, 2, 1], [60, 10, 1, 1], [1023, 2, 1, 1]]) {
    out.push(defineCase("ARGSORT", { type: "f32", ne, order: order === SortOrder.ASC ? "asc" : "desc" }, 0,
      (b) => argsort(b.input(F32, ne, distinctRows()), order)));
  }
  out.push(defineCase("ARGSORT", { type: "f32", ne: [16, 10, 2, 1], order: "desc", permute: [0, 2, 1, 3] }, 0,
    (b) => argsort(permutedInput(b, F32, [16, 10, 2, 1], [0, 2, 1, 3], distinctRows()), SortOrder.DESC)));
  for (const [n, k] of [[16, 1], [64, 4], [64, 16], [256, 8], [512, 512]]) {
    out.push(defineCase("TOP_K", { type: "f32", ne: [n, 10, 1, 1], k }, 0,
      (b) => topK(b.input(F32, [n, 10], distinctRows()), k), { compare: "topk" }));
  }
  out.push(defineCase("TOP_K", { type: "f32", ne: [32, 5, 3, 1], k: 6, permute: [0, 2, 1, 3] }, 0,
    (b) => topK(permutedInput(b, F32, [32, 5, 3, 1], [0, 2, 1, 3], distinctRows()), 6), { compare: "topk" }));
  return out;
}
