// `ggts test-ops [test|perf|support] [-b BACKEND] [-o OP[,OP]] [-p REGEX] [--quick N]`: llama.cpp's
// test-backend-ops for ggts backends, checked against the float64 reference backend.
import {
  backendFactories, createBackend, runCases, supportSummary, allCases, caseName, type Backend, type CaseResult,
  type TestMode,
} from "@ggts/tensor";

const BACKEND_PACKAGES = ["@ggts/backend-cpu", "@ggts/backend-webgpu", "@ggts/backend-cuda"];

const USAGE = `usage: ggts test-ops [test|perf|support] [-b BACKEND] [-o OP[,OP]] [-p REGEX] [--quick N]
  test     compare every case with the reference backend (default); exit 1 on any failure
  perf     time each case (op repeated to ~8 GFLOP or ~8 GB per graph, re-run for >= 1 s)
  support  op x backend support matrix over all registered backends
  -b       backend name (default: every available backend but the reference)
  -o       only these ops, e.g. -o MUL_MAT,SOFT_MAX
  -p       only cases whose OP(vars) matches the regular expression
  --quick  perf: divide the work target and the minimum time by N (default 1)`;

interface Args { mode: TestMode; backend?: string; ops?: string[]; pattern?: RegExp; quick: number }

function parse(args: string[]): Args | string {
  const a: Args = { mode: "test", quick: 1 };
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${x} needs a value`);
      return v;
    };
    if (x === "test" || x === "perf" || x === "support") a.mode = x;
    else if (x === "-b" || x === "--backend") a.backend = val();
    else if (x === "-o" || x === "--op") a.ops = val().split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
    else if (x === "-p" || x === "--pattern") a.pattern = new RegExp(val());
    else if (x === "--quick") {
      a.quick = Number(val());
      if (!(a.quick >= 1)) return `--quick must be a number >= 1`;
    } else if (x === "-h" || x === "--help") return "";
    else return `unknown argument "${x}"`;
  }
  return a;
}

/** Imports every backend package (each registers its factory); a missing or unbuilt one is reported, not fatal. */
async function loadBackends(log: (s: string) => void): Promise<Map<string, string>> {
  const importErrors = new Map<string, string>();
  for (const pkg of BACKEND_PACKAGES) {
    try { await import(pkg); } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      importErrors.set(pkg, msg);
      log(`note: ${pkg} not loaded: ${msg}`);
    }
  }
  return importErrors;
}

/** A backend probe or creation that hangs (a GPU driver, say) must not stall the whole command. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
const PROBE_MS = 60_000;

const fmtNmse = (r: CaseResult) => (r.nmse === undefined ? "" : ` (NMSE ${r.nmse === 0 ? "0" : r.nmse.toExponential(2)})`);

function printResult(r: CaseResult, mode: TestMode, log: (s: string) => void): void {
  if (mode === "perf") {
    if (r.status !== "OK") { log(`  ${r.name}: ${r.status === "SKIP" ? "not supported" : `FAIL ${r.message}`}`); return; }
    const rate = r.gflops !== undefined ? `${r.gflops.toFixed(2)} GFLOPS` : `${r.gbps!.toFixed(2)} GB/s`;
    log(`  ${r.name}: ${r.runs! * r.copies!} runs - ${r.usPerRun!.toFixed(2)} us/run - ${rate}`);
    return;
  }
  if (r.status === "OK") log(`  ${r.name}: OK${fmtNmse(r)}`);
  else if (r.status === "SKIP") log(`  ${r.name}: not supported [${r.message ?? ""}]`);
  else log(`  ${r.name}: FAIL${fmtNmse(r)} ${r.message ?? ""}`);
}

async function testOrPerf(a: Args, log: (s: string) => void): Promise<number> {
  const names = a.backend ? [a.backend]
    : (await Promise.all(backendFactories().map(async (f) => ({
      f, ok: (await withTimeout(f.available(), PROBE_MS, `${f.name} availability`).catch(() => ({ ok: false }))).ok,
    })))).filter((x) => x.ok && x.f.name !== "reference").map((x) => x.f.name);
  if (names.length === 0) {
    log("no backend besides the reference is available; checking the reference against itself (-b reference)");
    names.push("reference");
  }
  let failed = 0;
  for (const name of names) {
    let be: Backend;
    try { be = await withTimeout(createBackend(name), PROBE_MS, `creating ${name}`); } catch (e) {
      log(`Backend ${name}: ${e instanceof Error ? e.message : String(e)}`);
      failed++;
      continue;
    }
    const info = be.deviceInfo();
    log(`Backend ${name}: ${info.description}`);
    const t0 = performance.now();
    // ops.md §10 perf sizing: ~8 GFLOP / 8 GB per graph on a CPU, 100 GFLOP / 32 GB on a GPU.
    const gpu = name !== "cpu" && name !== "reference";
    const res = await runCases(be, {
      mode: a.mode, ops: a.ops, pattern: a.pattern, quick: a.quick, onResult: (r) => printResult(r, a.mode, log),
      targetFlops: gpu ? 100e9 : 8e9, targetBytes: gpu ? 32e9 : 8e9,
    });
    be.dispose();
    const ok = res.filter((r) => r.status === "OK").length, bad = res.filter((r) => r.status === "FAIL");
    const skipped = res.length - ok - bad.length;
    log(`  ${ok}/${res.length - skipped} cases passed, ${skipped} not supported (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    if (bad.length) {
      log(`  Failed: ${bad.map((r) => r.name).join(", ")}`);
      log(`  Backend ${name}: FAIL`);
      failed++;
    } else log(`  Backend ${name}: OK`);
  }
  return failed ? 1 : 0;
}

