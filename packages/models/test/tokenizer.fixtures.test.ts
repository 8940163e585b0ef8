import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openGguf } from "@ggts/gguf";
import { Tokenizer, tokenizerDataFromGguf } from "../src/tokenizer/index.js";

const fixtures = new URL("../../../../shared/fixtures/", import.meta.url);

interface TokCase {
  text: string;
  ids: number[];
  add_special: boolean;
  parse_special: boolean;
}

const SETS: [string, string][] = [
  ["tokenizer/tok-kimi-k2.tok.json", "tokenizer/tok-kimi-k2.gguf"],
  ["tokenizer/tok-qwen2.tok.json", "tokenizer/tok-qwen2.gguf"],
  ["tokenizer/tiny-kimi-linear.tok.json", "tiny-kimi-linear-f32.gguf"],
  ["tokenizer/tiny-qwen3next.tok.json", "tiny-qwen3next-f32.gguf"],
];

async function loadTokenizer(rel: string): Promise<Tokenizer> {
  const file = await openGguf(fileURLToPath(new URL(rel, fixtures)));
  try {
    return new Tokenizer(tokenizerDataFromGguf(file));
  } finally {
    await file.close();
  }
}

for (const [golden, gguf] of SETS) {
  describe(`llama.cpp tokenizer goldens: ${golden}`, () => {
    const cases = (JSON.parse(readFileSync(new URL(golden, fixtures), "utf8")) as { cases: TokCase[] }).cases;

    it("encodes every case exactly", async () => {
      const tok = await loadTokenizer(gguf);
      const failures: string[] = [];
      for (const c of cases) {
        const ids = tok.encode(c.text, { addSpecial: c.add_special, parseSpecial: c.parse_special });
        if (JSON.stringify(ids) !== JSON.stringify(c.ids)) {
          failures.push(`${JSON.stringify(c.text)} parse=${c.parse_special}: got ${JSON.stringify(ids)} want ${JSON.stringify(c.ids)}`);
        }
      }
      expect(failures).toEqual([]);
      expect(cases.length).toBeGreaterThanOrEqual(40);
    });

    it("decodes every case back to its text", async () => {
      const tok = await loadTokenizer(gguf);
      for (const c of cases) {
        expect(tok.decode(c.ids, { special: true })).toBe(c.text);
      }
    });
  });
}
