// Op testing: case definitions, inputs, and the harness that checks a backend against the reference.
export * from "./rng.js";
export * from "./init.js";
export * from "./case.js";
export * from "./harness.js";
export * from "./cases/index.js";
export { permutedInput, ALL_MATMUL_TYPES, LEGACY_QUANT_TYPES, type Perm } from "./cases/util.js";
