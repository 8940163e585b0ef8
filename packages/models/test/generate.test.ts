// session.generate: llama.cpp greedy goldens, abort/continue consistency, streamed UTF-8, EOG stops,
// seeded sampling, chat prompts with prefix reuse. Runs on "cpu" when built, else "reference".
import { describe, it, expect, afterAll, beforeAll } from "vitest";
import { loadModel, Sampler, applyChatTemplate, type Model, type GeneratedPiece, type Generation } from "@ggts/models";
import { fixture, genGolden } from "./goldens.js";
import { testBackends } from "./backends.js";

let backend = "reference";
const opened: Model[] = [];
beforeAll(async () => { if ((await testBackends()).includes("cpu")) backend = "cpu"; });
afterAll(() => opened.forEach((m) => m.dispose()));

async function open(name: string, contextSize = 128): Promise<Model> {
  const m = await loadModel(fixture(`${name}.gguf`), { backend, kvType: "f32", contextSize });
  opened.push(m);
  return m;
}

async function drain(g: Generation): Promise<GeneratedPiece[]> {
  const out: GeneratedPiece[] = [];
  for await (const p of g) out.push(p);
  return out;
}

/** Returns a fixed script of tokens, to drive the decoder and the stop logic deterministically. */
class ScriptedSampler extends Sampler {
  private i = 0;
  constructor(private readonly script: number[]) { super({ greedy: true }); }
  override sample(): number {
    if (this.i >= this.script.length) throw new Error("script exhausted");
    return this.script[this.i++]!;
  }
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)]; // the tiny vocab's ids 0..255 are the bytes

for (const name of ["tiny-kimi-linear-f32", "tiny-qwen3next-f32"]) {
  describe(name, () => {
    const g = genGolden(name);

    it("greedy 32 tokens equal llama.cpp's", async () => {
      const m = await open(name);
      const s = await m.createSession();
      const r = await s.generate(g.prompt, { greedy: true, maxTokens: 32, ignoreEog: true }).result();
      expect(r.tokens).toEqual(g.generated);
      expect(r.finishReason).toBe("length");
      expect(s.position).toBe(g.prompt.length + 31); // the last sampled token is not evaluated
      expect(r.stats.promptTokens).toBe(g.prompt.length);
      expect(r.stats.generatedTokens).toBe(32);
      expect(r.stats.promptTokensPerSecond).toBeGreaterThan(0);
      expect(r.stats.generationTokensPerSecond).toBeGreaterThan(0);
      expect(r.text).toBe(m.tokenizer!.decode(g.generated));
    });

    it("an abort mid-way leaves the session consistent and a later generate continues", async () => {
      const m = await open(name);
      const s = await m.createSession();
      const ac = new AbortController();
      const first: number[] = [];
      const gen = s.generate(g.prompt, { greedy: true, ignoreEog: true, signal: ac.signal });
      for await (const p of gen) {
        first.push(p.token);
        expect(p.position).toBe(g.prompt.length + p.index);
        if (first.length === 10) ac.abort();
      }
      expect(gen.finishReason).toBe("abort");
      expect(first).toEqual(g.generated.slice(0, 10));
      expect(s.position).toBe(g.prompt.length + 9);
      const rest = await s.generate([], { greedy: true, ignoreEog: true, maxTokens: 12 }).result();
      expect(rest.stats.promptTokens).toBe(1); // the pending token
      expect(rest.tokens).toEqual(g.generated.slice(10, 22));

      // Leaving the loop early works the same way; then a text-free continuation by token ids.
      for await (const p of s.generate([], { greedy: true, ignoreEog: true })) if (p.index === 4) break;
      const more = await s.generate([], { greedy: true, ignoreEog: true, maxTokens: 5 }).result();
      expect(more.tokens).toEqual(g.generated.slice(27, 32));
    });

    it("an abort during the prompt stops between ubatches", async () => {
      const m = await open(name);
      const s = await m.createSession();
      const ac = new AbortController();
      ac.abort();
      const r = await s.generate(g.prompt, { greedy: true, signal: ac.signal }).result();
      expect(r.finishReason).toBe("abort");
      expect(r.tokens).toEqual([]);
      expect(s.position).toBe(0);
      const r2 = await s.generate(g.prompt, { greedy: true, ignoreEog: true, maxTokens: 3, ubatch: 4 }).result();
      expect(r2.tokens).toEqual(g.generated.slice(0, 3));
    });
  });
}

