// Browser smoke test: the same @ggts/backend-webgpu package, acquiring the adapter from navigator.gpu.
import { GgmlType, ReferenceBackend, mulMat, quantize, run, softMax, tensor } from "@ggts/tensor";
import { WebGpuBackend, webgpuAvailable } from "@ggts/backend-webgpu";

const out = document.getElementById("out")!;
const report = async (result: Record<string, unknown>) => {
  out.textContent = JSON.stringify(result, null, 2);
  // The headless check (serve.mjs) waits for this POST; a plain static server just ignores it.
  await fetch("/result", { method: "POST", body: JSON.stringify(result) }).catch(() => undefined);
};

async function main(): Promise<void> {
  const avail = await webgpuAvailable();
  if (!avail.ok) { await report({ ok: false, reason: avail.reason }); return; }
  const gpu = await WebGpuBackend.create({ hostFallback: false });
  try {
    const K = 64, N = 24, M = 5;
    const av = Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 0.37));
    const bv = Float32Array.from({ length: K * M }, (_, i) => Math.cos(i * 0.11));
    const build = () => [softMax(mulMat(tensor(GgmlType.Q8_0, [K, N], quantize(GgmlType.Q8_0, av)), tensor(GgmlType.F32, [K, M], bv)), { scale: 0.5 })];
    const t0 = performance.now();
    const [got] = await run(gpu, build());
    const ms = performance.now() - t0;
    const [want] = await run(new ReferenceBackend(), build());
    let num = 0, den = 0;
    want.forEach((w, i) => { num += (w - got[i]) ** 2; den += w * w; });
    const nmse = num / den;
    await report({ ok: nmse < 5e-4 && gpu.lastHostOps.length === 0, nmse, ms: Math.round(ms), device: gpu.deviceInfo(),
      first: Array.from(got.slice(0, 4)) });
  } finally { gpu.dispose(); }
}

main().catch((e: Error) => report({ ok: false, error: String(e?.stack ?? e) }));
