import { it, expect } from "vitest";
import { customGraphDemo, inputs } from "./custom-graph.js";

/** The same attention block in plain float64 loops. */
function plain(): number[] {
  const { x, wq, wk, wv, wo, mask } = inputs();
  const D = 64, H = 4, HD = 16, T = 7;
  const proj = (w: Float32Array, v: ArrayLike<number>) => {
    const out = new Float64Array(D * T);
    for (let t = 0; t < T; t++) for (let n = 0; n < D; n++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += w[k + D * n] * v[k + D * t];
      out[n + D * t] = s;
    }
    return out;
  };
  const rope = (a: Float64Array) => {
    for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let i = 0; i < HD / 2; i++) {
      const th = t * 10000 ** (-2 * i / HD);
      const o = HD * h + D * t, x0 = a[o + i], x1 = a[o + i + HD / 2];
      a[o + i] = x0 * Math.cos(th) - x1 * Math.sin(th);
      a[o + i + HD / 2] = x0 * Math.sin(th) + x1 * Math.cos(th);
    }
    return a;
  };
  const q = rope(proj(wq, x)), k = rope(proj(wk, x)), v = proj(wv, x);
  const merged = new Float64Array(D * T);
  for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    const s = Array.from({ length: T }, (_, j) => {
      let d = 0;
      for (let e = 0; e < HD; e++) d += q[e + HD * h + D * i] * k[e + HD * h + D * j];
      return d / Math.sqrt(HD) + mask[j + T * i];
    });
    const mx = Math.max(...s), e = s.map((z) => Math.exp(z - mx)), z = e.reduce((a, b) => a + b);
    for (let d = 0; d < HD; d++) {
      let acc = 0;
      for (let j = 0; j < T; j++) acc += (e[j] / z) * v[d + HD * h + D * j];
      merged[d + HD * h + D * i] = acc;
    }
  }
  return Array.from(proj(wo, merged));
}

it("the attention block matches plain loops on every available backend", async () => {
  const lines: string[] = [];
  const res = await customGraphDemo((s) => lines.push(s));
  expect(res.has("reference")).toBe(true);
  const want = plain();
  for (const [name, y] of res) {
    let m = 0;
    y.forEach((v, i) => { m = Math.max(m, Math.abs(v - want[i])); });
    expect(m, name).toBeLessThan(1e-4);
  }
  expect(lines.some((l) => l.startsWith("reference"))).toBe(true);
}, 300_000);
