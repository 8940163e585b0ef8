// Worker thread: generates and quantizes synth chunks off the main thread.
import { parentPort } from "node:worker_threads";
import { ChunkJob, makeChunk } from "./generate.js";

parentPort!.on("message", (msg: { id: number; job: ChunkJob }) => {
  try {
    const out = makeChunk(msg.job);
    parentPort!.postMessage({ id: msg.id, out }, [out.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).message });
  }
});
