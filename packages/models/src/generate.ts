// Text generation on a Session: prompt (text, chat messages or token ids) → evaluate → sample → stream
// decoded pieces, with end-of-generation stops, AbortSignal cancellation and speed statistics.
//
// Sequence bookkeeping: the last sampled token is only evaluated when the sequence goes on (llama.cpp
// does the same), so after a generation the session's position counts the tokens actually evaluated and
// the sampled-but-unevaluated token is remembered here as "pending"; the next generate() on the same
// session evaluates it first. Text prompts continue the sequence; chat messages describe the whole
// conversation, so they reuse the session only when its tokens are a prefix of the rendered chat.
// That record is dropped when the position changes outside generate (evaluate, reset, restoreState);
// a restoreState to the very same position is not noticed, so do not mix it with pending tokens.
import type { Session } from "./model.js";
import type { Tokenizer } from "./tokenizer/index.js";
import { applyChatTemplate, selectChatTemplate, type ChatMessage } from "./chat.js";
import { Sampler, type SamplerOptions } from "./sampling.js";

/** A text (special-token text like "<|im_end|>" is parsed), a conversation, or token ids. */
export type GeneratePrompt = string | readonly ChatMessage[] | readonly number[];

export interface GenerateOptions extends SamplerOptions {
  /** Most tokens to generate (default: until an end-of-generation token or the context is full). */
  maxTokens?: number;
  /** Keep going through end-of-generation tokens (llama.cpp's --ignore-eos; the goldens use it). */
  ignoreEog?: boolean;
  /** Stops generation between tokens; the session stays consistent (see GenerationResult.finishReason). */
  signal?: AbortSignal;
  /** Use this sampler instead of one built from the sampler options (it is not reset). */
  sampler?: Sampler;
  /** Chat template for message prompts (Jinja source, "kimi" or "chatml"); default: the model's own. */
  chatTemplate?: string;
  /** Extra chat-template variables (e.g. enable_thinking). */
  chatOptions?: { enableThinking?: boolean; tools?: unknown[]; extra?: Record<string, unknown> };
  /** Tokens per graph while evaluating the prompt (default: the model's ubatch). */
  ubatch?: number;
}

export interface GeneratedPiece {
  /** Newly completed text: "" while a UTF-8 sequence is still split, the whole character once complete. */
  text: string;
  /** Token id, or -1 for a final piece carrying bytes left incomplete at the end (decoded as U+FFFD). */
  token: number;
  /** 0-based index of the token in this generation. */
  index: number;
  /** Position of the token in the sequence. */
  position: number;
}

export type FinishReason = "eog" | "length" | "context" | "abort";

export interface GenerationStats {
  /** Tokens evaluated before the first sampled token (prompt plus a pending token, minus reused ones). */
  promptTokens: number;
  promptMs: number;
  promptTokensPerSecond: number;
  /** Tokens sampled (the end-of-generation token included when it stopped generation). */
  generatedTokens: number;
  /** Time from the first sampled token to the last one. */
  generationMs: number;
  /** Tokens per second after the first one (the first comes from the prompt's logits). */
  generationTokensPerSecond: number;
  /** Prompt tokens that were already in the session (chat prefix reuse). */
  reusedTokens: number;
}

export interface GenerationResult {
  text: string;
  tokens: number[];
  finishReason: FinishReason;
  stats: GenerationStats;
}

/** What generate() knows about a session's sequence, valid while the session's position is unchanged. */
interface SequenceRecord {
  /** Position the record describes (evaluated tokens). */
  position: number;
  /** Every evaluated token (empty when unknown, e.g. tokens evaluated outside generate). */
  history: number[];
  /** Sampled but not yet evaluated. */
  pending?: number;
  /** Logits after the last evaluated token, when there is no pending token. */
  logits?: Float32Array;
}

const records = new WeakMap<Session, SequenceRecord>();
/** Sessions with a generation in progress (two at once would interleave their tokens). */
const busy = new WeakSet<Session>();

function recordOf(session: Session): SequenceRecord {
  const r = records.get(session);
  if (r && r.position === session.position) return r;
  // Tokens were evaluated (or the session reset/restored) outside generate: nothing is known.
  const fresh: SequenceRecord = { position: session.position, history: [] };
  records.set(session, fresh);
  return fresh;
}

function isTokenArray(p: GeneratePrompt): p is readonly number[] {
  return Array.isArray(p) && (p.length === 0 || typeof p[0] === "number");
}

