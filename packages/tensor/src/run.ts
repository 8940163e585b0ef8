// Conveniences over the backend interface: run outputs and read them back as plain arrays.
import type { Backend } from "./backend.js";
import { Graph } from "./graph.js";
import { Tensor } from "./tensor.js";
import { readDense } from "./ref/dense.js";
import { GgmlType } from "./types.js";

/** t's values in logical order (ne0 fastest) as f32, dequantizing/converting as needed. */
export async function readF32(backend: Backend, t: Tensor): Promise<Float32Array> {
  const bytes = await backend.getTensor(t);
  return Float32Array.from(readDense(t, bytes, 0).v);
}

/** t's values as i32 (index tensors). */
export async function readI32(backend: Backend, t: Tensor): Promise<Int32Array> {
  if (t.type !== GgmlType.I32) throw new Error(`readI32: ${t} is ${t.typeName}`);
  return Int32Array.from(readDense(t, await backend.getTensor(t), 0).v);
}

/** Builds the graph of `outputs`, computes it on `backend` and returns every output as f32. */
export async function run(backend: Backend, outputs: Tensor[]): Promise<Float32Array[]> {
  const g = new Graph(outputs);
  await backend.compute(g);
  return Promise.all(outputs.map((o) => readF32(backend, o)));
}