async function support(a: Args, log: (s: string) => void, importErrors: Map<string, string>): Promise<number> {
  const cols: { name: string; summary: Map<string, string> | null; reason?: string }[] = [];
  for (const f of backendFactories()) {
    if (a.backend && f.name !== a.backend) continue;
    let be: Backend;
    try {
      const av = await withTimeout(f.available(), PROBE_MS, `${f.name} availability`);
      if (!av.ok) { cols.push({ name: f.name, summary: null, reason: av.reason }); continue; }
      be = await withTimeout(f.create(), PROBE_MS, `creating ${f.name}`);
    } catch (e) {
      cols.push({ name: f.name, summary: null, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const res = await runCases(be, { mode: "support", ops: a.ops, pattern: a.pattern });
    be.dispose();
    cols.push({ name: f.name, summary: supportSummary(res) });
  }
  const ops = [...new Set(allCases().filter((c) => (!a.ops || a.ops.includes(c.op)) && (!a.pattern || a.pattern.test(caseName(c)))).map((c) => c.op))];
  const w = Math.max(4, ...ops.map((o) => o.length));
  const cw = cols.map((c) => Math.max(c.name.length, 14));
  log(["op".padEnd(w), ...cols.map((c, i) => c.name.padEnd(cw[i]))].join("  "));
  for (const op of ops) {
    log([op.padEnd(w), ...cols.map((c, i) => (c.summary ? c.summary.get(op) ?? "-" : "unavailable").padEnd(cw[i]))].join("  "));
  }
  for (const c of cols) if (!c.summary) log(`${c.name}: unavailable: ${c.reason}`);
  for (const [pkg, msg] of importErrors) log(`${pkg}: not loaded: ${msg}`);
  return 0;
}

export async function main(args: string[], log: (s: string) => void = console.log): Promise<number> {
  let a: Args | string;
  try { a = parse(args); } catch (e) { a = e instanceof Error ? e.message : String(e); }
  if (typeof a === "string") {
    if (a) console.error(`test-ops: ${a}`);
    console.error(USAGE);
    return a ? 1 : 0;
  }
  const importErrors = await loadBackends(log);
  if (a.backend && !backendFactories().some((f) => f.name === a.backend)) {
    console.error(`test-ops: unknown backend "${a.backend}" (registered: ${backendFactories().map((f) => f.name).join(", ")})`);
    return 1;
  }
  return a.mode === "support" ? support(a, log, importErrors) : testOrPerf(a, log);
}
