// The CLI command modules (packages/cli/src/commands/{gguf,quantize,synth}.ts) are thin wrappers over this
// package; they are exercised here so their argument handling is covered where the logic lives.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main as ggufMain } from "../../cli/src/commands/gguf.js";
import { main as quantizeMain } from "../../cli/src/commands/quantize.js";
import { main as synthMain } from "../../cli/src/commands/synth.js";
import { openGguf } from "../src/index.js";
import { fixture } from "./fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "ggts-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let out: string[], err: string[];
beforeEach(() => {
  out = []; err = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => { out.push(a.join(" ")); });
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => { err.push(a.join(" ")); });
});
afterEach(() => vi.restoreAllMocks());

describe("ggts gguf info", () => {
  it("text: arch, size, type histogram, tensor table", async () => {
    expect(await ggufMain(["info", fixture("kimi-q-q4_k_m.gguf"), "--tensors"])).toBe(0);
    const text = out.join("\n");
    expect(text).toMatch(/architecture: kimi-linear/);
    expect(text).toMatch(/4742240 bytes/);
    expect(text).toMatch(/tensors:\s+89/);
    expect(text).toMatch(/q4_K\s+32 tensors/);
    expect(text).toMatch(/q6_K\s+5 tensors/);
    expect(text).toMatch(/q5_0\s+8 tensors/);
    expect(text).toMatch(/blk\.0\.ssm_beta\.weight\s+q4_K\s+\[256, 4\]\s+576\s+644608/);
  });
  it("json", async () => {
    expect(await ggufMain(["info", fixture("kimi-q-q8_0.gguf"), "--json", "--tensors"])).toBe(0);
    const j = JSON.parse(out.join("\n"));
    expect(j.architecture).toBe("kimi-linear");
    expect(j.tensorCount).toBe(89);
    expect(j.types.q8_0.count).toBe(55);
    expect(j.types.f32.count).toBe(34);
    expect(j.metadata["kimi-linear.attention.head_count_kv"]).toEqual([0, 0, 0, 1]);
    expect(j.metadata["tokenizer.ggml.tokens"].length).toBe(512);
    expect(j.tensors).toHaveLength(89);
  });
  it("errors: bad file, usage", async () => {
    const bad = join(dir, "bad.gguf");
    writeFileSync(bad, "GGUF\x01\x00\x00\x00");
    expect(await ggufMain(["info", bad])).toBe(1);
    expect(err.join("\n")).toMatch(/unsupported GGUF version 1 .*at offset 4/);
    expect(await ggufMain(["info"])).toBe(2);
    expect(await ggufMain(["nope"])).toBe(2);
  });
});

describe("ggts quantize / synth", () => {
  it("synth → quantize → info", async () => {
    const f32 = join(dir, "s.gguf"), q = join(dir, "s-q8.gguf");
    expect(await synthMain(["--arch", "qwen3next", "--preset", "tiny", "--out", f32, "--seed", "2", "--layers", "2"])).toBe(0);
    expect(out.join("\n")).toMatch(/qwen3next 2 layers, 8 experts/);
    expect(await quantizeMain([f32, q, "q8_0"])).toBe(0);
    const g = await openGguf(q);
    await g.close();
    expect(g.getU32("general.file_type")).toBe(7);
    expect(g.tensor("blk.0.attn_qkv.weight").type).toBe(8);
    expect(await quantizeMain([f32, q, "Q9_9"])).toBe(1);
    expect(err.join("\n")).toMatch(/unknown quantization type "Q9_9"/);
    expect(await synthMain(["--arch", "llama", "--preset", "tiny", "--out", f32])).toBe(2);
    expect(await synthMain(["--arch", "qwen3next", "--preset", "huge", "--out", f32])).toBe(1);
    expect(err.join("\n")).toMatch(/unknown preset "huge"/);
  });
  it("synth --config JSON and --dry-run", async () => {
    const cfg = join(dir, "c.json");
    writeFileSync(cfg, JSON.stringify({ hidden: 64, layers: 2, vocab: 400, merges: 100 }));
    expect(await synthMain(["--arch", "kimi-linear", "--config", cfg, "--dry-run"])).toBe(0);
    expect(out.join("\n")).toMatch(/kimi-linear 2 layers, 8 experts, vocab 400/);
  });
});
