// loadModel → Model (weights bound once, architecture graph builder) and Session (one sequence slot with its
// own hybrid memory). evaluate() splits prompts into ubatches and builds one graph per ubatch.
import { Graph, createBackend, planMemory, type Backend, type BackendBuffer, type Tensor } from "@ggts/tensor";
import { openGguf } from "@ggts/gguf";
import type { ArchGraph } from "./arch.js";
import { readHParams, type Arch, type HParams } from "./hparams.js";
import { KimiLinearGraph } from "./kimi-linear.js";
import { Qwen3NextGraph } from "./qwen3next.js";
import { KV_TYPES, SequenceMemory, type KvType, type MemorySnapshot } from "./memory.js";
import { UBatch, type DeltaNetMode, type GraphInput, type GraphOptions } from "./ubatch.js";
import { WeightLoader } from "./weights.js";
import { ATTN_SCORE_LIMIT } from "./layers.js";
import { tokenizerFromGguf, type Tokenizer } from "./tokenizer/index.js";
import { generate, type GeneratePrompt, type GenerateOptions, type Generation } from "./generate.js";

/** Cache rows a one-token graph's attention reads come in multiples of this (masked past the position). */
const DECODE_KV_PAD = 256;

export interface LoadProgress { stage: "open" | "weights" | "ready"; fraction: number }

export interface LoadOptions {
  /** Backend name ("reference", "cpu", "best", …) or an existing backend (not disposed with the model). */
  backend?: string | Backend;
  threads?: number;
  /** Tokens each session can hold (default 4096). */
  contextSize?: number;
  /** Attention cache element type (default "f16"). */
  kvType?: KvType;
  /** Delta rule as the fused GATED_DELTA_NET op (default) or decomposed into chunked/recurrent graph ops. */
  deltaNet?: DeltaNetMode;
  /** Attention through FLASH_ATTN_EXT instead of mul_mat + softmax (default false). */
  flashAttn?: boolean;
  /**
   * Max attention score elements (context · queries · heads) one product may hold; longer query runs are
   * split so memory stays bounded for long contexts (default 2^24).
   */
  attnScoreLimit?: number;
  /** Default tokens per ubatch for evaluate (default 512). */
  ubatch?: number;
  onProgress?: (p: LoadProgress) => void;
}

export interface EvaluateOptions {
  /** Tokens per graph (default: the model's ubatch). */
  ubatch?: number;
  /** Logits of every position ([n_tokens][n_vocab] flattened) instead of only the last one. */
  allLogits?: boolean;
  /** Called after each ubatch with the tokens (per sequence) consumed so far. */
  onUBatch?: (done: number, total: number) => void;
}

export interface SessionState {
  readonly model: Model;
  readonly snapshot: MemorySnapshot;
}

export class Model {
  readonly arch: Arch;
  readonly hparams: HParams;
  readonly contextSize: number;
  readonly kvType: KvType;
  readonly ubatch: number;
  readonly graphOptions: GraphOptions;
  private readonly sessions = new Set<Session>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** When true, evaluate records each ubatch graph's node count and planned arena bytes in graphStats. */
  collectGraphStats = false;
  readonly graphStats: { tokens: number; nodes: number; arenaBytes: number }[] = [];
  /** Graphs evaluate has built; a one-token step reuses the previous step's graph while the shapes match. */
  graphsBuilt = 0;

  /** @internal use loadModel */
  constructor(readonly backend: Backend, private readonly ownsBackend: boolean, private readonly weights: BackendBuffer,
              readonly graph: ArchGraph, readonly tokenizer: Tokenizer | undefined, o: Required<Pick<LoadOptions, "contextSize" | "kvType" | "deltaNet" | "flashAttn" | "ubatch" | "attnScoreLimit">>) {
    this.hparams = graph.hparams;
    this.arch = graph.hparams.arch;
    this.contextSize = o.contextSize;
    this.kvType = o.kvType;
    this.ubatch = o.ubatch;
    this.graphOptions = { deltaNet: o.deltaNet, flashAttn: o.flashAttn, chunkSize: 64, attnScoreLimit: o.attnScoreLimit };
  }

  get nVocab(): number { return this.hparams.nVocab; }

  async createSession(): Promise<Session> {
    this.checkAlive();
    const mem = new SequenceMemory(this.backend, this.graph.memorySpecs(), this.contextSize, this.kvType);
    await mem.clear();
    const s = new Session(this, mem);
    this.sessions.add(s);
    return s;
  }

