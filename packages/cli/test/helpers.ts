// In-process command runner for the CLI contract tests: calls a command's main(args) with stdout/stderr
// captured, and finds the shared fixtures relative to this file.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";
import { backendFactories } from "@ggts/tensor";

export const FIXTURES = fileURLToPath(new URL("../../../../shared/fixtures/", import.meta.url));
export const fixture = (name: string) => FIXTURES + name;
export const hasFixtures = existsSync(fixture("tiny-kimi-linear-f32.gguf"));

export interface Captured { code: number; stdout: string; stderr: string }

export async function capture(main: (args: string[]) => Promise<number>, args: string[]): Promise<Captured> {
  let stdout = "", stderr = "";
  const text = (c: unknown) => (typeof c === "string" ? c : Buffer.from(c as Uint8Array).toString("utf8"));
  const spies = [
    vi.spyOn(process.stdout, "write").mockImplementation((c: unknown) => { stdout += text(c); return true; }),
    vi.spyOn(process.stderr, "write").mockImplementation((c: unknown) => { stderr += text(c); return true; }),
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => { stdout += a.join(" ") + "\n"; }),
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => { stderr += a.join(" ") + "\n"; }),
  ];
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
}

/** "cpu" when its addon is built here, else the (slow) reference backend. */
export async function testBackend(): Promise<string> {
  try { await import("@ggts/backend-cpu"); } catch { /* not built */ }
  const cpu = backendFactories().find((f) => f.name === "cpu");
  return cpu && (await cpu.available()).ok ? "cpu" : "reference";
}

export function genGolden(model: string): { prompt: number[]; generated: number[] } {
  const g = JSON.parse(readFileSync(fixture(`goldens/${model}.short.gen.json`), "utf8"));
  return { prompt: g.prompt_tokens, generated: g.generated_tokens };
}

export function goldenLogits(name: string): { tokens: number[]; text: string; nVocab: number; logits: Float32Array } {
  const meta = JSON.parse(readFileSync(fixture(`goldens/${name}.json`), "utf8"));
  const b = readFileSync(fixture(`goldens/${name}.logits.f32`));
  return { tokens: meta.tokens, text: meta.text, nVocab: meta.n_vocab, logits: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i]! - b[i]!); if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d; }
  return m;
}

/** A failed command must say why on exactly one stderr line. */
export function oneLine(s: string): string {
  const lines = s.split("\n").filter((l) => l.length > 0);
  if (lines.length !== 1) throw new Error(`expected one error line, got ${lines.length}: ${JSON.stringify(s)}`);
  return lines[0]!;
}
