import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fuzzInput, locateFields } from "../src/testing/fuzz.js";
import { parseGguf } from "../src/index.js";
import { ALL_FIXTURES, fixture } from "./fixtures.js";

// Deterministic: fixed seeds, fixed case counts (700 cases per fixture, ~5,000 in total; about 10 s).
const CASES = 700;

describe("GGUF parser fuzz (mutated fixtures)", () => {
  for (const [i, name] of ALL_FIXTURES.entries()) {
    it(`${name}: every mutation parses or throws GgufError`, () => {
      const bytes = new Uint8Array(readFileSync(fixture(name)));
      const { fields, headerEnd } = locateFields(bytes);
      expect(headerEnd).toBe(parseGguf(bytes).headerSize); // the walker agrees with the parser
      expect(fields.length).toBeGreaterThan(10);
      const st = fuzzInput(bytes, CASES, 1000 + i);
      expect(st.cases).toBe(CASES);
      expect(st.slowestMs).toBeLessThan(20_000); // no hangs (generous: CI machines are shared)
      expect(st.errors).toBeGreaterThan(CASES / 10); // mutations really hit the header
    });
  }
});
