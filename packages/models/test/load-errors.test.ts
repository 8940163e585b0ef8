// Loader validation: unknown architecture, missing tensor, wrong shape and wrong type each fail with an error
// naming the architecture, the tensor and what was expected.
import { it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGguf, GgufWriter, GgufValueType, type GgufFile } from "@ggts/gguf";
import { GgmlType } from "@ggts/tensor";
import { loadModel } from "@ggts/models";
import { fixture } from "./goldens.js";

let dir = "";
let src: GgufFile;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ggts-models-"));
  src = await openGguf(fixture("tiny-kimi-linear-f32.gguf"));
});
afterAll(async () => { await src.close(); rmSync(dir, { recursive: true, force: true }); });

interface Edit { arch?: string; drop?: string; reshape?: [string, number[]]; retype?: [string, GgmlType] }

async function variant(name: string, e: Edit): Promise<string> {
  const w = new GgufWriter({ alignment: src.alignment });
  for (const kv of src.metadata.values()) {
    if (kv.key === "general.alignment") continue;
    if (kv.key === "general.architecture" && e.arch) { w.setKV(kv.key, GgufValueType.STRING, e.arch); continue; }
    w.addKV(kv);
  }
  for (const t of src.tensors) {
    if (t.name === e.drop) continue;
    const data = await src.readTensorData(t);
    if (e.reshape?.[0] === t.name) w.addTensor(t.name, t.type, e.reshape[1], data);
    else if (e.retype?.[0] === t.name) w.addTensor(t.name, e.retype[1], t.ne, data.subarray(0, t.nElements * 2));
    else w.addTensor(t.name, t.type, t.ne, data);
  }
  const path = join(dir, `${name}.gguf`);
  await w.writeFile(path);
  return path;
}

it("sanity: an unmodified copy loads", async () => {
  const m = await loadModel(await variant("copy", {}), { backend: "reference" });
  expect(m.arch).toBe("kimi-linear");
  expect(m.hparams.isAttn).toEqual([false, false, false, true]);
  m.dispose();
});

it("unknown architecture", async () => {
  await expect(loadModel(await variant("arch", { arch: "llama" }), { backend: "reference" }))
    .rejects.toThrow(/unsupported architecture "llama".*kimi-linear, qwen3next/);
});

it("missing tensor", async () => {
  await expect(loadModel(await variant("missing", { drop: "blk.1.ssm_beta.weight" }), { backend: "reference" }))
    .rejects.toThrow(/kimi-linear: missing tensor blk\.1\.ssm_beta\.weight \(expected shape \[128,4\]\)/);
});

it("wrong shape", async () => {
  await expect(loadModel(await variant("shape", { reshape: ["blk.0.attn_q.weight", [64, 256]] }), { backend: "reference" }))
    .rejects.toThrow(/kimi-linear: tensor blk\.0\.attn_q\.weight has shape \[64,256\], expected \[128,128\]/);
});

it("wrong type for an elementwise weight", async () => {
  await expect(loadModel(await variant("type", { retype: ["blk.2.attn_norm.weight", GgmlType.F16] }), { backend: "reference" }))
    .rejects.toThrow(/kimi-linear: tensor blk\.2\.attn_norm\.weight has type f16, expected f32/);
});

it("bad options", async () => {
  const p = fixture("tiny-kimi-linear-f32.gguf");
  await expect(loadModel(p, { backend: "reference", kvType: "q4_0" as never })).rejects.toThrow(/kvType/);
  await expect(loadModel(p, { backend: "reference", contextSize: 0 })).rejects.toThrow(/contextSize/);
  await expect(loadModel(p, { backend: "nope" })).rejects.toThrow(/unknown backend "nope"/);
});
