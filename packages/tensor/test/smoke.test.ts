import { describe, it, expect } from "vitest";
import { GgmlType, tensor, mulMat, add, softMax, ReferenceBackend, run, permute, cont, gatedDeltaNet } from "@ggts/tensor";

describe("reference backend smoke", () => {
  it("mulMat + add + softmax", async () => {
    const a = tensor(GgmlType.F32, [2, 3], [1, 2, 3, 4, 5, 6]);
    const b = tensor(GgmlType.F32, [2, 1], [1, 1]);
    const m = mulMat(a, b); // [3,1]
    const s = add(m, 1);
    const [mv, sv] = await run(new ReferenceBackend(), [m, softMax(s)]);
    expect(Array.from(mv)).toEqual([3, 7, 11]);
    const e = [4, 8, 12].map(Math.exp); const z = e.reduce((x, y) => x + y);
    sv.forEach((v, i) => expect(v).toBeCloseTo(e[i] / z, 6));
  });
  it("permute + cont", async () => {
    const a = tensor(GgmlType.F32, [2, 3], [1, 2, 3, 4, 5, 6]);
    const [v] = await run(new ReferenceBackend(), [cont(permute(a, 1, 0))]);
    expect(Array.from(v)).toEqual([1, 3, 5, 2, 4, 6]);
  });
  it("errors name the op and shapes", () => {
    const a = tensor(GgmlType.F32, [64, 3]); const b = tensor(GgmlType.F32, [32, 3]);
    expect(() => mulMat(a, b)).toThrow("mulMat: a.ne[0]=64 must equal b.ne[0]=32");
  });
});
