// Reduction and normalisation cases: SUM, SUM_ROWS, MEAN, ARGMAX, COUNT_EQUAL, CUMSUM, RMS_NORM, NORM, L2_NORM.
import { GgmlType } from "../../types.js";
import { sum, sumRows, mean, argmax, countEqual, cumsum, rmsNorm, norm, l2Norm } from "../../ops/reduce.js";
import { defineCase, type OpCase } from "../case.js";
import { distinctRows, indices } from "../init.js";
import { permutedInput, NO_PERM, type Perm } from "./util.js";

const F32 = GgmlType.F32;
const PERMS: Perm[] = [NO_PERM, [0, 2, 1, 3]];

export function reduceCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const p of PERMS) {
    const ne = [10, 5, 4, 3];
    out.push(defineCase("SUM", { type: "f32", ne, permute: p }, 1e-7, (b) => sum(permutedInput(b, F32, ne, p))));
    out.push(defineCase("SUM_ROWS", { type: "f32", ne, permute: p }, 1e-7, (b) => sumRows(permutedInput(b, F32, ne, p))));
    out.push(defineCase("MEAN", { type: "f32", ne, permute: p }, 1e-7, (b) => mean(permutedInput(b, F32, ne, p))));
  }
  out.push(defineCase("SUM_ROWS", { type: "f32", ne: [1025, 33, 1, 1] }, 1e-7, (b) => sumRows(b.input(F32, [1025, 33]))));
  for (const ne of [[32, 10], [100, 7], [1025, 3]]) {
    out.push(defineCase("ARGMAX", { type: "f32", ne }, 0, (b) => argmax(b.input(F32, ne, distinctRows()))));
  }
  for (const ne of [[4, 500, 1, 1], [33, 7, 3, 2]]) {
    out.push(defineCase("COUNT_EQUAL", { type: "i32", ne }, 0,
      (b) => countEqual(b.input(GgmlType.I32, ne, indices(3)), b.input(GgmlType.I32, ne, indices(3)))));
  }
  for (const n of [10, 127, 128, 255, 256, 511, 512, 1023, 1024, 2047, 2048]) {
    out.push(defineCase("CUMSUM", { type: "f32", ne: [n, 5, 2, 1] }, 1e-7, (b) => cumsum(b.input(F32, [n, 5, 2, 1]))));
  }
  out.push(defineCase("CUMSUM", { type: "f32", ne: [64, 5, 4, 3], permute: [0, 2, 1, 3] }, 1e-7,
    (b) => cumsum(permutedInput(b, F32, [64, 5, 4, 3], [0, 2, 1, 3]))));
  for (const n of [20481, 201 * 1204, 312 * 1205]) {
    out.push(defineCase("CUMSUM", { type: "f32", ne: [n, 4, 1, 1], size: "perf" }, 1e-7,
      (b) => cumsum(b.input(F32, [n, 4])), { only: "perf" }));
  }
  for (const [op, f] of [["RMS_NORM", rmsNorm], ["NORM", norm]] as const) {
    for (const p of PERMS) for (const eps of [1e-6, 1e-5]) {
      const ne = [64, 5, 4, 3];
      out.push(defineCase(op, { type: "f32", ne, eps, permute: p }, 1e-7, (b) => f(permutedInput(b, F32, ne, p), eps)));
    }
    out.push(defineCase(op, { type: "f32", ne: [4096, 512, 1, 1], eps: 1e-6, size: "perf" }, 1e-7,
      (b) => f(b.input(F32, [4096, 512]), 1e-6), { only: "perf" }));
  }
  for (const n of [64, 1025]) for (const eps of [0, 1e-6, 1e-4, 0.1]) for (const p of PERMS) {
    const ne = [n, 5, 4, 3];
    out.push(defineCase("L2_NORM", { type: "f32", ne, eps, permute: p }, 1e-7, (b) => l2Norm(permutedInput(b, F32, ne, p), eps)));
  }
  return out;
}