function requireTokenizer(session: Session): Tokenizer {
  const t = session.model.tokenizer;
  if (!t) throw new Error(`generate: the model has no tokenizer (GGUF without tokenizer.ggml.*); pass token ids`);
  return t;
}

/** Renders chat messages with the given template, the GGUF's own, or the built-in Kimi/ChatML form. */
export function renderChat(session: Session, messages: readonly ChatMessage[], opts: GenerateOptions = {}): string {
  const tok = requireTokenizer(session);
  const template = opts.chatTemplate ?? selectChatTemplate({
    chatTemplate: tok.chatTemplate, arch: session.model.arch, hasToken: (t) => tok.tokenId(t) !== undefined,
  });
  return applyChatTemplate(messages, {
    template,
    bosToken: tok.bosId !== undefined ? tok.tokenText(tok.bosId) : "",
    eosToken: tok.eosId !== undefined ? tok.tokenText(tok.eosId) : "",
    enableThinking: opts.chatOptions?.enableThinking,
    tools: opts.chatOptions?.tools,
    extra: opts.chatOptions?.extra,
  });
}

/** The token ids a prompt becomes (text and chat rendered and tokenized with special-token parsing). */
export function promptTokens(session: Session, prompt: GeneratePrompt, opts: GenerateOptions = {}): number[] {
  if (typeof prompt === "string") {
    const tok = requireTokenizer(session);
    // BOS (when the vocabulary wants one) only at the start of a sequence.
    return tok.encode(prompt, { addSpecial: session.position === 0 && recordOf(session).pending === undefined, parseSpecial: true });
  }
  if (isTokenArray(prompt)) return [...prompt];
  const tok = requireTokenizer(session);
  const text = renderChat(session, prompt, opts);
  const bos = tok.bosId !== undefined ? tok.tokenText(tok.bosId) : undefined;
  // Templates that write the BOS text themselves must not get a second one.
  return tok.encode(text, { addSpecial: !(bos && text.startsWith(bos)), parseSpecial: true });
}

const now = () => performance.now();

/**
 * One generation: iterate it (once) for the pieces; `result()` drains it and returns text, ids, stats.
 * Breaking out of the loop, or aborting the signal, ends it with the session consistent.
 */
export class Generation implements AsyncIterable<GeneratedPiece> {
  readonly tokens: number[] = [];
  text = "";
  finishReason: FinishReason | undefined;
  stats: GenerationStats = {
    promptTokens: 0, promptMs: 0, promptTokensPerSecond: 0, generatedTokens: 0, generationMs: 0,
    generationTokensPerSecond: 0, reusedTokens: 0,
  };
  private started = false;

