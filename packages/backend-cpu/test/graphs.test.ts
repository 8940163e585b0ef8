// Multi-node graphs: in-place aliasing chosen by the planner, thread-count independence, reuse across runs.
import { describe, expect, it } from "vitest";
import {
  GgmlType, Graph, ReferenceBackend, Rng, add, concat, cont, cpy, gatedDeltaNet, getRows, l2Norm, mulMat, permute,
  planMemory, repeat, setHostData, rmsNorm, rope, run, scale, set, silu, softMax, softplus, sqr, tensor, transpose,
  type Tensor,
} from "@ggts/tensor";
import { CpuBackend, addonLoadError } from "@ggts/backend-cpu";

const reason = addonLoadError();

function nmse(ref: Float32Array, got: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < ref.length; i++) { num += (ref[i] - got[i]) ** 2; den += ref[i] ** 2; }
  return num / Math.max(den, 1e-30);
}

const rnd = (rng: Rng, shape: number[], lo = -1, hi = 1) =>
  tensor(GgmlType.F32, shape, Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.uniform(lo, hi)));

/** A small transformer-ish chain where most ops can run in place. */
function chain(rng: Rng): Tensor[] {
  const x = rnd(rng, [64, 3, 5]);
  const w = rnd(rng, [64, 64]);
  const pos = tensor(GgmlType.I32, [5], Int32Array.of(0, 1, 2, 7, 100));
  let h = mulMat(w, rmsNorm(x, 1e-5));
  h = silu(scale(h, 0.5, 0.1));
  h = add(h, rnd(rng, [64, 1, 1]));
  h = rope(h, pos, { nDims: 32, mode: 2 });
  h = softMax(sqr(h), { scale: 0.25 });
  return [h];
}

