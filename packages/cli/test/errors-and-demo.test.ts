// CLI contract: bad input gives one stderr line and exit code 1; the demo writes its model once and streams.
import { describe, it, expect, afterAll } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main as run } from "../src/commands/run.js";
import { main as logits } from "../src/commands/logits.js";
import { main as bench } from "../src/commands/bench.js";
import { main as demo } from "../src/commands/demo.js";
import { parseFlags, parseIds } from "../src/args.js";
import { listBackends, resolveBackend } from "../src/backends.js";
import { capture, fixture, oneLine } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "ggts-cli-err-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const model = fixture("tiny-kimi-linear-f32.gguf");

describe("bad input: one line on stderr, exit code 1", () => {
  const cases: [string, (a: string[]) => Promise<number>, string[], RegExp][] = [
    ["unknown flag", run, ["-m", model, "-p", "hi", "--bogus"], /^ggts run: unknown option --bogus/],
    ["missing value", run, ["-m", model, "-p"], /-p needs a value/],
    ["non-numeric", run, ["-m", model, "-p", "hi", "--temp", "warm"], /--temp must be a number, got "warm"/],
    ["non-integer", run, ["-m", model, "-p", "hi", "-n", "2.5"], /-n must be an integer/],
    ["no prompt", run, ["-m", model], /give a prompt/],
    ["missing model flag", run, ["-p", "hi"], /missing -m MODEL/],
    ["missing file", run, ["-m", join(tmp, "nope.gguf"), "-p", "hi"], /model file not found: .*nope\.gguf/],
    ["unknown backend", run, ["-m", model, "-p", "hi", "--backend", "tpu"], /unknown backend "tpu" \(known: reference, cpu, webgpu, cuda\)/],
    ["bad kv type", run, ["-m", model, "-p", "hi", "--kv-type", "q4_0"], /--kv-type must be one of f32, f16, q8_0/],
    ["token out of range", run, ["-m", model, "--tokens", "1,9999", "--backend", "reference"], /token id 9999 is outside \[0, 512\)/],
    ["bad token list", logits, ["-m", model, "--tokens", "1,x", "--out", join(tmp, "x.f32")], /--tokens: "x" is not a token id/],
    ["logits without --out", logits, ["-m", model, "--tokens", "1,2"], /missing --out FILE/],
    ["bad delta-net", logits, ["-m", model, "--tokens", "1", "--delta-net", "fast", "--out", join(tmp, "x.f32")], /--delta-net must be one of fused, decomposed/],
    ["not a gguf", logits, ["-m", fixture("README.md"), "--tokens", "1", "--backend", "reference", "--out", join(tmp, "x.f32")], /./],
    ["bench nothing", bench, ["-m", model, "-p", "0", "-n", "0"], /nothing to measure/],
    ["stray positional", bench, ["-m", model, "extra"], /unexpected argument "extra"/],
  ];
  for (const [what, main, args, re] of cases) {
    it(what, async () => {
      const r = await capture(main, args);
      expect(r.code).toBe(1);
      expect(oneLine(r.stderr)).toMatch(re);
      expect(r.stdout).toBe("");
    });
  }

  it("--help prints the usage and succeeds", async () => {
    for (const main of [run, logits, bench, demo]) {
      const r = await capture(main, ["--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: ggts \w+/);
    }
  });
});

describe("args helpers", () => {
  it("parse typed values, aliases, --flag=value and negative numbers", () => {
    const f = parseFlags(["-n", "5", "--temp=0.5", "--seed", "-1", "--chat", "x"],
      { n: { kind: "int", alias: ["-n"] }, temp: { kind: "number" }, seed: { kind: "int" }, chat: { kind: "bool" } }, 1);
    expect(f).toEqual({ _: ["x"], n: 5, temp: 0.5, seed: -1, chat: true });
    expect(parseIds("1, 2,3")).toEqual([1, 2, 3]);
    expect(() => parseIds("")).toThrow(/needs a comma-separated list/);
  });

  it("resolveBackend picks an available default and rejects unknown names", async () => {
    expect(["cuda", "cpu", "reference"]).toContain(await resolveBackend());
    expect(await resolveBackend("reference")).toBe("reference");
    await expect(resolveBackend("nope")).rejects.toThrow(/unknown backend "nope"/);
    const all = await listBackends();
    expect(all.find((b) => b.name === "reference")?.available.ok).toBe(true);
    for (const n of ["cpu", "webgpu", "cuda"]) expect(all.some((b) => b.name === n)).toBe(true); // listed, usable or not
  });
});

describe("demo", () => {
  it("creates the model in the cache dir on first run, reuses it after, and streams text with speeds", async () => {
    const dir = join(tmp, "cache");
    const a = await capture(demo, ["--cache-dir", dir, "-n", "6", "--seed", "3"]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/wrote the demo model/);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0]!)).size).toBeGreaterThan(1e6);
    expect(a.stdout).toMatch(/^ggts demo: tiny Kimi-Linear .* on the (cpu|cuda|reference) backend\n/);
    expect(a.stdout).toMatch(/generation: 6 tokens at [\d.]+ tokens\/s\n$/);
    const b = await capture(demo, ["--cache-dir", dir, "-n", "6", "--seed", "3"]);
    expect(b.code).toBe(0);
    expect(b.stderr).toBe("");
    // Same seed, same model: the same text (everything but the timing line).
    const body = (s: string) => s.split("\n\nprompt:")[0];
    expect(body(b.stdout)).toBe(body(a.stdout));
    expect(existsSync(join(dir, files[0]!))).toBe(true);
  });
});
