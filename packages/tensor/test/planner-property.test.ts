// Property tests of the memory planner on random graphs, and a decode of the serialised records.
import { describe, it, expect } from "vitest";
import {
  GgmlType, tensor, Graph, planMemory, serializeGraph, REC, F, RF, OP_NAMES, OP_PARAMS, VIEW_OPS, Rng, add, mul,
  scale, exp, silu, mulMat, cont, transpose, reshape, view, permute, concat, softMax, rmsNorm, sumRows, cpy, ReferenceBackend,
  readF32, type Tensor, type OpName,
} from "@ggts/tensor";

const F32 = GgmlType.F32;

/** A random DAG of 2-D f32 tensors mixing in-place-capable ops, products, views and copies. */
function randomGraph(seed: number) {
  const rng = new Rng(seed);
  const dims = [4, 8, 12];
  const pick = <T>(xs: readonly T[]) => xs[rng.int(xs.length)];
  const leaves: Tensor[] = [];
  const pool: Tensor[] = [];
  const nLeaves = 2 + rng.int(4);
  for (let i = 0; i < nLeaves; i++) {
    const ne = [pick(dims), pick(dims)];
    const t = tensor(F32, ne, Float32Array.from({ length: ne[0] * ne[1] }, () => rng.uniform(-1, 1)));
    leaves.push(t); pool.push(t);
  }
  const nOps = 10 + rng.int(30);
  for (let i = 0; i < nOps; i++) {
    const a = pick(pool.slice(-8));
    const same = pool.filter((t) => t.ne.every((v, d) => v === a.ne[d]));
    let r: Tensor;
    switch (rng.int(12)) {
      case 0: r = add(a, pick(same)); break;
      case 1: r = mul(a, pick(same)); break;
      case 2: r = scale(a, rng.uniform(-2, 2), 0.5); break;
      case 3: r = exp(scale(a, 0.1)); break;
      case 4: r = silu(a); break;
      case 5: { const b = pool.filter((t) => t.ne[0] === a.ne[0]); r = mulMat(a, pick(b)); break; }
      case 6: r = cont(transpose(a)); break;
      case 7: r = add(reshape(cont(a), [a.ne[1], a.ne[0]]), scale(cont(transpose(a)), 1)); break;
      case 8: r = softMax(a, { scale: 0.5 }); break;
      case 9: r = rmsNorm(add(a, a), 1e-5); break;
      case 10: r = concat(a, view(a, [a.ne[0], 1], [a.nb[1]], 0), 1); break;
      default: {
        // A copy into a fresh leaf, read back through a permuted view.
        const dst = tensor(F32, [a.ne[0], a.ne[1]]);
        r = scale(cont(permute(cpy(a, dst), 1, 0, 2, 3)), 1);
        leaves.push(dst);
      }
    }
    pool.push(r);
  }
  const outs = [pool[pool.length - 1]];
  for (let i = 0; i < rng.int(3); i++) outs.push(sumRows(pick(pool.slice(nLeaves))));
  return { outputs: [...new Set(outs)], leaves };
}

/** Independent liveness: [first step, last step] of every storage root (leaves from -1, outputs to the end). */
function liveness(g: Graph): Map<Tensor, [number, number]> {
  const live = new Map<Tensor, [number, number]>();
  for (const l of g.leaves) live.set(l, [-1, -1]);
  g.nodes.forEach((n, i) => {
    if (!n.viewSrc) live.set(n, [i, i]);
    for (const s of n.src) live.get(s.root)![1] = Math.max(live.get(s.root)![1], i);
  });
  for (const o of g.outputs) live.get(o.root)![1] = g.nodes.length;
  return live;
}

/** Pairs of roots that are live together and share bytes without being a planned in-place pair. */
function violations(offsets: ReadonlyMap<Tensor, number>, inplace: ReadonlySet<Tensor>, live: Map<Tensor, [number, number]>): string[] {
  const out: string[] = [];
  const roots = [...offsets.keys()];
  for (let i = 0; i < roots.length; i++) for (let j = i + 1; j < roots.length; j++) {
    const a = roots[i], b = roots[j];
    const [sa, ea] = live.get(a)!, [sb, eb] = live.get(b)!;
    if (sa > eb || sb > ea) continue; // never live together
    const oa = offsets.get(a)!, ob = offsets.get(b)!;
    if (oa >= ob + b.nBytes || ob >= oa + a.nBytes) continue; // disjoint bytes
    // Sharing is allowed only for an in-place node over its src[0] that dies there, read by no other view.
    const ok = (n: Tensor, s: Tensor, sEnd: number, nStart: number) =>
      inplace.has(n) && n.src[0] === s && sEnd === nStart && n.src.every((x) => x === s || x.root !== s);
    if (!ok(b, a, ea, sb) && !ok(a, b, eb, sa)) out.push(`${a} [${sa},${ea}] @${oa} overlaps ${b} [${sb},${eb}] @${ob}`);
  }
  return out;
}

