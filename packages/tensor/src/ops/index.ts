export * from "./spec.js";
export * from "./layout.js";
export * from "./elementwise.js";
export * from "./reduce.js";
export * from "./matmul.js";
export * from "./attention.js";
export * from "./select.js";
export * from "./delta.js";
export { check } from "./define.js";
