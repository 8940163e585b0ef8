// test-backend-ops for ggts: every case's graph is built once per backend (tensors are never shared),
// inputs come from a seeded PRNG, and the backend under test is compared with the float64 reference.
// Inputs and outputs live in one buffer per run with 1024-float sentinel gaps around each, so an
// out-of-bounds write shows up as a changed gap.
import { GgmlType, toType } from "../types.js";
import { Tensor, tensor } from "../tensor.js";
import { Graph } from "../graph.js";
import { VIEW_OPS } from "../ops/spec.js";
import type { Backend, BackendBuffer } from "../backend.js";
import { ReferenceBackend } from "../ref/backend.js";
import { readDense, writeDense } from "../ref/dense.js";
import { Rng, hashString } from "./rng.js";
import { uniform, type InitFn } from "./init.js";
import { caseName, type CaseBuilder, type OpCase } from "./case.js";
import { allCases } from "./cases/index.js";

export type TestMode = "test" | "perf" | "support";

export interface CaseResult {
  name: string;
  op: string;
  vars: string;
  status: "OK" | "FAIL" | "SKIP";
  maxNmse: number;
  nmse?: number;
  /** Why it failed or was skipped. */
  message?: string;
  /** Perf mode: microseconds per op instance, instances per graph, graph runs, throughput. */
  usPerRun?: number;
  copies?: number;
  runs?: number;
  gflops?: number;
  gbps?: number;
  /** Support mode: whether the backend supports every node of the case graph. */
  supported?: boolean;
}

export interface RunCasesOptions {
  mode?: TestMode;
  /** Only these ops (OP_PARAMS names). */
  ops?: readonly string[];
  /** Only cases whose `OP(vars)` name matches. */
  pattern?: string | RegExp;
  /** Defaults to the built-in case list for the mode. */
  cases?: readonly OpCase[];
  /** The oracle; a fresh ReferenceBackend by default. */
  reference?: Backend;
  /** Perf: divide the work target (~8 GFLOP / ~8 GB) and the minimum run time (1 s) by this. */
  quick?: number;
  /** Perf targets per measurement (defaults 8e9 each: CPU sizing). */
  targetFlops?: number;
  targetBytes?: number;
  /** Called as each case finishes (progress printing). */
  onResult?: (r: CaseResult) => void;
}

const GAP = 4096; // 1024 floats
const ALIGN = 256;
const FLT_MAX = 3.4028234663852886e38;
const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

/** Leaf bytes by creation index, shared by the two builds of one case so both backends see the same data. */
type LeafBytes = Map<number, Uint8Array>;

interface Instance {
  graph: Graph;
  outputs: Tensor[];
  leaves: Tensor[];
  buffer: BackendBuffer | null;
  /** The whole-buffer byte view and the byte ranges that belong to tensors (everything else is sentinel). */
  whole: Tensor | null;
  regions: [number, number][];
  pattern: Uint8Array | null;
}

/** Perf inputs above this many elements repeat one generated slab (JS quantization of 8M values is slow). */
const TILE_ABOVE = 1 << 20;

function leafBytes(c: OpCase, index: number, t: Tensor, init: InitFn | undefined, cache: LeafBytes, tiled = false): Uint8Array {
  if (tiled && t.nElements > TILE_ABOVE && t.ne[0] <= TILE_ABOVE && t.isContiguous) {
    const rows = Math.max(1, Math.floor(65536 / t.ne[0]));
    const slab = tensor(t.type, [t.ne[0], Math.min(rows, t.nRows)]);
    const part = leafBytes(c, index, slab, init, new Map());
    const out = new Uint8Array(t.nBytes);
    for (let o = 0; o < out.length; o += part.length) out.set(part.subarray(0, Math.min(part.length, out.length - o)), o);
    return out;
  }
  const hit = cache.get(index);
  if (hit) {
    if (hit.byteLength !== t.nBytes) throw new Error(`${caseName(c)}: input ${index} changed size between builds`);
    return hit;
  }
  const rng = new Rng(hashString(caseName(c)) ^ Math.imul(index + 1, 0x9e3779b1));
  const isInt = t.type === GgmlType.I32 || t.type === GgmlType.I64 || t.type === GgmlType.I16 || t.type === GgmlType.I8;
  if (!init && isInt) throw new Error(`${caseName(c)}: integer input ${index} needs an explicit init`);
  const values = (init ?? uniform())(rng, t);
  if (values.length !== t.nElements) throw new Error(`${caseName(c)}: init of input ${index} gave ${values.length} values for ${t}`);
  const bytes = new Uint8Array(t.nBytes);
  writeDense(t, bytes, 0, values);
  cache.set(index, bytes);
  return bytes;
}

