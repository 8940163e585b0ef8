// The whole op case list against the reference backend, plus proof that the harness catches broken backends.
import { describe, it, expect } from "vitest";
import {
  ReferenceBackend, HostBuffer, runCases, allCases, OP_NAMES, VIEW_OPS, storageOf, supportSummary, compareNmse,
  compareTopK, readDense, writeDense, REF_KERNELS, type Graph, type Tensor, type Dense,
} from "@ggts/tensor";

/** A reference backend that damages the results of one op after computing them. */
class Damaging extends ReferenceBackend {
  constructor(private readonly op: string, private readonly damage: (bytes: Uint8Array, t: Tensor, offset: number) => void) { super(); }
  override async compute(graph: Graph): Promise<void> {
    await super.compute(graph);
    for (const n of graph.nodes) {
      if (n.op !== this.op) continue;
      const { buffer, offset } = storageOf(n);
      this.damage((buffer as HostBuffer).bytes, n, offset);
    }
  }
}

/** A reference backend whose kernel for one op is replaced by a plausible but wrong one. */
class WrongKernel extends ReferenceBackend {
  constructor(private readonly op: string, private readonly kernel: (n: Tensor, src: Dense[]) => Float64Array) { super(); }
  override async compute(graph: Graph): Promise<void> {
    await super.compute(graph);
    for (const n of graph.nodes) {
      if (n.op !== this.op) continue;
      const src = n.src.map((x) => { const { buffer, offset } = storageOf(x); return readDense(x, (buffer as HostBuffer).bytes, offset); });
      const { buffer, offset } = storageOf(n);
      writeDense(n, (buffer as HostBuffer).bytes, offset, this.kernel(n, src));
    }
  }
}

/** Batch broadcast by tiling (i mod A) instead of ggml's interleave (⌊i/(B/A)⌋). */
function mulMatTiled(n: Tensor, [a, b]: Dense[]): Float64Array {
  const out = new Float64Array(n.nElements);
  const [K, , A2, A3] = a.ne;
  let k = 0;
  for (let i3 = 0; i3 < n.ne[3]; i3++) for (let i2 = 0; i2 < n.ne[2]; i2++) for (let i1 = 0; i1 < n.ne[1]; i1++) for (let i0 = 0; i0 < n.ne[0]; i0++) {
    const ao = K * (i0 + a.ne[1] * ((i2 % A2) + A2 * (i3 % A3))), bo = K * (i1 + b.ne[1] * (i2 + b.ne[2] * i3));
    let acc = 0;
    for (let j = 0; j < K; j++) acc += a.v[ao + j] * b.v[bo + j];
    out[k++] = acc;
  }
  return out;
}

/** Upstream ggml's head mapping trap: value head h reads key head h mod H_k. */
function gdnTiledHeads(n: Tensor, [q, k, ...rest]: Dense[]): Float64Array {
  const [S, Hk, T, N] = q.ne, Hv = rest[0].ne[1];
  const tile = (x: Dense): Dense => {
    const v = new Float64Array(S * Hv * T * N);
    for (let i3 = 0; i3 < N; i3++) for (let t = 0; t < T; t++) for (let h = 0; h < Hv; h++) for (let d = 0; d < S; d++) {
      v[d + S * (h + Hv * (t + T * i3))] = x.v[d + S * ((h % Hk) + Hk * (t + T * i3))];
    }
    return { ne: [S, Hv, T, N], v };
  };
  return REF_KERNELS.GATED_DELTA_NET(n, [tile(q), tile(k), ...rest]);
}

class NoSoftMax extends ReferenceBackend {
  override supportsOp(n: Tensor): boolean { return n.op !== "SOFT_MAX" && super.supportsOp(n); }
}

