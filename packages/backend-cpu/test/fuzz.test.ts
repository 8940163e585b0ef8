// Randomly corrupted serialised graphs: every run must either succeed or reject with an Error; a crash kills
// the test worker and fails the file. GGTS_FUZZ_N / GGTS_FUZZ_SEED widen the search, GGTS_FUZZ_LOG prints each
// mutation (to find the one that crashed).
import { describe, expect, it } from "vitest";
import {
  F, GgmlType, Graph, REC, add, argsort, concat, cpy, cumsum, diag, flashAttnExt, gatedDeltaNet, getRows, glu, mul,
  mulMat, mulMatId, outProd, padExt, permute, repeat, rmsNorm, rope, serializeGraph, set, setRows, softMax, solveTri,
  ssmConv, sumRows, tensor, topK, tri, Rng, type Tensor,
} from "@ggts/tensor";
import { CpuBackend, CpuBuffer, addonLoadError } from "@ggts/backend-cpu";

const reason = addonLoadError();

function buildGraph(): Tensor[] {
  const r = new Rng(7);
  const f = (shape: number[]) => tensor(GgmlType.F32, shape, Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r.uniform(-1, 1)));
  const x = f([32, 4]);
  const w = f([32, 16]);
  const h = mulMat(w, rmsNorm(x, 1e-6));
  const s = softMax(mul(h, f([16, 1])), { scale: 0.5 });
  const q = f([8, 3, 2]), k = f([8, 5, 2]), v = f([8, 5, 2]);
  const att = flashAttnExt(q, k, v, { scale: 0.3 });
  const pos = tensor(GgmlType.I32, [3], Int32Array.of(0, 1, 2));
  const ro = rope(permute(f([8, 3, 2]), 0, 2, 1, 3), pos, { nDims: 8 });
  const cache = tensor(GgmlType.F16, [16, 6], new Uint16Array(96));
  const idx = tensor(GgmlType.I32, [4], Int32Array.of(5, 0, 2, 3));
  const sr = setRows(cache, s, idx);
  const gr = getRows(cache, tensor(GgmlType.I32, [2], Int32Array.of(1, 5)));
  const gd = gatedDeltaNet(f([8, 1, 3, 1]), f([8, 1, 3, 1]), f([8, 2, 3, 1]), f([1, 2, 3, 1]), f([1, 2, 3, 1]), f([8, 8, 2, 1]));
  const c = concat(att, f([8, 2, 1, 1]), 2);
  const q8 = cpy(f([32, 6]), tensor(GgmlType.Q8_0, [32, 6]));
  const gq = getRows(q8, tensor(GgmlType.I32, [3], Int32Array.of(5, 1, 0)));
  const moe = mulMatId(f([32, 8, 4]), f([32, 2, 3]), tensor(GgmlType.I32, [2, 3], Int32Array.of(0, 3, 1, 2, 3, 0)));
  const st = set(f([8, 6]), f([3, 2]), 32, 192, 192, 8);
  const lower = tri(add(f([6, 6, 2]), repeat(f([1, 1, 1]), [6, 6, 2])), 2);
  const solved = solveTri(add(lower, diag(f([6, 1, 2], 1, 2))), f([3, 6, 2]));
  const conv = ssmConv(f([9, 5, 2]), f([4, 5]));
  const misc = [argsort(f([7, 3])), topK(f([9, 2]), 3), cumsum(f([5, 4])), sumRows(padExt(f([4, 3]), 1, 2, 0, 1)),
    glu(f([8, 3]), 2), outProd(f([5, 4]), f([6, 4]))];
  return [s, sr, gr, ro, gd.node, c, add(cpy(cpy(h, tensor(GgmlType.F16, [16, 4])), tensor(GgmlType.F32, [16, 4])), h),
    gq, moe, st, solved, conv, ...misc];
}

describe.skipIf(reason !== null)("cpu backend: fuzzed records", () => {
  it("never crashes on corrupted graphs", async () => {
    const N = Number(process.env.GGTS_FUZZ_N ?? 400);
    const be = new CpuBackend({ threads: 2 });
    try {
      const outs = buildGraph();
      const g = new Graph(outs);
      await be.compute(g);
      const bufs: CpuBuffer[] = [];
      const ser = serializeGraph(g, (root) => {
        const b = root.buffer as CpuBuffer;
        let i = bufs.indexOf(b);
        if (i < 0) { i = bufs.length; bufs.push(b); }
        return [i, root.offset];
      });
      const handles = bufs.map((b) => b.handle);
      const ctx = be.addon.createContext(2);
      const rng = new Rng(Number(process.env.GGTS_FUZZ_SEED ?? 1234));
      const fields = [F.op, F.type, F.ne, F.ne + 1, F.ne + 2, F.nb, F.nb + 1, F.nb + 2, F.offset, F.nSrc, F.src, F.src + 1, F.src + 2, F.params, F.params + 1];
      let ok = 0, rejected = 0;
      for (let it = 0; it < N; it++) {
        const rec = ser.records.slice();
        const nMut = 1 + Math.floor(rng.uniform(0, 3));
        for (let m = 0; m < nMut; m++) {
          const ri = Math.floor(rng.uniform(0, ser.count));
          const fi = fields[Math.floor(rng.uniform(0, fields.length))];
          const cur = rec[ri * REC + fi];
          const choices = [0, 1, -1, cur + 1, cur - 1, cur * 2, cur * 1000, 2 ** 31, 2 ** 40, 3, 64, NaN, Infinity, Math.floor(rng.uniform(0, 70))];
          rec[ri * REC + fi] = choices[Math.floor(rng.uniform(0, choices.length))];
          if (process.env.GGTS_FUZZ_LOG) console.log(`mut rec ${ri} ${ser.tensors[ri]} field ${fi}: ${cur} -> ${rec[ri * REC + fi]}`);
        }
        if (process.env.GGTS_FUZZ_LOG) console.log(it, Date.now());
        try { await be.addon.compute(ctx, rec, ser.count, handles); ok++; } catch (e) {
          expect(e).toBeInstanceOf(Error);
          rejected++;
        }
      }
      be.addon.destroyContext(ctx);
      expect(ok + rejected).toBe(N);
      expect(rejected).toBeGreaterThan(100);
    } finally {
      be.dispose();
    }
  }, 120_000);
});