  constructor(readonly session: Session, private readonly prompt: GeneratePrompt, private readonly opts: GenerateOptions = {}) {
    const n = opts.maxTokens;
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new Error(`generate: maxTokens must be a non-negative integer, got ${n}`);
    if (opts.ubatch !== undefined && (!Number.isInteger(opts.ubatch) || opts.ubatch < 1)) {
      throw new Error(`generate: ubatch must be a positive integer, got ${opts.ubatch}`);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<GeneratedPiece> {
    if (this.started) throw new Error(`generate: a Generation can be iterated only once`);
    this.started = true;
    return this.guarded();
  }

  private async *guarded(): AsyncGenerator<GeneratedPiece> {
    if (busy.has(this.session)) throw new Error(`generate: the session is already generating (finish or abort that first)`);
    busy.add(this.session);
    try {
      yield* this.run();
    } finally {
      busy.delete(this.session);
    }
  }

  /** Runs the generation to its end and summarises it (instead of iterating). */
  async result(): Promise<GenerationResult> {
    for await (const _ of this) { /* pieces accumulate in this.text / this.tokens */ }
    return { text: this.text, tokens: [...this.tokens], finishReason: this.finishReason!, stats: this.stats };
  }

  private async *run(): AsyncGenerator<GeneratedPiece> {
    const { session, opts } = this;
    const model = session.model;
    const tok = model.tokenizer;
    const signal = opts.signal;
    const sampler = opts.sampler ?? new Sampler(opts);
    const maxTokens = opts.maxTokens ?? Infinity;
    const decoder = tok?.createStreamingDecoder();
    const stats = this.stats;

    let rec = recordOf(session);
    let toEval: number[];
    const ids = promptTokens(session, this.prompt, opts);
    if (typeof this.prompt !== "string" && !isTokenArray(this.prompt)) {
      // The conversation is the whole sequence: keep the session's tokens if they are its prefix.
      const have = rec.pending !== undefined ? [...rec.history, rec.pending] : rec.history;
      const complete = rec.history.length === session.position;
      const prefix = complete && have.length <= ids.length && have.every((t, i) => t === ids[i]);
      if (prefix && session.position > 0 && (ids.length > session.position || rec.logits)) {
        stats.reusedTokens = session.position;
        toEval = ids.slice(session.position);
      } else {
        if (session.position > 0) await session.reset();
        rec = recordOf(session);
        rec.pending = undefined;
        toEval = ids;
      }
    } else {
      toEval = rec.pending !== undefined ? [rec.pending, ...ids] : ids;
    }
    for (const t of toEval) {
      if (!Number.isInteger(t) || t < 0 || t >= model.nVocab) throw new Error(`generate: token id ${t} is outside [0, ${model.nVocab})`);
    }
    if (toEval.length === 0 && !rec.logits) {
      throw new Error(`generate: empty prompt and nothing to continue from (no logits for the session's last token)`);
    }
    if (session.position + toEval.length > model.contextSize) {
      throw new Error(`generate: prompt of ${toEval.length} tokens at position ${session.position} exceeds the context size ${model.contextSize}`);
    }
    if (!opts.sampler) for (const t of [...rec.history, ...toEval]) sampler.accept(t);

    const evaluated = (tokens: readonly number[], logits: Float32Array) => {
      rec.history.push(...tokens);
      rec.position = session.position;
      rec.pending = undefined;
      rec.logits = logits;
    };

    // Prompt, one ubatch at a time so that an abort takes effect between graphs; an aborted prompt's
    // unevaluated tail is dropped (the position says how far it got).
    const ub = opts.ubatch ?? model.ubatch;
    const t0 = now();
    let logits = rec.logits;
    for (let i = 0; i < toEval.length; i += ub) {
      if (signal?.aborted) { this.finishReason = "abort"; return; }
      const part = toEval.slice(i, i + ub);
      logits = await session.evaluate(part, { ubatch: ub });
      evaluated(part, logits);
      stats.promptTokens += part.length;
    }
    stats.promptMs = now() - t0;
    stats.promptTokensPerSecond = rate(stats.promptTokens, stats.promptMs);

    let tFirst = 0;
    try {
      for (let index = 0; index < maxTokens; index++) {
        if (signal?.aborted) { this.finishReason = "abort"; break; }
        if (index > 0) {
          // The previous token is evaluated only now that another one is wanted.
          if (session.position + 1 > model.contextSize) { this.finishReason = "context"; break; }
          const prev = rec.pending!;
          logits = await session.evaluate([prev]);
          evaluated([prev], logits);
          if (signal?.aborted) { this.finishReason = "abort"; break; }
        }
        const token = sampler.sample(logits!);
        sampler.accept(token);
        rec.pending = token;
        rec.logits = undefined;
        if (index === 0) tFirst = now();
        stats.generatedTokens++;
        this.tokens.push(token);
        if (!opts.ignoreEog && tok?.isEog(token)) { this.finishReason = "eog"; break; }
        if (index > 0) {
          stats.generationMs = now() - tFirst;
          stats.generationTokensPerSecond = rate(index, stats.generationMs);
        }
        const text = decoder ? decoder.push(token) : "";
        this.text += text;
        yield { text, token, index, position: session.position };
      }
      this.finishReason ??= "length";
    } finally {
      this.finishReason ??= "abort"; // the consumer stopped iterating early
      if (tFirst > 0) {
        stats.generationMs = now() - tFirst;
        stats.generationTokensPerSecond = rate(stats.generatedTokens - 1, stats.generationMs);
      }
    }
    // Bytes of an unfinished UTF-8 sequence: the consumer still sees that something was there.
    const rest = decoder?.flush() ?? "";
    if (rest) {
      this.text += rest;
      yield { text: rest, token: -1, index: this.tokens.length, position: session.position };
    }
  }
}

function rate(n: number, ms: number): number {
  return n > 0 && ms > 0 ? (n * 1000) / ms : 0;
}

/** Starts a generation on a session (also available as `session.generate`). */
export function generate(session: Session, prompt: GeneratePrompt, opts: GenerateOptions = {}): Generation {
  return new Generation(session, prompt, opts);
}
