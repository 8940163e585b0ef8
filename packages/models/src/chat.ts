// Chat prompt formatting: the GGUF's Jinja `tokenizer.chat_template`, or a built-in Kimi / ChatML form.
import { Template } from "@huggingface/jinja";

export interface ChatMessage {
  role: string;
  content: string;
  /** Passed through to Jinja templates (e.g. reasoning_content, tool_calls, name). */
  [key: string]: unknown;
}

export type BuiltinChatTemplate = "kimi" | "chatml";

export interface ChatTemplateOptions {
  /** Jinja source (e.g. the GGUF's tokenizer.chat_template) or a built-in name. Default "chatml". */
  template?: string;
  /** Append the assistant turn header. Default true. */
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
  /** Qwen3-style switch; false makes ChatML (and Qwen3 Jinja templates) emit an empty think block. */
  enableThinking?: boolean;
  tools?: unknown[];
  /** Further variables for Jinja templates. */
  extra?: Record<string, unknown>;
}

export const BUILTIN_CHAT_TEMPLATES: readonly BuiltinChatTemplate[] = ["kimi", "chatml"];

const KIMI_ROLE_HEADERS: Record<string, string> = {
  system: "<|im_system|>system<|im_middle|>",
  user: "<|im_user|>user<|im_middle|>",
  assistant: "<|im_assistant|>assistant<|im_middle|>",
  tool: "<|im_system|>tool<|im_middle|>",
};

function contentOf(m: ChatMessage, i: number): string {
  if (typeof m.content !== "string") throw new Error(`chat: message ${i} content must be a string for built-in templates`);
  return m.content;
}

function renderKimi(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string {
  let out = "";
  messages.forEach((m, i) => {
    const header = KIMI_ROLE_HEADERS[m.role];
    if (header === undefined) throw new Error(`chat: message ${i} has role "${m.role}", which the Kimi template does not know`);
    out += header + contentOf(m, i) + "<|im_end|>";
  });
  if (addGenerationPrompt) out += KIMI_ROLE_HEADERS.assistant;
  return out;
}

function renderChatml(messages: readonly ChatMessage[], addGenerationPrompt: boolean, enableThinking?: boolean): string {
  let out = "";
  messages.forEach((m, i) => {
    if (typeof m.role !== "string" || m.role.length === 0) throw new Error(`chat: message ${i} has no role`);
    out += `<|im_start|>${m.role}\n${contentOf(m, i)}<|im_end|>\n`;
  });
  if (addGenerationPrompt) {
    out += "<|im_start|>assistant\n";
    if (enableThinking === false) out += "<think>\n\n</think>\n\n";
  }
  return out;
}

const compiled = new Map<string, Template>();

function jinja(source: string): Template {
  let t = compiled.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new Error(`chat: cannot parse chat template: ${(e as Error).message}`);
    }
    compiled.set(source, t);
  }
  return t;
}

/** Render a conversation into the prompt text the model expects. */
export function applyChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): string {
  const template = opts.template ?? "chatml";
  const addGenerationPrompt = opts.addGenerationPrompt ?? true;
  if (template === "kimi") return renderKimi(messages, addGenerationPrompt);
  if (template === "chatml") return renderChatml(messages, addGenerationPrompt, opts.enableThinking);

  const vars: Record<string, unknown> = {
    ...opts.extra,
    messages,
    add_generation_prompt: addGenerationPrompt,
    bos_token: opts.bosToken ?? "",
    eos_token: opts.eosToken ?? "",
  };
  if (opts.enableThinking !== undefined) vars.enable_thinking = opts.enableThinking;
  if (opts.tools !== undefined) vars.tools = opts.tools;
  try {
    return jinja(template).render(vars);
  } catch (e) {
    throw new Error(`chat: rendering the chat template failed: ${(e as Error).message}`);
  }
}

/** Which built-in form fits a model: by an existing template's markers, then arch, then vocabulary. */
export function detectBuiltinChatTemplate(info: {
  template?: string;
  arch?: string;
  hasToken?: (text: string) => boolean;
}): BuiltinChatTemplate {
  const t = info.template;
  if (t !== undefined) {
    if (t.includes("<|im_assistant|>assistant<|im_middle|>")) return "kimi";
    if (t.includes("<|im_start|>")) return "chatml";
  }
  if (info.arch === "kimi-linear") return "kimi";
  if (info.arch === "qwen3next") return "chatml";
  if (info.hasToken?.("<|im_middle|>") && info.hasToken("<|im_assistant|>")) return "kimi";
  return "chatml";
}

/**
 * The template to render for a model: its own Jinja template when the GGUF has one, otherwise the
 * matching built-in name. Pass the result as `ChatTemplateOptions.template`.
 */
export function selectChatTemplate(info: {
  chatTemplate?: string;
  arch?: string;
  hasToken?: (text: string) => boolean;
}): string {
  if (info.chatTemplate !== undefined && info.chatTemplate.length > 0) return info.chatTemplate;
  return detectBuiltinChatTemplate({ arch: info.arch, hasToken: info.hasToken });
}
