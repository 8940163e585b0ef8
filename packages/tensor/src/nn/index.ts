// Reusable graph builders on top of the primitive ops.
export * from "./delta-rule.js";
