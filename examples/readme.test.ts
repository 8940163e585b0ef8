import { describe, it, expect, vi } from "vitest";
import { readFileSync } from "node:fs";

const here = (p: string) => new URL(p, import.meta.url);

describe("README example", () => {
  it("is exactly examples/readme-example.ts", () => {
    const readme = readFileSync(here("../README.md"), "utf8");
    const block = readme.slice(readme.indexOf("```ts\n") + 6, readme.indexOf("```", readme.indexOf("```ts\n") + 6));
    const file = readFileSync(here("./readme-example.ts"), "utf8").split("\n").slice(1).join("\n");
    expect(block).toBe(file);
  });

  it("runs and prints a row of softmax probabilities", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await import("./readme-example.js");
    const row = log.mock.calls[0][0] as Float32Array;
    log.mockRestore();
    expect(row.length).toBe(8);
    const sum = row.reduce((a, b) => a + b, 0);
    expect(sum).toBeGreaterThan(0.999);
    expect(sum).toBeLessThan(1.001);
  });
});