  /** Runs fn with exclusive use of the backend (one graph at a time: the arena is shared). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.queue.then(fn, fn);
    this.queue = r.catch(() => undefined);
    return r;
  }

  /**
   * Evaluates several sessions together, the same number of tokens each (recurrent layers need equal
   * sequence lengths in a ubatch). Returns per session its logits (last position, or all with allLogits).
   */
  async evaluateBatch(sessions: readonly Session[], tokens: readonly ArrayLike<number>[], opts: EvaluateOptions = {}): Promise<Float32Array[]> {
    this.checkAlive();
    if (sessions.length === 0 || sessions.length !== tokens.length) {
      throw new Error(`evaluateBatch: ${sessions.length} sessions but ${tokens.length} token lists`);
    }
    if (new Set(sessions).size !== sessions.length) throw new Error(`evaluateBatch: a session appears twice`);
    const n = tokens[0].length;
    if (n === 0) throw new Error(`evaluateBatch: no tokens`);
    tokens.forEach((t, i) => {
      if (t.length !== n) throw new Error(`evaluateBatch: sequence ${i} has ${t.length} tokens, sequence 0 has ${n} (must be equal)`);
    });
    return this.exclusive(async () => {
      // Checked inside the queue: earlier evaluations of the same sessions have advanced their positions.
      this.checkAlive();
      for (const s of sessions) {
        if (s.model !== this || !this.sessions.has(s)) throw new Error(`evaluateBatch: a session does not belong to this model (or was disposed)`);
        this.checkTokens(tokens[sessions.indexOf(s)]);
        if (s.position + n > this.contextSize) {
          throw new Error(`context size exceeded: session at position ${s.position} + ${n} tokens > context size ${this.contextSize}`);
        }
      }
      const ub = opts.ubatch ?? this.ubatch;
      if (!Number.isInteger(ub) || ub < 1) throw new Error(`evaluate: ubatch must be a positive integer, got ${ub}`);
      const ns = sessions.length;
      const nst = Math.max(1, Math.floor(ub / ns));
      const V = this.nVocab;
      // One sequence in one ubatch: its logits array is the result (no second copy of n_vocab floats per token).
      const whole = ns === 1 && n <= nst;
      const out = whole ? [] : sessions.map(() => new Float32Array((opts.allLogits ? n : 1) * V));
      for (let start = 0; start < n; start += nst) {
        const len = Math.min(nst, n - start);
        const last = start + len === n;
        const toks = new Int32Array(len * ns);
        sessions.forEach((_, s) => { for (let t = 0; t < len; t++) toks[s * len + t] = tokens[s][start + t]; });
        const rows: number[] = [];
        if (opts.allLogits) for (let i = 0; i < len * ns; i++) rows.push(i);
        else if (last) for (let s = 0; s < ns; s++) rows.push(s * len + len - 1);
        const ubatch = new UBatch(toks, len, sessions.map((s) => s.memory), rows, this.graphOptions, len === 1 ? DECODE_KV_PAD : 1);
        const logits = await this.runUBatch(ubatch);
        sessions.forEach((s) => { s.memory.position += len; });
        opts.onUBatch?.(start + len, n);
        if (!logits) continue;
        if (whole) return [logits];
        sessions.forEach((_, s) => {
          if (opts.allLogits) out[s].set(logits.subarray(s * len * V, (s + 1) * len * V), start * V);
          else out[s].set(logits.subarray(s * V, (s + 1) * V));
        });
      }
      return out;
    });
  }

  // The last one-token graph: the next token's graph has the same shapes (attention reads kvPad-padded cache
  // rows) until a sequence crosses a padding boundary, so it is reused with its inputs refilled.
  private decode: { key: string; graph: Graph; logits: Tensor | null; inputs: readonly GraphInput[] } | null = null;

  private async runUBatch(ub: UBatch): Promise<Float32Array | null> {
    // Padded attention reads rows past the ones this ubatch writes; unpadded graphs read only written rows.
    if (ub.kvPad > 1) for (let s = 0; s < ub.nSeqs; s++) await ub.seqs[s].readableRows(ub.kvLen(s));
    const key = ub.kvPad > 1 ? ub.seqs.map((m, s) => `${m.id}:${ub.kvLen(s)}`).join(",") + `|${ub.outRows.join(",")}` : null;
    let g: Graph, logits: Tensor | null;
    if (key !== null && this.decode?.key === key) {
      ({ graph: g, logits } = this.decode);
      for (const i of this.decode.inputs) i.tensor.data = i.fill(ub);
    } else {
      logits = this.graph.build(ub);
      this.graphsBuilt++;
      g = new Graph([...ub.earlyWrites, ...(logits ? [logits] : []), ...ub.writes]);
      this.decode = key === null ? null : { key, graph: g, logits, inputs: ub.inputs };
    }
    if (this.collectGraphStats) {
      const plan = planMemory(g, (r) => r.buffer === null || r.buffer.isArena === true);
      this.graphStats.push({ tokens: ub.nTokens, nodes: g.nodes.length, arenaBytes: plan.size });
    }
    await this.backend.compute(g);
    if (!logits) return null;
    const bytes = await this.backend.getTensor(logits);
    // getTensor hands over a fresh copy: view it in place when aligned (0.6 MB per token for a 160k vocabulary).
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  private checkTokens(tokens: ArrayLike<number>): void {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (!Number.isInteger(t) || t < 0 || t >= this.nVocab) throw new Error(`evaluate: token id ${t} is outside [0, ${this.nVocab})`);
    }
  }

