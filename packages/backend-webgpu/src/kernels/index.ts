// Op name -> kernel builder, one file per op family.
import type { KernelBuilder } from "./spec.js";
import { elementwiseKernels } from "./elementwise.js";
import { copyKernels } from "./copy.js";
import { reduceKernels } from "./reduce.js";
import { matmulKernels } from "./matmul.js";
import { attentionKernels } from "./attention.js";
import { selectKernels } from "./select.js";
import { deltaKernels } from "./delta.js";

export const KERNELS: Readonly<Record<string, KernelBuilder>> = {
  ...elementwiseKernels, ...copyKernels, ...reduceKernels, ...matmulKernels, ...attentionKernels,
  ...selectKernels, ...deltaKernels,
};
