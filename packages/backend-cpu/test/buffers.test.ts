// Native buffers: file mappings used in place, deterministic frees, no growth over many graph runs.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GgmlType, Graph, add, mul, mulMat, readF32, rmsNorm, run, tensor } from "@ggts/tensor";
import { CpuBackend, addonLoadError } from "@ggts/backend-cpu";

const reason = addonLoadError();
const FIXTURE = fileURLToPath(new URL("../../../../shared/fixtures/tiny-kimi-linear-f32.gguf", import.meta.url));

describe.skipIf(reason !== null)("cpu backend: buffers", () => {
  it("maps a file region read-only and serves its bytes in place", async () => {
    const be = new CpuBackend({ threads: 2 });
    const before = be.stats();
    try {
      const file = readFileSync(FIXTURE);
      const off = 4096, size = 64 * 1024;
      const buf = await be.bufferFromFile(FIXTURE, off, size);
      const buf2 = await be.bufferFromFile(FIXTURE, 0, 1024);
      // Both regions share one mapping of the whole file.
      expect(be.stats().mappings).toBe(before.mappings + 1);
      expect(be.stats().mappedBytes - before.mappedBytes).toBe(file.byteLength);
      const raw = tensor(GgmlType.I8, [size]);
      be.bind(raw, buf, 0);
      expect(Buffer.from(await be.getTensor(raw)).equals(file.subarray(off, off + size))).toBe(true);
      expect(Buffer.from(await be.getTensor(raw, 100, 50)).equals(file.subarray(off + 100, off + 150))).toBe(true);
      // Mapped bytes are read-only: host writes and graph writes are refused.
      await expect(be.setTensor(raw, new Int8Array(4))).rejects.toThrow(/read-only/);
      // ...but usable as kernel inputs (here as f32 data, whatever it holds).
      const w = tensor(GgmlType.F32, [64, 4]);
      be.bind(w, buf, 256);
      const ref = new Float32Array(file.buffer.slice(file.byteOffset + off + 256, file.byteOffset + off + 256 + 1024));
      const [out] = await run(be, [add(w, w)]);
      for (let i = 0; i < 256; i++) {
        const e = ref[i] + ref[i];
        if (Number.isNaN(e)) expect(out[i]).toBeNaN(); else expect(out[i]).toBe(e);
      }
      expect(Buffer.from(await be.getTensor(raw)).equals(file.subarray(off, off + size))).toBe(true);
      buf.free();
      expect(be.stats().mappings).toBe(before.mappings + 1);
      buf2.free();
      expect(be.stats().mappings).toBe(before.mappings);
      await expect(be.bufferFromFile(FIXTURE, file.byteLength - 10, 11)).rejects.toThrow(/outside/);
      await expect(be.bufferFromFile("/nonexistent/x.gguf", 0, 1)).rejects.toThrow(/cannot open/);
    } finally {
      be.dispose();
    }
    expect(be.stats().buffers).toBe(before.buffers);
  });

  it("frees buffers deterministically", () => {
    const be = new CpuBackend({ threads: 1 });
    const b0 = be.stats();
    const bufs = Array.from({ length: 100 }, () => be.allocBuffer(1 << 16));
    expect(be.stats().buffers - b0.buffers).toBe(100);
    expect(be.stats().bytes - b0.bytes).toBe(100 << 16);
    for (const b of bufs) b.free();
    expect(be.stats().buffers).toBe(b0.buffers);
    expect(be.stats().bytes).toBe(b0.bytes);
    be.dispose();
  });

  it("does not leak over 1000 graph runs", async () => {
    const be = new CpuBackend({ threads: 2 });
    try {
      const w = tensor(GgmlType.F32, [64, 64]);
      const wb = be.allocBuffer(w.nBytes);
      be.bind(w, wb, 0);
      await be.setTensor(w, Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)));
      const step = async (i: number) => {
        const x = tensor(GgmlType.F32, [64, 4], Float32Array.from({ length: 256 }, (_, j) => Math.cos(i + j)));
        const y = mul(mulMat(w, rmsNorm(x, 1e-6)), x);
        const g = new Graph([y]);
        await be.compute(g);
        return readF32(be, y);
      };
      for (let i = 0; i < 50; i++) await step(i);
      const s0 = be.stats();
      const rss0 = process.memoryUsage.rss();
      for (let i = 0; i < 1000; i++) await step(i);
      const s1 = be.stats();
      expect(s1.buffers).toBe(s0.buffers);
      expect(s1.bytes).toBe(s0.bytes);
      expect(process.memoryUsage.rss() - rss0).toBeLessThan(64 << 20);
      wb.free();
    } finally {
      be.dispose();
    }
  }, 120_000);
});

describe.skipIf(reason !== null)("cpu backend: asynchronous compute", () => {
  it("keeps the event loop free while a graph runs", async () => {
    const be = new CpuBackend({ threads: 1 });
    try {
      const a = tensor(GgmlType.F32, [384, 384], Float32Array.from({ length: 384 * 384 }, (_, i) => Math.sin(i)));
      let x = tensor(GgmlType.F32, [384, 384], Float32Array.from({ length: 384 * 384 }, (_, i) => Math.cos(i) / 384));
      for (let i = 0; i < 16; i++) x = rmsNorm(mulMat(a, x), 1e-6);
      const g = new Graph([x]);
      await be.compute(g);  // warm-up: placement, scratch
      let ticks = 0;
      let done = false;
      const tick = () => { ticks++; if (!done) setImmediate(tick); };
      setImmediate(tick);
      const t0 = performance.now();
      await be.compute(g);
      done = true;
      const ms = performance.now() - t0;
      // A blocking call would allow no ticks at all until it returned.
      expect(ticks).toBeGreaterThan(3);
      expect(ms).toBeGreaterThan(1);
    } finally {
      be.dispose();
    }
  });

  it("orders computes and copies issued without awaiting", async () => {
    const be = new CpuBackend({ threads: 2 });
    try {
      // Arena results are valid until the next compute; copies queued in between must see their own graph's.
      const xs = Array.from({ length: 8 }, (_, i) => tensor(GgmlType.F32, [1000], Float32Array.from({ length: 1000 }, () => i)));
      const reads: Promise<Float32Array>[] = [];
      for (const x of xs) {
        const y = add(x, x);
        void be.compute(new Graph([y]));
        reads.push(readF32(be, y));
      }
      (await Promise.all(reads)).forEach((o, i) => expect(o[999]).toBe(2 * i));
    } finally {
      be.dispose();
    }
  });
});
