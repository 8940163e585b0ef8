// The delta-rule fixtures (fla/torch oracle, float64 truth) through the fused op and both decomposed forms.
import { describe, it, expect } from "vitest";
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  GgmlType, tensor, transpose, cont, gatedDeltaNet, deltaRuleChunked, deltaRuleRecurrent, ReferenceBackend, run, Graph,
  type Tensor,
} from "@ggts/tensor";

const root = fileURLToPath(new URL("../../../../shared/fixtures/ops/", import.meta.url));
const CASES = ["kda_t100_h2_k32_v32", "kda_t1_decode", "kda_gva_h2_hv4", "gdn_t130"];

interface Meta { B: number; T: number; H: number; HV: number; K: number; V: number; mode: string }

function load(name: string) {
  const dir = `${root}${name}/`;
  const meta = JSON.parse(readFileSync(`${dir}meta.json`, "utf8")) as Meta;
  const f = (n: string) => { const b = readFileSync(`${dir}${n}.f32`); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4).slice(); };
  const { B, T, H, HV, K, V } = meta;
  const kda = meta.mode === "kda";
  // fla [B,T,H,K] C order is ggml ne [K,H,T,B]; the fla state [B,HV,K,V] is ne [V,K,HV,B] (value contiguous).
  const inputs = () => ({
    q: tensor(GgmlType.F32, [K, H, T, B], f("q")),
    k: tensor(GgmlType.F32, [K, H, T, B], f("k")),
    v: tensor(GgmlType.F32, [V, HV, T, B], f("v")),
    g: tensor(GgmlType.F32, [kda ? K : 1, HV, T, B], f("g")),
    beta: tensor(GgmlType.F32, [1, HV, T, B], f("beta")),
    state: cont(transpose(tensor(GgmlType.F32, [V, K, HV, B], f("h0")))),
  });
  return { meta, inputs, o: f("o_ref64"), S: f("S_ref64") };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

type Form = (x: ReturnType<ReturnType<typeof load>["inputs"]>) => { output: Tensor; state: Tensor };
const FORMS: [string, Form][] = [
  ["fused", (x) => gatedDeltaNet(x.q, x.k, x.v, x.g, x.beta, x.state)],
  ["chunked", (x) => deltaRuleChunked(x.q, x.k, x.v, x.g, x.beta, x.state)],
  ["chunked16", (x) => deltaRuleChunked(x.q, x.k, x.v, x.g, x.beta, x.state, { chunkSize: 16 })],
  ["recurrent", (x) => deltaRuleRecurrent(x.q, x.k, x.v, x.g, x.beta, x.state)],
];

describe.skipIf(!existsSync(root))("delta-rule fixtures", () => {
  for (const name of CASES) for (const [form, f] of FORMS) {
    it(`${name} ${form}`, async () => {
      const fx = load(name);
      const { output, state } = f(fx.inputs());
      // Compare the state in fla's value-contiguous layout.
      const [o, S] = await run(new ReferenceBackend(), [output, cont(transpose(state))]);
      const dO = maxAbs(o, fx.o), dS = maxAbs(S, fx.S);
      if (process.env.GGTS_VERBOSE) console.log(name, form, dO, dS);
      expect(dO).toBeLessThanOrEqual(1e-5);
      expect(dS).toBeLessThanOrEqual(1e-5);
    });
  }
  it("the chunked graph batches heads and chunks (node count independent of heads, linear in chunks)", () => {
    const mk = (H: number, T: number) => {
      const S = 16;
      const q = tensor(GgmlType.F32, [S, H, T, 1]), k = tensor(GgmlType.F32, [S, H, T, 1]), v = tensor(GgmlType.F32, [S, H, T, 1]);
      const g = tensor(GgmlType.F32, [S, H, T, 1]), b = tensor(GgmlType.F32, [1, H, T, 1]), s = tensor(GgmlType.F32, [S, S, H, 1]);
      const r = deltaRuleChunked(q, k, v, g, b, s, { chunkSize: 8 });
      return new Graph([r.output, r.state]).nodes.length;
    };
    expect(mk(2, 32)).toBe(mk(16, 32));
    const perChunk = mk(2, 40) - mk(2, 32);
    expect(perChunk).toBeLessThanOrEqual(20);
  });
});

describe("decomposed delta rule vs the fused op on random inputs", () => {
  // N = 2 sequences, GVA r = 2, a partial last chunk, permuted (non-contiguous) q/k/v, both gate kinds.
  // Mild gates (g in [-0.3, 0]) so that the state handed between chunks and tokens really matters.
  for (const kda of [false, true]) for (const perm of [false, true]) {
    it(`kda=${kda} permuted=${perm}`, async () => {
      const { Rng, l2Norm, permute } = await import("@ggts/tensor");
      const [S, Hk, r, T, N] = [16, 2, 2, 13, 2];
      const Hv = Hk * r;
      const mk = (form: "fused" | "chunked" | "recurrent") => {
        const rng = new Rng(99);
        const leaf = (shape: number[], lo: number, hi: number) => {
          const n = shape.reduce((a, x) => a * x, 1);
          return tensor(GgmlType.F32, shape, Float32Array.from({ length: n }, () => rng.uniform(lo, hi)));
        };
        const qk = () => (perm ? permute(l2Norm(leaf([S, T, Hk, N], -1, 1), 1e-6), 0, 2, 1, 3) : l2Norm(leaf([S, Hk, T, N], -1, 1), 1e-6));
        const q = qk(), k = qk();
        const v = perm ? permute(leaf([S, T, Hv, N], -1, 1), 0, 2, 1, 3) : leaf([S, Hv, T, N], -1, 1);
        const g = leaf([kda ? S : 1, Hv, T, N], -0.3, 0), beta = leaf([1, Hv, T, N], 0, 1), st = leaf([S, S, Hv, N], -1, 1);
        const res = form === "fused" ? gatedDeltaNet(q, k, v, g, beta, st)
          : form === "chunked" ? deltaRuleChunked(q, k, v, g, beta, st, { chunkSize: 5 }) : deltaRuleRecurrent(q, k, v, g, beta, st);
        return [res.output, res.state];
      };
      const be = new ReferenceBackend();
      const [fo, fs] = await run(be, mk("fused"));
      for (const form of ["chunked", "recurrent"] as const) {
        const [o, s] = await run(be, mk(form));
        expect(maxAbs(o, fo), `${form} output`).toBeLessThan(1e-5);
        expect(maxAbs(s, fs), `${form} state`).toBeLessThan(1e-5);
      }
    });
  }
});
