// `ggts quantize IN.gguf OUT.gguf TYPE [--pure]`: llama-quantize-compatible re-quantization.

import { GgufError, ProgressBar, QUANT_TARGETS, formatBytes, openGguf, quantizeGguf } from "@ggts/gguf";
import { typeName } from "@ggts/tensor";

const USAGE = `usage: ggts quantize IN.gguf OUT.gguf TYPE [--pure]
  TYPE: ${QUANT_TARGETS.join(", ")}
  Mixes (Q4_K_M, Q2_K, Q8_0, ...) choose per-tensor types by role as llama-quantize does; Q3_K/Q4_K/Q5_K and
  --pure give every quantizable tensor the base type (rows that are not whole blocks fall back as in llama.cpp).`;

export async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const pure = args.includes("--pure");
  const pos = args.filter((a) => a !== "--pure");
  const unknown = pos.find((a) => a.startsWith("--"));
  if (unknown || pos.length !== 3) {
    console.error(unknown ? `ggts quantize: unknown option ${unknown}\n${USAGE}` : USAGE);
    return 2;
  }
  const [inPath, outPath, type] = pos;
  if (inPath === outPath) {
    console.error("ggts quantize: input and output must be different files");
    return 2;
  }
  const t0 = Date.now();
  try {
    const f = await openGguf(inPath);
    try {
      const bar = new ProgressBar("quantize", f.fileSize);
      const r = await quantizeGguf(f, outPath, type, {
        pure,
        onProgress: (p) => bar.update(p.bytesWritten / p.totalBytes * f.fileSize, `${p.name} ${typeName(p.type)}`),
      });
      bar.finish();
      const hist = new Map<string, number>();
      for (const p of r.plan) hist.set(typeName(p.type), (hist.get(typeName(p.type)) ?? 0) + 1);
      const fallbacks = r.plan.filter((p) => p.fallback);
      console.log(`${outPath}: ${formatBytes(r.outputBytes)} (from ${formatBytes(r.inputBytes)}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      console.log(`types: ${[...hist].map(([k, v]) => `${k} ${v}`).join(", ")}`);
      if (fallbacks.length) {
        const shown = fallbacks.slice(0, 4).map((p) => `${p.info.name} ${p.fallback}`).join("; ");
        console.log(`fallbacks (ne0 not a multiple of the block size): ${fallbacks.length} tensors, e.g. ${shown}${fallbacks.length > 4 ? "; ..." : ""}`);
      }
    } finally {
      await f.close();
    }
    return 0;
  } catch (e) {
    console.error(e instanceof GgufError ? e.message : `ggts quantize: ${(e as Error).message}`);
    return 1;
  }
}