/** Builds the case graph `copies` times over one set of leaves. */
function buildGraph(c: OpCase, copies: number, cache: LeafBytes, data: "exact" | "tiled" | "none" = "exact") {
  const leaves: Tensor[] = [];
  const inits: (InitFn | undefined)[] = [];
  let n = 0;
  const builder: CaseBuilder = {
    input(type, shape, init) {
      const i = n++;
      if (i < leaves.length) return leaves[i];
      const t = tensor(toType(type), shape);
      t.name = `in${i}`;
      leaves.push(t); inits.push(init);
      return t;
    },
  };
  let outputs: Tensor[] = [];
  const all: Tensor[] = [];
  for (let k = 0; k < copies; k++) {
    n = 0;
    outputs = c.build(builder);
    if (outputs.length === 0) throw new Error(`${caseName(c)}: build returned no outputs`);
    all.push(...outputs);
  }
  const graph = new Graph(all);
  if (copies > 1) {
    // Only the last copy is an output, so the planner recycles the other copies' results.
    for (const t of all) if (!outputs.includes(t)) t.flags &= ~2;
    (graph as { outputs: readonly Tensor[] }).outputs = outputs;
  }
  const bytes = data === "none" ? [] : leaves.map((t, i) => leafBytes(c, i, t, inits[i], cache, data === "tiled"));
  return { graph, outputs, leaves, data: bytes };
}

async function instantiate(backend: Backend, c: OpCase, cache: LeafBytes, copies = 1, sentinels = true): Promise<Instance> {
  const { graph, outputs, leaves, data } = buildGraph(c, copies, cache, sentinels ? "exact" : "tiled");
  const roots: Tensor[] = [...leaves];
  for (const o of outputs) if (!roots.includes(o.root)) roots.push(o.root);
  const gap = sentinels ? GAP : 0;
  let off = gap;
  const regions: [number, number][] = [];
  for (const r of roots) {
    off = alignUp(off, ALIGN);
    regions.push([off, off + r.nBytes]);
    off = alignUp(off + r.nBytes, ALIGN) + gap;
  }
  const total = Math.max(off, ALIGN);
  const buffer = backend.allocBuffer(total);
  let whole: Tensor | null = null, pattern: Uint8Array | null = null;
  if (sentinels) {
    whole = tensor(GgmlType.I8, [total]);
    backend.bind(whole, buffer, 0);
    pattern = new Uint8Array(total);
    const rng = new Rng(0x5e17);
    const f = new Float32Array(pattern.buffer);
    for (let i = 0; i < f.length; i++) f[i] = rng.uniform(-1e4, 1e4);
    await backend.setTensor(whole, pattern);
  }
  roots.forEach((r, i) => backend.bind(r, buffer, regions[i][0]));
  for (let i = 0; i < leaves.length; i++) await backend.setTensor(leaves[i], data[i]);
  return { graph, outputs, leaves, buffer, whole, regions, pattern };
}

function unsupportedNodes(backend: Backend, g: Graph): string[] {
  return g.nodes.filter((n) => !VIEW_OPS.has(n.op) && !backend.supportsOp(n)).map((n) => `${n.op} ${n.typeName}`);
}

async function checkSentinels(backend: Backend, inst: Instance): Promise<string | null> {
  if (!inst.whole || !inst.pattern) return null;
  const now = await backend.getTensor(inst.whole);
  let r = 0;
  for (let i = 0; i < now.length; i++) {
    while (r < inst.regions.length && i >= inst.regions[r][1]) r++;
    if (r < inst.regions.length && i >= inst.regions[r][0]) { i = inst.regions[r][1] - 1; continue; }
    if (now[i] !== inst.pattern[i]) {
      const which = r < inst.regions.length ? `before tensor ${r}` : "after the last tensor";
      return `sentinel byte ${i} (${which}) changed: out-of-bounds write`;
    }
  }
  return null;
}

