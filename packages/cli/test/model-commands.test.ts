// CLI contract: run / logits / bench / tokenize called in-process (main(args)) on the tiny fixtures.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGguf } from "@ggts/gguf";
import { applyChatTemplate, tokenizerFromGguf } from "@ggts/models";
import { main as run } from "../src/commands/run.js";
import { main as logits } from "../src/commands/logits.js";
import { main as bench } from "../src/commands/bench.js";
import { main as tokenize } from "../src/commands/tokenize.js";
import { capture, fixture, genGolden, goldenLogits, maxAbsDiff, testBackend } from "./helpers.js";

let backend = "reference";
const tmp = mkdtempSync(join(tmpdir(), "ggts-cli-"));
beforeAll(async () => { backend = await testBackend(); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lastLine = (s: string) => s.trimEnd().split("\n").at(-1)!;

for (const name of ["tiny-kimi-linear-f32", "tiny-qwen3next-f32"]) {
  describe(name, () => {
    const model = fixture(`${name}.gguf`);
    const g = genGolden(name);

    it("run --print-ids --temp 0 prints llama.cpp's greedy ids on the last line", async () => {
      const r = await capture(run, ["-m", model, "--tokens", g.prompt.join(","), "-n", "32", "--temp", "0",
        "--kv-type", "f32", "--backend", backend, "--print-ids", "--ignore-eos"]);
      expect(r.stderr).toMatch(/generation: 32 tokens/);
      expect(r.code).toBe(0);
      expect(JSON.parse(lastLine(r.stdout))).toEqual(g.generated);
    });

    it("logits --out writes every position's logits", async () => {
      const gl = goldenLogits(`${name}.short`);
      const out = join(tmp, `${name}.f32`);
      const r = await capture(logits, ["-m", model, "--tokens", gl.tokens.join(","), "--kv-type", "f32", "--backend", backend, "--out", out]);
      expect(r.code, r.stderr).toBe(0);
      const b = readFileSync(out);
      expect(b.byteLength).toBe(gl.tokens.length * gl.nVocab * 4);
      const got = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      expect(maxAbsDiff(got, gl.logits)).toBeLessThanOrEqual(1e-3);
    });
  });
}

describe("tiny-kimi-linear-f32 text and options", () => {
  const name = "tiny-kimi-linear-f32";
  const model = fixture(`${name}.gguf`);

  it("run -p TEXT tokenizes like llama.cpp and streams the decoded text", async () => {
    const g = genGolden(name);
    const gl = goldenLogits(`${name}.short`);
    const r = await capture(run, ["-m", model, "-p", gl.text, "-n", "8", "--temp", "0", "--kv-type", "f32", "--backend", backend, "--print-ids"]);
    expect(r.code, r.stderr).toBe(0);
    const ids = JSON.parse(lastLine(r.stdout)) as number[];
    expect(ids).toEqual(g.generated.slice(0, 8));
    const file = await openGguf(model);
    const tok = tokenizerFromGguf(file);
    await file.close();
    expect(r.stdout).toBe(`${tok.decode(ids)}\n${JSON.stringify(ids)}\n`);
  });

  it("logits --ubatch 1 (token by token) and -p TEXT agree with the golden", async () => {
    const gl = goldenLogits(`${name}.short`);
    const out = join(tmp, "ub1.f32");
    const r = await capture(logits, ["-m", model, "-p", gl.text, "--ubatch", "1", "--kv-type", "f32", "--backend", backend, "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const b = readFileSync(out);
    const got = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    expect(maxAbsDiff(got, gl.logits)).toBeLessThanOrEqual(1e-3);
  });

  it("seeded sampling: the same --seed gives the same ids", async () => {
    const args = ["-m", model, "--tokens", "1,2,3", "-n", "12", "--temp", "1.2", "--top-k", "0", "--top-p", "1", "--min-p", "0",
      "--ignore-eos", "--backend", backend, "--print-ids", "--no-stats"];
    const a = await capture(run, [...args, "--seed", "11"]);
    const b = await capture(run, [...args, "--seed", "11"]);
    expect(a.code).toBe(0);
    expect(a.stderr).toBe("");
    expect(JSON.parse(lastLine(a.stdout))).toHaveLength(12);
    expect(lastLine(a.stdout)).toBe(lastLine(b.stdout));
  });

  it("run --chat renders the GGUF's chat template", async () => {
    const qwen = fixture("tiny-qwen3next-f32.gguf");
    const file = await openGguf(qwen);
    const tok = tokenizerFromGguf(file);
    await file.close();
    expect(tok.chatTemplate).toMatch(/im_start/);
    const text = applyChatTemplate([{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }], { template: tok.chatTemplate });
    expect(text).toMatch(/^<\|im_start\|>system\nBe brief\.<\|im_end\|>/);
    const ids = tok.encode(text, { parseSpecial: true });
    const common = ["-m", qwen, "-n", "4", "--temp", "0", "--ignore-eos", "--backend", backend, "--print-ids", "--no-stats"];
    const a = await capture(run, [...common, "--chat", "--system", "Be brief.", "-p", "hi"]);
    const b = await capture(run, [...common, "--tokens", ids.join(",")]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(lastLine(a.stdout))).toHaveLength(4);
    expect(a.stdout).toBe(b.stdout);
  });

  it("tokenize prints the fixture ids", async () => {
    const cases = JSON.parse(readFileSync(fixture("tokenizer/tiny-kimi-linear.tok.json"), "utf8")).cases as
      { text: string; ids: number[]; add_special: boolean; parse_special: boolean }[];
    const picked = cases.filter((c) => c.text.length > 0 && (c.text.includes("<|") || /[^\x00-\x7f]/.test(c.text) || c.text.includes("quick")));
    expect(picked.length).toBeGreaterThan(5);
    for (const c of picked) {
      const flags = [...(c.add_special ? [] : ["--no-special"]), ...(c.parse_special ? ["--parse-special"] : [])];
      const r = await capture(tokenize, ["-m", model, ...flags, "--", c.text]);
      expect(r.code).toBe(0);
      expect(JSON.parse(lastLine(r.stdout)), c.text).toEqual(c.ids);
    }
  });

  it("bench --json prints pp and tg speeds", async () => {
    const r = await capture(bench, ["-m", model, "-p", "16", "-n", "4", "-r", "2", "--backend", backend, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { test: string; median_ts: number; avg_ts: number; samples_ts: number[]; model_n_params: number; backend: string }[];
    expect(rows.map((x) => x.test)).toEqual(["pp16", "tg4"]);
    for (const x of rows) {
      expect(x.samples_ts).toHaveLength(2);
      expect(x.median_ts).toBeGreaterThan(0);
      expect(Number.isFinite(x.avg_ts)).toBe(true);
      expect(x.backend).toBe(backend);
      expect(x.model_n_params).toBeGreaterThan(1e5);
    }
  });

  it("bench --profile reports per-op time that adds up to the measured graphs", async () => {
    const r = await capture(bench, ["-m", model, "-p", "0", "-n", "3", "-r", "2", "--backend", backend, "--json", "--profile"]);
    if (backend === "reference") {  // no profiler there: a clear refusal
      expect(r.stderr).toMatch(/backend reference does not support --profile/);
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout) as { test: string; median_ts: number; profile: { op: string; type: string; count: number; ns: number; threads: number }[] }[];
    expect(row.test).toBe("tg3");
    const mm = row.profile.find((e) => e.op === "MUL_MAT" && e.type === "f32");
    expect(mm, JSON.stringify(row.profile)).toBeDefined();
    expect(mm!.count % 6).toBe(0);  // 2 repetitions x 3 tokens, the same nodes each token
    const ns = row.profile.reduce((a, e) => a + e.ns, 0);
    expect(ns).toBeGreaterThan(0);
    // graph time cannot exceed the wall time of the timed runs (6 tokens at median speed, generous slack)
    expect(ns / 1e9).toBeLessThan((6 / row.median_ts) * 3);
    const table = await capture(bench, ["-m", model, "-p", "0", "-n", "2", "-r", "1", "--backend", backend, "--profile"]);
    expect(table.stdout).toMatch(/tg2: time per op/);
    expect(table.stdout).toMatch(/\| MUL_MAT +\| f32 +\|/);
  });

  it("bench prints a llama-bench style table by default", async () => {
    const r = await capture(bench, ["-m", model, "-p", "8", "-n", "0", "-r", "1", "--backend", backend]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^\| model .*\| +test \| +t\/s \|$/);
    expect(lines[1]).toMatch(/^\| -+ \|/);
    expect(lines[2]).toMatch(/\| +pp8 \| +[\d.]+ ± [\d.]+ \|$/);
  });
});
