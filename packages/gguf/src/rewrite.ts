// Copying a parsed GGUF into a writer (same KV order, same tensors), the basis of re-writing and quantizing.

import { GgufFile } from "./file.js";
import { GgufWriter } from "./writer.js";

/**
 * A writer holding `file`'s metadata (in file order) and tensors (in file order, data streamed from `file`
 * in chunks). Callers may change KVs before writing.
 */
export function writerFromGguf(file: GgufFile, chunkBytes = 64 << 20): GgufWriter {
  const w = new GgufWriter({ version: file.version === 2 ? 2 : 3, alignment: file.alignment });
  for (const kv of file.metadata.values()) {
    if (kv.key === "general.alignment" && w.metadata.has(kv.key)) continue;
    w.addKV(kv);
  }
  for (const t of file.tensors) w.addTensor(t.name, t.type, t.ne, () => file.streamTensorData(t, chunkBytes));
  return w;
}