async function readOutputs(backend: Backend, outs: Tensor[]): Promise<Float64Array[]> {
  const res: Float64Array[] = [];
  for (const o of outs) res.push(readDense(o, await backend.getTensor(o), 0).v);
  return res;
}

export interface Comparison { ok: boolean; nmse: number; message?: string }

/** ops.md §10 checks 2–4 (NaN, matching infinities, NMSE against the reference `a`). */
export function compareNmse(a: ArrayLike<number>, b: ArrayLike<number>, maxNmse: number): Comparison {
  if (a.length !== b.length) return { ok: false, nmse: Infinity, message: `length ${b.length} != reference ${a.length}` };
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(y)) return { ok: false, nmse: NaN, message: `NaN at ${i}` };
    if (Number.isNaN(x)) return { ok: false, nmse: NaN, message: `reference NaN at ${i}` };
    const xi = Math.abs(x) >= FLT_MAX, yi = Math.abs(y) >= FLT_MAX;
    if (xi || yi) {
      if (!(xi && yi && Math.sign(x) === Math.sign(y))) return { ok: false, nmse: Infinity, message: `inf mismatch at ${i}: ${y} vs reference ${x}` };
      continue;
    }
    num += (x - y) ** 2; den += x * x;
  }
  const nmse = den > 0 ? num / den : num === 0 ? 0 : Infinity;
  return nmse <= maxNmse ? { ok: true, nmse } : { ok: false, nmse, message: `NMSE ${nmse.toExponential(3)} > ${maxNmse}` };
}

/** TOP_K: per row the index sets must agree, order-free. */
export function compareTopK(a: ArrayLike<number>, b: ArrayLike<number>, k: number): Comparison {
  for (let r = 0; r * k < a.length; r++) {
    const x = Array.from({ length: k }, (_, i) => a[r * k + i]).sort((p, q) => p - q);
    const y = Array.from({ length: k }, (_, i) => b[r * k + i]).sort((p, q) => p - q);
    if (x.some((v, i) => v !== y[i])) return { ok: false, nmse: Infinity, message: `row ${r}: index set {${y}} != reference {${x}}` };
  }
  return { ok: true, nmse: 0 };
}

export function filterCases(opts: RunCasesOptions): OpCase[] {
  const mode = opts.mode ?? "test";
  let cases = [...(opts.cases ?? allCases())];
  if (mode === "test") cases = cases.filter((c) => c.only !== "perf");
  if (opts.ops?.length) {
    const want = new Set(opts.ops.map((o) => o.toUpperCase()));
    cases = cases.filter((c) => want.has(c.op));
  }
  if (opts.pattern !== undefined) {
    const re = typeof opts.pattern === "string" ? new RegExp(opts.pattern) : opts.pattern;
    cases = cases.filter((c) => re.test(caseName(c)));
  }
  return cases;
}

const base = (c: OpCase) => ({ name: caseName(c), op: c.op, vars: c.vars, maxNmse: c.maxNmse });
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** One case in test mode. */
export async function testCase(backend: Backend, c: OpCase, reference: Backend = new ReferenceBackend()): Promise<CaseResult> {
  const cache: LeafBytes = new Map();
  const r = base(c);
  let got: Instance | null = null, ref: Instance | null = null;
  try {
    ref = await instantiate(reference, c, cache);
    const missing = unsupportedNodes(backend, ref.graph);
    if (missing.length) return { ...r, status: "SKIP", message: `not supported: ${[...new Set(missing)].join(", ")}` };
    got = await instantiate(backend, c, cache);
    await reference.compute(ref.graph);
    const refBad = await checkSentinels(reference, ref);
    if (refBad) return { ...r, status: "FAIL", message: `reference: ${refBad}` };
    try { await backend.compute(got.graph); } catch (e) { return { ...r, status: "FAIL", message: `compute: ${errMsg(e)}` }; }
    const bad = await checkSentinels(backend, got);
    if (bad) return { ...r, status: "FAIL", message: bad };
    const a = await readOutputs(reference, ref.outputs), b = await readOutputs(backend, got.outputs);
    let worst = 0;
    for (let i = 0; i < a.length; i++) {
      const cmp = c.compare === "topk" ? compareTopK(a[i], b[i], ref.outputs[i].ne[0]) : compareNmse(a[i], b[i], c.maxNmse);
      if (!cmp.ok) return { ...r, status: "FAIL", nmse: cmp.nmse, message: a.length > 1 ? `output ${i}: ${cmp.message}` : cmp.message };
      worst = Math.max(worst, cmp.nmse);
    }
    return { ...r, status: "OK", nmse: worst };
  } catch (e) {
    return { ...r, status: "FAIL", message: errMsg(e) };
  } finally {
    got?.buffer?.free(); ref?.buffer?.free();
  }
}