describe("op cases on the reference backend", () => {
  it("every case passes against itself", async () => {
    const t0 = performance.now();
    const res = await runCases(new ReferenceBackend(), { mode: "test" });
    console.log(`${res.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const bad = res.filter((r) => r.status !== "OK").map((r) => `${r.name}: ${r.status} ${r.message}`);
    expect(bad).toEqual([]);
    expect(res.length).toBeGreaterThan(300);
  }, 600_000);

  it("every computing op has test cases, each with a threshold and a perf size", () => {
    const cases = allCases();
    const have = new Set(cases.filter((c) => c.only !== "perf").map((c) => c.op));
    expect(OP_NAMES.filter((o) => !VIEW_OPS.has(o) && !have.has(o))).toEqual([]);
    for (const c of cases) expect(c.maxNmse, c.vars).toBeGreaterThanOrEqual(0);
    const names = cases.map((c) => `${c.op}(${c.vars})`);
    expect(new Set(names).size).toBe(names.length); // names identify cases (seeds derive from them)
  });

  it("a wrong kernel fails with its NMSE", async () => {
    const be = new Damaging("ADD", (bytes, t, off) => {
      const f = new DataView(bytes.buffer, bytes.byteOffset);
      f.setFloat32(off, f.getFloat32(off, true) + 0.5, true);
    });
    const res = await runCases(be, { ops: ["ADD", "MUL"] });
    const add = res.filter((r) => r.op === "ADD"), mul = res.filter((r) => r.op === "MUL");
    expect(add.every((r) => r.status === "FAIL" && /NMSE/.test(r.message ?? ""))).toBe(true);
    expect(mul.every((r) => r.status === "OK")).toBe(true);
  });

  it("tile instead of interleave broadcast in MUL_MAT fails exactly the broadcasting cases", async () => {
    const res = await runCases(new WrongKernel("MUL_MAT", mulMatTiled), { ops: ["MUL_MAT"], pattern: /type_a=(f32|f16|q8_0),/ });
    const bcast = (v: string) => /bs=\[(\d+),(\d+)\],nr=\[(\d+),(\d+)\]/.exec(v);
    for (const r of res) {
      const m = bcast(r.vars);
      const broadcasts = !!m && (Number(m[3]) > 1 && Number(m[1]) > 1 || Number(m[4]) > 1 && Number(m[2]) > 1);
      expect(r.status, r.name).toBe(broadcasts ? "FAIL" : "OK");
    }
    expect(res.some((r) => r.status === "FAIL")).toBe(true);
  });

  it("GATED_DELTA_NET with ggml's tiled q/k head mapping fails the GVA cases", async () => {
    const res = await runCases(new WrongKernel("GATED_DELTA_NET", gdnTiledHeads), { ops: ["GATED_DELTA_NET"], pattern: /head_size=(32|64),n_seq_tokens=[1-9],/ });
    for (const r of res) expect(r.status, r.name).toBe(/v_repeat=2/.test(r.vars) ? "FAIL" : "OK");
    expect(res.filter((r) => r.status === "FAIL").length).toBeGreaterThan(0);
  });

  it("a NaN fails", async () => {
    const be = new Damaging("SOFT_MAX", (bytes, _t, off) => new DataView(bytes.buffer, bytes.byteOffset).setFloat32(off + 4, NaN, true));
    const res = await runCases(be, { ops: ["SOFT_MAX"], pattern: /ne=\[16,2,3,1\]/ });
    expect(res.length).toBe(1);
    expect(res[0].status).toBe("FAIL");
    expect(res[0].message).toMatch(/NaN/);
  });

  it("a write outside the tensor trips the sentinels", async () => {
    const be = new Damaging("SCALE", (bytes, t, off) => { bytes[off + t.nBytes + 3] ^= 0x5a; });
    const res = await runCases(be, { ops: ["SCALE"] });
    expect(res.length).toBeGreaterThan(0);
    for (const r of res) {
      expect(r.status).toBe("FAIL");
      expect(r.message).toMatch(/sentinel/);
    }
  });

  it("an unsupported op is skipped, and support mode reports it", async () => {
    const be = new NoSoftMax();
    const res = await runCases(be, { ops: ["SOFT_MAX", "TOP_K"] });
    expect(res.filter((r) => r.op === "SOFT_MAX").every((r) => r.status === "SKIP")).toBe(true);
    expect(res.filter((r) => r.op === "TOP_K").every((r) => r.status === "OK")).toBe(true);
    const sup = supportSummary(await runCases(be, { mode: "support", ops: ["SOFT_MAX", "TOP_K"] }));
    expect(sup.get("SOFT_MAX")).toBe("no");
    expect(sup.get("TOP_K")).toBe("yes");
  });

  it("comparisons: inf signs, TOP_K sets", () => {
    expect(compareNmse([1, Infinity], [1, Infinity], 0).ok).toBe(true);
    expect(compareNmse([1, Infinity], [1, -Infinity], 1).ok).toBe(false);
    expect(compareNmse([1, 2], [1, 2.1], 1e-7).ok).toBe(false);
    expect(compareTopK([3, 1, 2, 0], [1, 3, 0, 2], 2).ok).toBe(true);
    expect(compareTopK([3, 1], [1, 2], 2).ok).toBe(false);
  });

  it("perf mode times a case and reports throughput", async () => {
    const res = await runCases(new ReferenceBackend(), { mode: "perf", pattern: /^(MUL_MAT\(type_a=f32,type_b=f32,m=16,n=1,k=256|ADD\(type=f32,ne=\[10,5,4,3\],ne_b=\[10,5,4,3\])/, quick: 50, targetFlops: 1e6, targetBytes: 1e6 });
    expect(res.length).toBe(2);
    for (const r of res) { expect(r.status).toBe("OK"); expect(r.usPerRun).toBeGreaterThan(0); expect(r.copies).toBeGreaterThan(1); }
    expect(res.find((r) => r.op === "MUL_MAT")!.gflops).toBeGreaterThan(0);
    expect(res.find((r) => r.op === "ADD")!.gbps).toBeGreaterThan(0);
  });
});