describe("tiny-kimi-linear-f32 streaming and stops", () => {
  const name = "tiny-kimi-linear-f32";
  const prompt = genGolden(name).prompt;
  let m: Model;
  beforeAll(async () => { m = await open(name); });

  it("multi-byte characters split over tokens come out whole", async () => {
    const s = await m.createSession();
    const script = [...utf8("aé"), ...utf8("😀"), ...utf8("€").slice(0, 2)];
    const pieces = await drain(s.generate(prompt, { sampler: new ScriptedSampler(script), maxTokens: script.length }));
    expect(pieces.map((p) => p.text)).toEqual(["a", "", "é", "", "", "", "😀", "", "", "\uFFFD"]);
    expect(pieces.at(-1)!.token).toBe(-1); // the unfinished "€" is flushed as one replacement character
    expect(pieces.slice(0, -1).map((p) => p.token)).toEqual(script);
  });

  it("stops at an end-of-generation token unless ignoreEog", async () => {
    const imEnd = m.tokenizer!.tokenId("<|im_end|>")!;
    expect(m.tokenizer!.isEog(imEnd)).toBe(true);
    const s = await m.createSession();
    const gen = s.generate(prompt, { sampler: new ScriptedSampler([...utf8("hi"), imEnd, 65]) });
    const pieces = await drain(gen);
    expect(pieces.map((p) => p.token)).toEqual(utf8("hi"));
    expect(gen.finishReason).toBe("eog");
    expect(gen.tokens).toEqual([...utf8("hi"), imEnd]);
    const s2 = await m.createSession();
    const r = await s2.generate(prompt, { sampler: new ScriptedSampler([...utf8("hi"), imEnd, 65]), ignoreEog: true, maxTokens: 4 }).result();
    expect(r.text).toBe("hiA");
    expect(r.finishReason).toBe("length");
  });

  it("seeded sampling is reproducible; a different seed differs", async () => {
    const opts = { temperature: 1.5, topK: 0, topP: 1, minP: 0, maxTokens: 12, ignoreEog: true };
    const run = async (seed: number) => (await (await m.createSession()).generate(prompt, { ...opts, seed }).result()).tokens;
    const a = await run(7), b = await run(7), c = await run(8);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it("chat messages use the Kimi template and reuse a session whose tokens are a prefix", async () => {
    const msgs = [{ role: "user", content: "Hello world!" }];
    const fresh = await (await m.createSession()).generate(msgs, { greedy: true, maxTokens: 4, ignoreEog: true }).result();
    // The fixture carries a Jinja template; it renders the Kimi form.
    const rendered = applyChatTemplate(msgs, { template: m.tokenizer!.chatTemplate });
    expect(rendered).toBe("<|im_user|>user<|im_middle|>Hello world!<|im_end|><|im_assistant|>assistant<|im_middle|>");
    expect(fresh.stats.promptTokens).toBe(m.tokenizer!.encode(rendered, { parseSpecial: true }).length);
    const s = await m.createSession();
    await s.generate(msgs, { maxTokens: 0 }).result(); // prefill only
    const pos = s.position;
    const again = await s.generate(msgs, { greedy: true, maxTokens: 4, ignoreEog: true }).result();
    expect(again.stats.reusedTokens).toBe(pos);
    expect(again.stats.promptTokens).toBe(0);
    expect(again.tokens).toEqual(fresh.tokens);
    // A different conversation does not share the prefix: the session starts over.
    const other = await s.generate([{ role: "user", content: "Bye" }], { greedy: true, maxTokens: 2 }).result();
    expect(other.stats.reusedTokens).toBe(0);
  });

  it("a follow-up turn reuses the session through the reply and its end token", async () => {
    const tok = m.tokenizer!;
    const reply = tok.encode("Hello world", { addSpecial: false });
    const imEnd = tok.tokenId("<|im_end|>")!;
    const turn1 = [{ role: "user", content: "Hi" }];
    const s = await m.createSession();
    const r1 = await s.generate(turn1, { sampler: new ScriptedSampler([...reply, imEnd]) }).result();
    expect(r1.text).toBe("Hello world");
    expect(r1.finishReason).toBe("eog");
    const pos = s.position; // the end token is pending, not evaluated
    const turn2 = [...turn1, { role: "assistant", content: r1.text }, { role: "user", content: "More" }];
    const r2 = await s.generate(turn2, { greedy: true, maxTokens: 3, ignoreEog: true }).result();
    expect(r2.stats.reusedTokens).toBe(pos);
    const all = tok.encode(applyChatTemplate(turn2, { template: tok.chatTemplate }), { parseSpecial: true });
    expect(r2.stats.promptTokens).toBe(all.length - pos);
    const fresh = await (await m.createSession()).generate(all, { greedy: true, maxTokens: 3, ignoreEog: true }).result();
    expect(r2.tokens).toEqual(fresh.tokens);
  });

  it("a Generation is iterated once, and a session runs one generation at a time", async () => {
    const s = await m.createSession();
    const gen = s.generate(prompt, { greedy: true, maxTokens: 1 });
    await gen.result();
    expect(() => gen[Symbol.asyncIterator]()).toThrow(/only once/);
    const it1 = s.generate([], { greedy: true, maxTokens: 3 })[Symbol.asyncIterator]();
    await it1.next();
    await expect(s.generate([], { greedy: true }).result()).rejects.toThrow(/already generating/);
    await it1.return!(undefined);
    expect((await s.generate([], { greedy: true, maxTokens: 1 }).result()).tokens).toHaveLength(1);
  });

  it("stops when the context is full and rejects bad input", async () => {
    const small = await open(name, 14);
    const s = await small.createSession();
    const r = await s.generate(prompt, { greedy: true, ignoreEog: true, maxTokens: 10 }).result();
    expect(r.finishReason).toBe("context");
    expect(r.tokens.length).toBe(14 - prompt.length + 1);
    expect(s.position).toBe(14);
    await expect((await small.createSession()).generate([], {}).result()).rejects.toThrow(/nothing to continue/);
    await expect((await small.createSession()).generate([9999], {}).result()).rejects.toThrow(/outside \[0, 512\)/);
    expect(() => s.generate("x", { maxTokens: -1 })).toThrow(/maxTokens/);
  });
});