  private checkAlive(): void { if (this.disposed) throw new Error(`model has been disposed`); }

  /** @internal */
  forget(s: Session): void { this.sessions.delete(s); }

  dispose(): void {
    if (this.disposed) return;
    for (const s of [...this.sessions]) s.dispose();
    this.decode = null;
    this.weights.free();
    if (this.ownsBackend) this.backend.dispose();
    this.disposed = true;
  }
}

export class Session {
  /** @internal */
  constructor(readonly model: Model, readonly memory: SequenceMemory) {}

  /** Number of tokens the sequence holds (the position of the next token). */
  get position(): number { return this.memory.position; }

  /** Evaluates tokens after the current position; logits of the last token, or of every token with allLogits. */
  async evaluate(tokens: ArrayLike<number>, opts: EvaluateOptions = {}): Promise<Float32Array> {
    return (await this.model.evaluateBatch([this], [tokens], opts))[0];
  }

  async reset(): Promise<void> { await this.model.exclusive(() => this.memory.clear()); }

  /** A copy of the sequence state (KV rows in use + recurrent state), for restoreState or fork. */
  async saveState(): Promise<SessionState> {
    return { model: this.model, snapshot: await this.model.exclusive(() => this.memory.save()) };
  }

  async restoreState(state: SessionState): Promise<void> {
    if (state.model !== this.model) throw new Error(`restoreState: the state comes from another model`);
    await this.model.exclusive(() => this.memory.restore(state.snapshot));
  }

  /** Streams generated pieces for a text, chat or token prompt (see generate.ts). */
  generate(prompt: GeneratePrompt, opts?: GenerateOptions): Generation { return generate(this, prompt, opts); }

  /** A new session starting from this one's state. */
  async fork(): Promise<Session> {
    const s = await this.model.createSession();
    await s.restoreState(await this.saveState());
    return s;
  }

  dispose(): void {
    this.memory.free();
    this.model.forget(this);
  }
}

/** Opens a GGUF, binds its weights on the backend (one buffer over the data section) and checks every tensor. */
export async function loadModel(path: string, opts: LoadOptions = {}): Promise<Model> {
  const progress = opts.onProgress ?? (() => undefined);
  const contextSize = opts.contextSize ?? 4096;
  if (!Number.isInteger(contextSize) || contextSize < 1) throw new Error(`loadModel: contextSize must be a positive integer, got ${contextSize}`);
  const kvType = opts.kvType ?? "f16";
  if (!(kvType in KV_TYPES)) throw new Error(`loadModel: kvType must be f32, f16 or q8_0, got ${String(kvType)}`);
  const deltaNet = opts.deltaNet ?? "fused";
  if (deltaNet !== "fused" && deltaNet !== "decomposed") throw new Error(`loadModel: deltaNet must be "fused" or "decomposed", got ${String(deltaNet)}`);
  const ubatch = opts.ubatch ?? 512;
  if (!Number.isInteger(ubatch) || ubatch < 1) throw new Error(`loadModel: ubatch must be a positive integer, got ${ubatch}`);
  const attnScoreLimit = opts.attnScoreLimit ?? ATTN_SCORE_LIMIT;
  if (!(attnScoreLimit >= 1)) throw new Error(`loadModel: attnScoreLimit must be >= 1, got ${attnScoreLimit}`);
  progress({ stage: "open", fraction: 0 });
  const file = await openGguf(path);
  try {
    const hp = readHParams(file);
    const ownsBackend = typeof opts.backend !== "object";
    const backend = typeof opts.backend === "object" ? opts.backend
      : await createBackend(opts.backend ?? "best", opts.threads ? { threads: opts.threads } : undefined);
    let weights: BackendBuffer | null = null;
    try {
      weights = await backend.bufferFromFile(path, file.dataOffset, file.fileSize - file.dataOffset);
      progress({ stage: "weights", fraction: 0.5 });
      const loader = new WeightLoader(hp.arch, file, backend, weights, file.dataOffset);
      const graph: ArchGraph = hp.arch === "kimi-linear" ? new KimiLinearGraph(hp, loader) : new Qwen3NextGraph(hp, loader);
      const tokenizer = file.has("tokenizer.ggml.tokens") ? tokenizerFromGguf(file) : undefined;
      progress({ stage: "ready", fraction: 1 });
      return new Model(backend, ownsBackend, weights, graph, tokenizer,
        { contextSize, kvType, deltaNet, flashAttn: opts.flashAttn ?? false, ubatch, attnScoreLimit });
    } catch (e) {
      weights?.free();
      if (ownsBackend) backend.dispose();
      throw e;
    }
  } finally {
    await file.close();
  }
}