describe("planner properties on random graphs", () => {
  it("the checker itself flags a plan that shares live bytes", () => {
    const { outputs } = randomGraph(3);
    const g = new Graph(outputs);
    const plan = planMemory(g, () => true, 32);
    const live = liveness(g);
    const bad = new Map(plan.offsets);
    bad.set(g.outputs[0].root, plan.offsets.get(g.leaves[0])!); // the output on top of a leaf live at the same time
    expect(violations(bad, plan.inplace, live).length).toBeGreaterThan(0);
    // The random graphs do exercise in-place sharing: without the in-place set, some plans would be illegal.
    let shared = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const gg = new Graph(randomGraph(seed).outputs);
      const p = planMemory(gg, () => true, 32);
      if (violations(p.offsets, new Set(), liveness(gg)).length > 0) shared++;
    }
    expect(shared).toBeGreaterThan(3);
  });

  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: live tensors never overlap; outputs and leaves are kept`, () => {
      const { outputs } = randomGraph(seed);
      const g = new Graph(outputs);
      const plan = planMemory(g, () => true, 32);
      const live = liveness(g);
      const roots = [...plan.offsets.keys()];
      // Every root the graph touches is planned, inside the arena, aligned.
      for (const r of live.keys()) expect(plan.offsets.has(r), `${r} planned`).toBe(true);
      for (const r of roots) {
        const off = plan.offsets.get(r)!;
        expect(off % 32).toBe(0);
        expect(off + r.nBytes).toBeLessThanOrEqual(plan.size);
      }
      expect(violations(plan.offsets, plan.inplace, live)).toEqual([]);
    });
  }

  it("in-place planning never changes results (arena vs one buffer per tensor)", async () => {
    for (let seed = 100; seed < 115; seed++) {
      const be = new ReferenceBackend();
      const a = randomGraph(seed);
      await be.compute(new Graph(a.outputs));
      const got = await Promise.all(a.outputs.map((o) => readF32(be, o)));
      const b = randomGraph(seed);
      const g = new Graph(b.outputs);
      for (const t of [...g.leaves, ...g.nodes]) {
        if (t.viewSrc) continue;
        const buf = be.allocBuffer(Math.max(t.nBytes, 4));
        be.bind(t, buf, 0);
        if (t.data) await be.setTensor(t, t.data);
      }
      await be.compute(g);
      const want = await Promise.all(b.outputs.map((o) => readF32(be, o)));
      expect(got).toEqual(want);
    }
  });

  it("memory is reused: the arena is smaller than the sum of the tensors", () => {
    let x = tensor(F32, [64, 64]);
    const w = tensor(F32, [64, 64]);
    for (let i = 0; i < 20; i++) x = silu(mulMat(w, cont(transpose(x))));
    const g = new Graph([x]);
    const plan = planMemory(g, () => true, 32);
    const total = [...plan.offsets.keys()].reduce((s, r) => s + r.nBytes, 0);
    expect(plan.size).toBeLessThan(total / 4);
    expect(plan.inplace.size).toBeGreaterThan(0); // silu writes over its dying matmul result
  });

  it("bound roots are not planned", () => {
    const a = tensor(F32, [8]), b = tensor(F32, [8]);
    const be = new ReferenceBackend();
    be.bind(a, be.allocBuffer(32), 0);
    const g = new Graph([add(a, b)]);
    const plan = planMemory(g, (r) => r.buffer === null, 32);
    expect(plan.offsets.has(a)).toBe(false);
    expect(plan.offsets.has(b)).toBe(true);
  });
});

describe("serialisation", () => {
  it("records decode back to the tensors", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { outputs } = randomGraph(seed);
      const g = new Graph(outputs);
      const plan = planMemory(g, () => true, 32);
      const slot = (r: Tensor) => (r.isLeaf ? 1 : 0);
      const s = serializeGraph(g, (r) => [slot(r), plan.offsets.get(r)!], plan.inplace);
      const tensors = [...g.leaves, ...g.nodes];
      expect(s.count).toBe(tensors.length);
      expect(s.records.length).toBe(tensors.length * REC);
      tensors.forEach((t, i) => {
        const o = i * REC, rec = s.records;
        expect(s.tensors[i]).toBe(t);
        expect(OP_NAMES[rec[o + F.op]]).toBe(t.op);
        expect(rec[o + F.type]).toBe(t.type);
        for (let d = 0; d < 4; d++) { expect(rec[o + F.ne + d]).toBe(t.ne[d]); expect(rec[o + F.nb + d]).toBe(t.nb[d]); }
        expect(rec[o + F.buffer]).toBe(slot(t.root));
        expect(rec[o + F.offset]).toBe(plan.offsets.get(t.root)! + t.viewOffset);
        const flags = rec[o + F.flags];
        expect(!!(flags & RF.noCompute)).toBe(VIEW_OPS.has(t.op));
        expect(!!(flags & RF.leaf)).toBe(t.isLeaf);
        expect(!!(flags & RF.output)).toBe(outputs.includes(t));
        expect(!!(flags & RF.inplace)).toBe(plan.inplace.has(t));
        expect(rec[o + F.nSrc]).toBe(t.src.length);
        t.src.forEach((src, j) => {
          const k = rec[o + F.src + j];
          expect(k).toBeLessThan(i); // sources come first
          expect(tensors[k]).toBe(src);
        });
        for (let j = t.src.length; j < 8; j++) expect(rec[o + F.src + j]).toBe(-1);
        const names = OP_PARAMS[t.op as OpName] as readonly string[];
        expect(rec[o + F.nParams]).toBe(names.length);
        names.forEach((n, p) => expect(rec[o + F.params + p]).toBe(t.params[n] ?? 0));
      });
    }
  });
});