/** Bytes one instance moves: its inputs and outputs once each. */
function trafficBytes(c: OpCase): number {
  const { graph, outputs } = buildGraph(c, 1, new Map(), "none");
  return graph.leaves.reduce((s, l) => s + l.nBytes, 0) + outputs.reduce((s, o) => s + o.nBytes, 0);
}

/** One case in perf mode: the op duplicated in one graph up to the work target, re-run for >= 1 s. */
export async function perfCase(backend: Backend, c: OpCase, opts: RunCasesOptions = {}): Promise<CaseResult> {
  const r = base(c);
  const quick = Math.max(1, opts.quick ?? 1);
  let inst: Instance | null = null;
  try {
    const probe = buildGraph(c, 1, new Map(), "none");
    const missing = unsupportedNodes(backend, probe.graph);
    if (missing.length) return { ...r, status: "SKIP", message: `not supported: ${[...new Set(missing)].join(", ")}` };
    const bytes = trafficBytes(c);
    const cost = c.flops ?? bytes;
    const target = (c.flops ? opts.targetFlops ?? 8e9 : opts.targetBytes ?? 8e9) / quick;
    const copies = Math.max(1, Math.min(1000, Math.ceil(target / Math.max(cost, 1))));
    inst = await instantiate(backend, c, new Map(), copies, false);
    await backend.compute(inst.graph); // warm-up: planning, uploads, pipeline compilation
    const minMs = 1000 / quick;
    let runs = 0;
    const t0 = performance.now();
    let el = 0;
    do { await backend.compute(inst.graph); runs++; el = performance.now() - t0; } while (el < minMs);
    const sec = el / 1000, n = runs * copies;
    const res: CaseResult = { ...r, status: "OK", usPerRun: (el * 1000) / n, copies, runs };
    if (c.flops) res.gflops = (c.flops * n) / sec / 1e9; else res.gbps = (bytes * n) / sec / 1e9;
    return res;
  } catch (e) {
    return { ...r, status: "FAIL", message: errMsg(e) };
  } finally {
    inst?.buffer?.free();
  }
}

/** Support mode: does the backend accept every node of the case graph? */
export function supportCase(backend: Backend, c: OpCase): CaseResult {
  const r = base(c);
  try {
    const missing = unsupportedNodes(backend, buildGraph(c, 1, new Map(), "none").graph);
    return { ...r, status: missing.length ? "SKIP" : "OK", supported: missing.length === 0,
      message: missing.length ? `not supported: ${[...new Set(missing)].join(", ")}` : undefined };
  } catch (e) {
    return { ...r, status: "FAIL", supported: false, message: errMsg(e) };
  }
}

/** Runs the selected cases on `backend` in the given mode, in list order. */
export async function runCases(backend: Backend, opts: RunCasesOptions = {}): Promise<CaseResult[]> {
  const mode = opts.mode ?? "test";
  const reference = opts.reference ?? new ReferenceBackend();
  const out: CaseResult[] = [];
  for (const c of filterCases(opts)) {
    const res = mode === "test" ? await testCase(backend, c, reference)
      : mode === "perf" ? await perfCase(backend, c, opts) : supportCase(backend, c);
    out.push(res);
    opts.onResult?.(res);
  }
  return out;
}

/** Op × support summary of support-mode results: per op "yes", "no" or "partial (k/n)". */
export function supportSummary(results: readonly CaseResult[]): Map<string, string> {
  const by = new Map<string, [number, number]>();
  for (const r of results) {
    const e = by.get(r.op) ?? [0, 0];
    e[0] += r.supported ? 1 : 0; e[1]++;
    by.set(r.op, e);
  }
  const out = new Map<string, string>();
  for (const [op, [k, n]] of by) out.set(op, k === n ? "yes" : k === 0 ? "no" : `partial (${k}/${n})`);
  return out;
}


