// Backend mechanics: whole graphs with in-place planning, bound weights, split bindings for tensors larger
// than one binding, streamed file buffers, unaligned tensor I/O, host fallback, registry and dispose.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as T from "@ggts/tensor";
import { GgmlType as G, Graph, backendFactories, quantize, readF32, run, tensor } from "@ggts/tensor";
import { WebGpuBackend } from "../src/index.js";
import { compare, f32, gpuOrReason, i32, typed, uniform } from "./helpers.js";

const probe = await gpuOrReason();

describe.skipIf(!probe.gpu)("webgpu backend", () => {
  const gpu = probe.gpu!;
  afterAll(() => gpu?.dispose());

  it("is registered as webgpu with priority 50 and reports the adapter", () => {
    const f = backendFactories().find((x) => x.name === "webgpu");
    expect(f?.priority).toBe(50);
    expect(gpu.deviceInfo().name).toBe("webgpu");
    expect(String(gpu.deviceInfo().description).length).toBeGreaterThan(0);
  });

  it("runs a transformer-like block as one graph, with in-place nodes planned", async () => {
    const x = f32([64, 5]);
    const h = T.rmsNorm(x, 1e-6);
    const q = T.reshape(T.mulMat(typed(G.Q8_0, [64, 64]), h), [16, 4, 5]);
    const r = T.rope(q, i32([5], [0, 1, 2, 3, 4]), { nDims: 16, mode: T.RopeMode.NEOX });
    const kq = T.mulMat(T.permute(r, 0, 2, 1, 3), T.permute(r, 0, 2, 1, 3));
    const sm = T.softMax(kq, { scale: 0.25 });
    const ff = T.mulMat(typed(G.Q4_K, [256, 64]), T.swiglu(T.mulMat(typed(G.F16, [64, 512]), h)));
    const out = T.add(T.scale(ff, 0.5), x);
    const { err } = await compare(gpu, [sm, out]);
    expect(err).toBeLessThan(5e-4);
    expect(gpu.lastHostOps).toEqual([]);
    const plan = T.planMemory(new Graph([sm, out]), () => true);
    expect(plan.inplace.size).toBeGreaterThan(0);
  });

  it("reads weights bound to a buffer and splits a weight larger than one binding into row ranges", async () => {
    const small = await WebGpuBackend.create({ hostFallback: false, maxBindingSize: 4096 });
    try {
      for (const type of [G.Q5_0, G.F32]) {
        const w = typed(type, [256, 40]); // q5_0: 8.8 KB, f32: 40 KB: several ranges of 4 KiB
        const buf = small.allocBuffer(w.nBytes + 64);
        small.bind(w, buf, type === G.F32 ? 20 : 18); // block data need not be word-aligned
        await small.setTensor(w, w.data!);
        const b = f32([256, 3]);
        const want = await run(new T.ReferenceBackend(), [T.mulMat(tensor(type, [256, 40], w.data!), b)]);
        const [got] = await run(small, [T.mulMat(w, b)]);
        let e = 0, s = 0;
        want[0].forEach((v, i) => { e += (v - got[i]) ** 2; s += v * v; });
        expect(e / s).toBeLessThan(5e-4);
        const rows = await run(small, [T.getRows(w, i32([3], [39, 0, 17]))]);
        const ref = await run(new T.ReferenceBackend(), [T.getRows(tensor(type, [256, 40], w.data!), i32([3], [39, 0, 17]))]);
        expect(Array.from(rows[0])).toEqual(Array.from(ref[0]));
        buf.free();
      }
    } finally { small.dispose(); }
  });

  it("matrix-vector workgroup kernel (the GPU default) matches the reference", async () => {
    const wg = await WebGpuBackend.create({ hostFallback: false, matvec: "workgroup" });
    try {
      for (const type of [G.F16, G.Q4_K]) {
        const { err } = await compare(wg, [T.mulMat(typed(type, [512, 7]), f32([512, 2]))]);
        expect(err).toBeLessThan(5e-4);
      }
    } finally { wg.dispose(); }
  });

  it("streams a file region into a buffer (bufferFromFile)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ggts-webgpu-"));
    try {
      const w = uniform(1000);
      const header = new Uint8Array(37).fill(7);
      const file = join(dir, "weights.bin");
      writeFileSync(file, Buffer.concat([header, Buffer.from(w.buffer)]));
      const buf = await gpu.bufferFromFile(file, 37, 4000);
      const t = tensor(G.F32, [1000]);
      gpu.bind(t, buf, 0);
      expect(Array.from(await readF32(gpu, t))).toEqual(Array.from(w));
      await expect(gpu.bufferFromFile(file, 37, 5000)).rejects.toThrow(/ended/);
      buf.free();
    } finally { rmSync(dir, { recursive: true }); }
  });

  it("writes and reads unaligned byte ranges", async () => {
    const buf = gpu.allocBuffer(64);
    const t = tensor(G.I8, [21]);
    gpu.bind(t, buf, 3);
    const bytes = Uint8Array.from({ length: 21 }, (_, i) => i + 1);
    await gpu.setTensor(t, bytes);
    await gpu.setTensor(t, Uint8Array.of(200, 201), 5);
    const back = await gpu.getTensor(t);
    expect(Array.from(back)).toEqual([1, 2, 3, 4, 5, 200, 201, ...bytes.slice(7)]);
    expect(Array.from(await gpu.getTensor(t, 4, 3))).toEqual([5, 200, 201]);
    expect(() => gpu.bind(t, buf, 60)).toThrow(/exceeds/);
    expect(() => gpu.bind(tensor(G.F32, [2]), buf, 2)).toThrow(/aligned/);
    buf.free();
  });

  it("falls back to the host for a node it cannot bind when hostFallback is on", async () => {
    const fb = await WebGpuBackend.create({ maxBindingSize: 1024 });
    try {
      const a = f32([300, 2]); // 2400 bytes: too large for a 1 KiB binding, and SOFT_MAX is not row-split
      const [got] = await run(fb, [T.softMax(a)]);
      const [want] = await run(new T.ReferenceBackend(), [T.softMax(a)]);
      expect(fb.lastHostOps).toEqual(["SOFT_MAX"]);
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-6));
    } finally { fb.dispose(); }
  });

  it("keeps results of earlier graphs in bound buffers across computes (KV-cache style)", async () => {
    const cache = tensor(G.F16, [8, 6]);
    const buf = gpu.allocBuffer(cache.nBytes);
    gpu.bind(cache, buf, 0);
    await gpu.setTensor(cache, new Uint8Array(cache.nBytes));
    const rows = [f32([8, 2]), f32([8, 1])];
    await run(gpu, [T.setRows(cache, rows[0], i32([2], [0, 1]))]);
    await run(gpu, [T.setRows(cache, rows[1], i32([1], [4]))]);
    const all = await readF32(gpu, cache);
    const expectRow = (r: number, src: Float32Array) =>
      src.forEach((v, i) => expect(Math.abs(all[r * 8 + i] - v)).toBeLessThan(1e-3));
    expectRow(0, (rows[0].data as Float32Array).subarray(0, 8));
    expectRow(1, (rows[0].data as Float32Array).subarray(8));
    expectRow(4, rows[1].data as Float32Array);
    expect(Array.from(all.subarray(16, 32))).toEqual(new Array(16).fill(0));
    buf.free();
  });

  it("disposes deterministically", async () => {
    const b = await WebGpuBackend.create();
    const buf = b.allocBuffer(1024);
    b.dispose();
    expect(() => b.allocBuffer(16)).toThrow(/disposed/);
    buf.free(); // no-op after dispose
    void quantize;
  });
});
if (!probe.gpu) it.skip(`webgpu unavailable: ${probe.reason}`, () => { /* skipped with the reason */ });
