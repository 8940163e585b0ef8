// The README's example, kept runnable: examples/readme.test.ts checks that the README shows exactly this file.
import { GgmlType, tensor, mulMat, reshape, rope, softMax, RopeMode, run, createBackend } from "@ggts/tensor";
import "@ggts/backend-cpu"; // registers the "cpu" backend (webgpu and cuda register the same way)

const D = 64, T = 8;
const x = tensor(GgmlType.F32, [D, T], Float32Array.from({ length: D * T }, (_, i) => Math.sin(i)));
const wq = tensor(GgmlType.F32, [D, D], Float32Array.from({ length: D * D }, (_, i) => Math.cos(i) / D));
const pos = tensor(GgmlType.I32, [T], Int32Array.from({ length: T }, (_, i) => i));

// q = RoPE(Wq·x) with one head of width D; scores = softmax(qᵀq / √D)
const q = rope(reshape(mulMat(wq, x), [D, 1, T]), pos, { nDims: D, mode: RopeMode.NEOX });
const q2 = reshape(q, [D, T]);
const scores = softMax(mulMat(q2, q2), { scale: 1 / Math.sqrt(D) }); // [T, T]

const backend = await createBackend("best"); // the best available: cuda, cpu, webgpu, reference
const [s] = await run(backend, [scores]);
console.log(s.subarray(0, T));
