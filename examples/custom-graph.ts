// A hand-built attention block (projections, RoPE, masked softmax, weighted sum) run on every registered
// backend that is available here, with the largest difference between backends.
//   node examples/dist/custom-graph.js
import {
  GgmlType, tensor, mulMat, reshape, permute, cont, rope, softMax, RopeMode, Rng, backendFactories, run, type Tensor,
} from "@ggts/tensor";

const D = 64, H = 4, HD = D / H, T = 7;

/** Deterministic inputs, so every backend sees the same numbers. */
export function inputs() {
  const rng = new Rng(42);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.uniform(-s, s));
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) mask[j + T * i] = j <= i ? 0 : -Infinity; // causal
  return { x: rand(D * T, 1), wq: rand(D * D, 0.2), wk: rand(D * D, 0.2), wv: rand(D * D, 0.2), wo: rand(D * D, 0.2), mask };
}

/** The graph: y = Wo · attention(rope(Wq x), rope(Wk x), Wv x). Built anew per backend (tensors are per graph). */
export function attentionBlock(): Tensor {
  const d = inputs();
  const x = tensor(GgmlType.F32, [D, T], d.x, "x");
  const w = (name: string, v: Float32Array) => tensor(GgmlType.F32, [D, D], v, name);
  const pos = tensor(GgmlType.I32, [T], Int32Array.from({ length: T }, (_, i) => i), "pos");
  const heads = (t: Tensor) => reshape(t, [HD, H, T]);                         // [HD, H, T]
  const ropeOpts = { nDims: HD, mode: RopeMode.NEOX, freqBase: 10000 };
  const q = permute(rope(heads(mulMat(w("wq", d.wq), x)), pos, ropeOpts), 0, 2, 1, 3); // [HD, T, H]
  const k = permute(rope(heads(mulMat(w("wk", d.wk), x)), pos, ropeOpts), 0, 2, 1, 3); // [HD, T, H]
  const v = cont(permute(heads(mulMat(w("wv", d.wv), x)), 1, 2, 0, 3));        // [T, HD, H]
  const kq = mulMat(k, q);                                                      // [T_kv, T_q, H]
  const p = softMax(kq, { mask: tensor(GgmlType.F32, [T, T], d.mask, "mask"), scale: 1 / Math.sqrt(HD) });
  const o = mulMat(v, p);                                                       // [HD, T_q, H]
  const merged = cont(permute(o, 0, 2, 1, 3), [D, T]);                          // [D, T]
  return mulMat(w("wo", d.wo), merged);                                         // [D, T]
}

const BACKEND_PACKAGES = ["@ggts/backend-cpu", "@ggts/backend-webgpu", "@ggts/backend-cuda"];

export async function customGraphDemo(log: (s: string) => void = console.log): Promise<Map<string, Float32Array>> {
  for (const pkg of BACKEND_PACKAGES) {
    try { await import(pkg); } catch (e) { log(`skip ${pkg}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`); }
  }
  const results = new Map<string, Float32Array>();
  for (const f of backendFactories()) {
    const av = await f.available();
    if (!av.ok) { log(`skip ${f.name}: ${av.reason}`); continue; }
    try {
      const be = await f.create();
      const t0 = performance.now();
      const [y] = await run(be, [attentionBlock()]);
      const ms = performance.now() - t0;
      be.dispose();
      results.set(f.name, y);
      log(`${f.name.padEnd(10)} y[0..4] = ${Array.from(y.slice(0, 4), (v) => v.toFixed(5)).join(", ")}  (${ms.toFixed(1)} ms)`);
    } catch (e) {
      log(`skip ${f.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const names = [...results.keys()];
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) {
    const a = results.get(names[i])!, b = results.get(names[j])!;
    let m = 0;
    for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
    log(`max |${names[i]} - ${names[j]}| = ${m.toExponential(2)}`);
  }
  return results;
}

const entry = process.argv[1] ?? "";
if (entry.endsWith("custom-graph.js") || entry.endsWith("custom-graph.ts")) {
  customGraphDemo().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
}