describe.skipIf(reason !== null)("cpu backend: graphs", () => {
  it("vectorised SOFTPLUS matches log1p(exp(x)) from -inf to +inf, NaN kept", async () => {
    const xs = [-Infinity, -100, -30, -20, -10, -1, -1e-3, -0, 0, 1e-6, 0.5, 1, 10, 19.9, 20.1, 30, 88, 1e30, Infinity, NaN, -0.3, 7];
    const be = new CpuBackend({ threads: 1 });
    try {
      const [y] = await run(be, [softplus(tensor(GgmlType.F32, [xs.length], Float32Array.from(xs)))]);
      xs.forEach((x, i) => {
        const want = Number.isNaN(x) ? NaN : x > 20 ? x : Math.log1p(Math.exp(x));
        if (Number.isNaN(want)) expect(y[i]).toBeNaN();
        else if (!Number.isFinite(want) || want > 1e20) expect(y[i]).toBe(Math.fround(want));  // +inf, 1e30
        else if (want < 1e-37) expect(y[i] >= 0 && y[i] < 1e-37, `softplus(${x}) = ${y[i]}`).toBe(true);  // -inf, -100
        else expect(Math.abs(y[i] - want) / want, `softplus(${x}) = ${y[i]}, want ${want}`).toBeLessThan(2e-7);
      });
    } finally { be.dispose(); }
  });

  it("runs in-place chains like the reference", async () => {
    const outsCpu = chain(new Rng(3)), outsRef = chain(new Rng(3));
    const plan = planMemory(new Graph(outsCpu), () => true);
    expect(plan.inplace.size).toBeGreaterThan(2);
    const be = new CpuBackend({ threads: 2 });
    try {
      const [a] = await run(be, outsCpu);
      const [b] = await run(new ReferenceBackend(), outsRef);
      expect(nmse(b, a)).toBeLessThan(1e-9);
    } finally { be.dispose(); }
  });

  it("gives bit-identical GATED_DELTA_NET results for 1, 2 and 5 threads (long T, per-channel gate, strided q/k)", async () => {
    const build = () => {
      const rng = new Rng(11);
      const S = 64, Hk = 2, Hv = 4, T = 24, N = 2;
      const q = permute(l2Norm(rnd(rng, [S, T, Hk, N]), 1e-6), 0, 2, 1, 3);
      const k = permute(l2Norm(rnd(rng, [S, T, Hk, N]), 1e-6), 0, 2, 1, 3);
      const v = rnd(rng, [S, Hv, T, N]);
      const g = rnd(rng, [S, Hv, T, N], -3, -0.01);
      const beta = rnd(rng, [1, Hv, T, N], 0, 1);
      const st = rnd(rng, [S, S, Hv, N], -0.1, 0.1);
      const r = gatedDeltaNet(q, k, v, g, beta, st);
      return [r.output, r.state];
    };
    const results: Float32Array[][] = [];
    for (const threads of [1, 2, 5]) {
      const be = new CpuBackend({ threads, splitMinNs: 0 });
      try { results.push(await run(be, build())); } finally { be.dispose(); }
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    const ref = await run(new ReferenceBackend(), build());
    expect(nmse(ref[0], results[0][0])).toBeLessThan(1e-8);
    expect(nmse(ref[1], results[0][1])).toBeLessThan(1e-8);
  });

  it("reuses the arena across different graphs and keeps bound weights", async () => {
    const be = new CpuBackend({ threads: 2 });
    try {
      const rng = new Rng(5);
      const w = rnd(rng, [16, 8]);
      const wb = be.allocBuffer(w.nBytes);
      be.bind(w, wb, 0);
      await be.setTensor(w, w.data!);
      for (let n = 1; n < 6; n++) {
        const x = rnd(rng, [16, n]);
        const [y] = await run(be, [mulMat(w, x)]);
        const [r] = await run(new ReferenceBackend(), [mulMat(tensor(GgmlType.F32, [16, 8], w.data as Float32Array), tensor(GgmlType.F32, [16, n], x.data as Float32Array))]);
        expect(nmse(r, y)).toBeLessThan(1e-10);
      }
      wb.free();
    } finally { be.dispose(); }
  });

  it("recomputes the same Graph object correctly when it is reused, interleaved with other graphs, or rebound", async () => {
    const be = new CpuBackend({ threads: 2 });
    try {
      const rng = new Rng(11);
      const w = rnd(rng, [32, 16]), x = rnd(rng, [32, 3]);
      const y = silu(mulMat(w, x));
      const g = new Graph([y]);
      const ref = new ReferenceBackend();
      const expected = (await run(ref, [silu(mulMat(tensor(GgmlType.F32, [32, 16], w.data!), tensor(GgmlType.F32, [32, 3], x.data!)))]))[0];
      const read = async (t: Tensor) => new Float32Array((await be.getTensor(t)).slice().buffer);
      await be.compute(g);
      expect(nmse(expected, await read(y))).toBeLessThan(1e-12);
      await be.compute(g);  // reused records
      expect(nmse(expected, await read(y))).toBeLessThan(1e-12);
      // another graph sharing the leaf x moves arena placements; the first graph must still be right
      const z = add(sqr(x), rnd(rng, [32, 3]));
      const other = await run(be, [z]);
      expect(other[0].length).toBe(96);
      await be.compute(g);
      expect(nmse(expected, await read(y))).toBeLessThan(1e-12);
      // new input values in a leaf with host data are uploaded again on reuse
      const x2 = Float32Array.from({ length: 96 }, () => rng.uniform(-1, 1));
      setHostData(x, x2);
      await be.compute(g);
      const expected2 = (await run(ref, [silu(mulMat(tensor(GgmlType.F32, [32, 16], w.data!), tensor(GgmlType.F32, [32, 3], x2)))]))[0];
      expect(nmse(expected2, await read(y))).toBeLessThan(1e-12);
    } finally { be.dispose(); }
  });

  it("reports device info and registers the cpu factory", async () => {
    const { backendFactories, createBackend } = await import("@ggts/tensor");
    const f = backendFactories().find((x) => x.name === "cpu");
    expect(f?.priority).toBe(100);
    expect(await f!.available()).toEqual({ ok: true });
    const be = await createBackend("cpu", { threads: 1 });
    const info = be.deviceInfo();
    expect(info.name).toBe("cpu");
    expect(info.threads).toBe(1);
    be.dispose();
    expect(() => new CpuBackend({ threads: 0 })).toThrow(/threads/);
    expect(() => new CpuBackend({ threads: 2, splitMinNs: -1 })).toThrow(/splitMinNs/);
  });

  // Small nodes run on thread 0 alone between split ones: results and data errors must not depend on that.
  it("mixes single-thread steps and split nodes (default splitMinNs) like the reference", async () => {
    const build = (): Tensor[] => {
      const rng = new Rng(21);
      let h = rnd(rng, [256, 64]);
      const w = rnd(rng, [256, 256]);
      const outs: Tensor[] = [];
      for (let i = 0; i < 3; i++) {
        h = mulMat(w, h);                                   // ~4 M MACs: split
        let s = scale(h, 0.01);
        for (let k = 0; k < 5; k++) s = add(silu(s), rnd(rng, [256, 1]));   // small: one thread
        outs.push(getRows(s, tensor(GgmlType.I32, [2], Int32Array.of(3, 60))));
        h = rmsNorm(s, 1e-6);
      }
      return [...outs, h];
    };
    const be = new CpuBackend({ threads: 2 });
    try {
      const got = await run(be, build());
      const ref = await run(new ReferenceBackend(), build());
      got.forEach((g, i) => expect(nmse(ref[i], g)).toBeLessThan(1e-9));
      const rng = new Rng(2);
      const big = mulMat(rnd(rng, [256, 256]), rnd(rng, [256, 64]));
      const bad = getRows(add(big, big), tensor(GgmlType.I32, [1], Int32Array.of(99))).setName("bad");
      await expect(run(be, [sqr(bad)])).rejects.toThrow(/bad.*index 99 out of range/);
      const [again] = await run(be, [scale(tensor(GgmlType.F32, [4], Float32Array.of(1, 2, 3, 4)), 2)]);
      expect(Array.from(again)).toEqual([2, 4, 6, 8]);
    } finally { be.dispose(); }
  });

  it("matches the reference on layout corner cases (in-place SET, reshaping quantized copies, int tensors)", async () => {
    const build = (): Tensor[] => {
      const rng = new Rng(9);
      const a = rnd(rng, [8, 6]);
      const b = rnd(rng, [3, 2]);
      const setIn = set(scale(a, 1), b, 32, 192, 192, 8, true);
      const q = cpy(rnd(rng, [64, 4], -100, 100), tensor(GgmlType.Q8_0, [64, 4]));
      const qr = cpy(q, tensor(GgmlType.Q8_0, [128, 2]));          // same quantized type, new shape
      const qf = cpy(qr, tensor(GgmlType.F32, [32, 8]));             // dequantizing reshape
      const h = cpy(transpose(rnd(rng, [8, 32])), tensor(GgmlType.F16, [32, 8]));
      const q4 = cpy(permute(cont(h), 1, 0, 2, 3), tensor(GgmlType.Q4_0, [32, 8]));
      const ints = tensor(GgmlType.I32, [3, 4], Int32Array.from({ length: 12 }, (_, i) => i * 7 - 20));
      const ci = concat(ints, ints, 1);
      const gi = getRows(ci, tensor(GgmlType.I32, [3], Int32Array.of(7, 0, 3)));
      const rh = repeat(h, [64, 16]);
      return [setIn, qf, q4, gi, rh];
    };
    const be = new CpuBackend({ threads: 2 });
    try {
      const got = await run(be, build());
      const ref = await run(new ReferenceBackend(), build());
      got.forEach((g, i) => expect(nmse(ref[i], g)).toBeLessThan(1e-12));
    } finally { be.dispose(); }
  });
});
