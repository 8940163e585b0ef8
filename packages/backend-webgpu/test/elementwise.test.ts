// Elementwise, GLU and generator ops on WebGPU against the reference backend.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as T from "@ggts/tensor";
import { GluOp, TriType } from "@ggts/tensor";
import { defineCases, f32, gpuOrReason, type Case } from "./helpers.js";
import type { WebGpuBackend } from "../src/index.js";

const probe = await gpuOrReason();
let gpu: WebGpuBackend | null = null;

const unary: [string, (a: T.Tensor) => T.Tensor, number, number][] = [
  ["neg", T.neg, -1, 1], ["abs", T.abs, -1, 1], ["sqr", T.sqr, -1, 1], ["sqrt", T.sqrt, 0.01, 4], ["log", T.log, 0.01, 4],
  ["exp", T.exp, -5, 5], ["sin", T.sin, -4, 4], ["cos", T.cos, -4, 4], ["tanh", T.tanh, -12, 12], ["relu", T.relu, -1, 1],
  ["sigmoid", T.sigmoid, -12, 12], ["silu", T.silu, -12, 12], ["softplus", T.softplus, -30, 30], ["gelu", T.gelu, -6, 6],
  ["gelu_erf", T.geluErf, -6, 6],
];

const cases: Case[] = [
  ...(["add", "sub", "mul", "div"] as const).map((op): Case => ({
    name: `${op} tiled`, build: () => [T[op](f32([10, 5, 4, 3]), f32([10, 1, 2, 1], 0.5, 2))],
  })),
  { name: "add non-contiguous a (transposed view)", build: () => [T.add(T.transpose(f32([6, 9, 2])), f32([9, 1, 2]))] },
  { name: "mul in place chain", build: () => [T.mul(T.add(f32([33, 7]), f32([33, 7])), f32([33, 1]))] },
  ...unary.map(([name, f, lo, hi]): Case => ({ name, build: () => [f(f32([37, 3, 2], lo, hi))] })),
  { name: "unary on permuted view", build: () => [T.silu(T.permute(f32([5, 4, 3, 2]), 2, 0, 1, 3))] },
  { name: "scale", build: () => [T.scale(f32([19, 4]), 0.37, -1.5)] },
  { name: "clamp", build: () => [T.clamp(f32([19, 4], -3, 3), -1, 0.5)] },
  { name: "clamp to infinity", build: () => [T.clamp(f32([19, 4], -3, 3), -Infinity, 0.5)] },
  ...[GluOp.REGLU, GluOp.GEGLU, GluOp.SWIGLU, GluOp.GEGLU_ERF].flatMap((op): Case[] => [
    { name: `glu fused op ${op}`, build: () => [T.glu(f32([16, 3, 2], -3, 3), op, false)] },
    { name: `glu fused swapped op ${op}`, build: () => [T.glu(f32([16, 3, 2], -3, 3), op, true)] },
    { name: `glu split op ${op}`, build: () => [T.glu(f32([9, 3, 2], -3, 3), f32([9, 3, 2]), op)] },
  ]),
  { name: "fill", build: () => [T.fill(f32([7, 3, 2]), 2.5)] },
  ...[TriType.UPPER_DIAG, TriType.UPPER, TriType.LOWER_DIAG, TriType.LOWER].map((t): Case => ({
    name: `tri ${t}`, build: () => [T.tri(f32([10, 10, 4, 3]), t)],
  })),
  { name: "diag", build: () => [T.diag(f32([19, 1, 3, 2]))] },
];

describe.skipIf(!probe.gpu)(`webgpu elementwise ${probe.reason}`, () => {
  beforeAll(() => { gpu = probe.gpu; });
  afterAll(() => gpu?.dispose());
  defineCases(it, () => gpu, cases, expect);
});
if (!probe.gpu) it.skip(`webgpu unavailable: ${probe.reason}`, () => { /* skipped with the reason */ });
