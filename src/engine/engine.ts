// The engine: a model folder loaded into a tokenizer, an ONNX session and a KV cache, answering
// completion requests. It has no `vscode` import and runs in its own process (engine-process.ts);
// the command-line tools use it directly.
import * as os from 'node:os';
import * as path from 'node:path';
import { DeviceSetting, MAX_CANDIDATES } from './process/protocol';
import { GenerateOptions, GenerateResult, Stepper, StopReason, firstContentToken, generate } from './decode/generate';
import { ContextMixer, NgramIndex } from './context/context-cache';
import {
  CrossFileTarget,
  DEFAULT_CHUNK_OPTIONS,
  crossFileHeader,
  queryText,
  similarChunks,
} from './context/cross-file';
import { SequenceCache } from './sequence-cache';
import { ModelFolder, readModelFolder } from '../shared/model-folder';
import { KvPast, ModelSession } from './model/model-session';
import type { DeviceSpeeds } from './model/device-speed';
import { BuiltPrompt, buildPrompt, prefixStart, prefixEnd, promptBudget } from './prompt-format';
import { ContextFile, RelatedContext } from './context/related-context';
import type { SamplingParams } from '../shared/sampler';
import { ModelTokenizer } from './model/tokenizer';
import { Healing, TokenHealer } from './decode/token-healing';
import { lookupDraft } from './decode/prompt-lookup';
import { BeamAdjuster, beamSearch } from './decode/beam-search';
import { type EditorContext, repeatsFollowingLine } from '../shared/scope-rules';
import type { TokenLogprob } from '../shared/confidence';
import type { RepeatPenalty } from '../shared/repeat-penalty';

export interface EngineOptions {
  modelDir: string;
  /** An onnx/ file name, or 'auto'. */
  variant?: string;
  device: DeviceSetting;
  /** Intra-op threads; absent = defaultThreads(). */
  threads?: number;
  cacheEntries?: number;
  cacheBytes?: number;
  /** Decode speeds measured by earlier loads (device-speed.ts), kept by the host across sessions. */
  deviceSpeeds?: DeviceSpeeds;
}

export interface CompletionRequest {
  prefix: string;
  suffix: string;
  sampling: SamplingParams;
  seed: number;
  maxNewTokens: number;
  stop: string[];
  /** Stop after this many lines of content (see generate.ts); 0 or absent = no limit. */
  maxLines?: number;
  /**
   * The cursor's surroundings: generation stops where post-processing's scope rules would cut the
   * rest (shared/scope-rules.ts); absent = it runs until the other limits.
   */
  editor?: EditorContext;
  timeBudgetMs: number;
  contextTokens: number;
  /** Share of the context the suffix may take (0–1). */
  suffixShare?: number;
  /** false = full prefill every time (for measuring what reuse saves). */
  reuseCache?: boolean;
  /** Weight of the context cache (context-cache.ts) mixed into the model; 0 or absent = off. */
  contextCacheWeight?: number;
  /** false = one model step per token, without prompt-lookup drafts (prompt-lookup.ts; used at temperature 0 only). */
  promptLookup?: boolean;
  /** false = generate after the prompt as tokenized, without token healing (token-healing.ts). */
  tokenHealing?: boolean;
  /**
   * The file being edited, for a repository header of other files' chunks (models with repository
   * tokens); absent = none.
   */
  crossFile?: CrossFileTarget;
  /**
   * Sampled continuations of the one prompt (at temperature > 0; 1 to MAX_CANDIDATES, absent = 1):
   * each further one starts from the prompt's state, with no prefill of its own.
   */
  candidates?: number;
  /** Penalises tokens that would extend a repeat of the generation's own tokens (repeat-penalty.ts); absent = off. */
  repeatPenalty?: RepeatPenalty;
  /**
   * When the generation's first line is the line after the cursor (which the filters drop, so
   * nothing would be shown), generate once more with the token that began it banned at its step:
   * the model's next choice. Needs `editor`; shares the time budget.
   */
  retryRepeatedLine?: boolean;
  /**
   * Beams kept by beam search (beam-search.ts) for a one-line request (`maxLines` 1) at temperature
   * 0; 1 or absent = greedy. The chosen line passes over a repeat of the next line, as
   * retryRepeatedLine would; prompt-lookup drafts do not apply.
   */
  beamWidth?: number;
}

/** A continuation sampled besides the first (CompletionRequest.candidates). */
export interface Candidate {
  text: string;
  logprobs?: TokenLogprob[];
}

/** What decides the prompt: the fields of a completion or an inspection request that build it. */
export type PromptRequest = Pick<
  CompletionRequest,
  'prefix' | 'suffix' | 'contextTokens' | 'maxNewTokens' | 'suffixShare' | 'crossFile' | 'tokenHealing'
>;

/** The prompt fed to the model and, when its last prefix token was taken back, what the first token must restore. */
export interface FedPrompt {
  prompt: BuiltPrompt;
  healing?: Healing;
  /** The prompt as tokenized, before healing took a token back. */
  built: BuiltPrompt;
}

/** Most of the prompt budget a repository header may take. */
export const CROSS_FILE_SHARE = 0.25;

export interface CompletionStats {
  promptTokens: number;
  reusedTokens: number;
  /** Prompt tokens fed to the model for this request (prompt − reused). */
  prefilledTokens: number;
  /** Over all candidates. */
  generatedTokens: number;
  tokenizeMs: number;
  prefillMs: number;
  decodeMs: number;
  totalMs: number;
  stopReason: StopReason;
  /** Generated tokens that came from an accepted prompt-lookup draft, without a model step of their own. */
  draftedTokens?: number;
  /** Generated tokens the context cache put ahead of the model (absent when the cache is off). */
  cacheLedTokens?: number;
  /** Time the context cache took over all steps (lookup and mixing; absent when off). */
  cacheMs?: number;
  /** Tokens of other files (open editors, recent edits) in the context cache. */
  relatedTokens?: number;
  /** Tokens of the repository header before the prompt (0 when there is none). */
  headerTokens?: number;
  /**
   * Tokens of a first generation whose first line repeated what follows the cursor, set aside for
   * the model's second choice (CompletionRequest.retryRepeatedLine); absent when there was none.
   */
  setAsideTokens?: number;
  /** Model steps beam search took over all its beams (absent without beam search). */
  beamSteps?: number;
}

export interface CompletionResult {
  text: string;
  stats: CompletionStats;
  /** The generated tokens' log-probabilities (confidence.ts); absent from backends that give none. */
  logprobs?: TokenLogprob[];
  /** The other candidates, each different from `text` and from one another (none at temperature 0). */
  alternatives?: Candidate[];
}

export interface EngineInfo {
  modelDir: string;
  modelName: string;
  variant: string;
  providers: string[];
  fallbackReason?: string;
  /** Said once: the explicitly chosen device runs, but slower than the CPU would. */
  deviceWarning?: string;
  /** The speeds given in EngineOptions plus those this load measured, for the host to keep. */
  deviceSpeeds?: DeviceSpeeds;
  fim: boolean;
  numLayers: number;
  vocabSize: number;
  maxPositions: number;
}

export interface CompletionHooks {
  isCancelled?: () => boolean;
  onText?: (text: string) => void;
}

/**
 * One thread on machines with two cores or fewer: a keystroke feeds a token or two, where a second
 * thread buys nothing and takes the core the editor needs (the benchmark measured the same latency
 * at 2.3–2.6× less engine CPU per keystroke). Half the cores, up to 4, elsewhere.
 */
export function defaultThreads(cores: number): number {
  return cores <= 2 ? 1 : Math.min(4, Math.floor(cores / 2));
}

/**
 * Tracks the sequence fed so far in one generation, so the cache can keep it afterwards. It owns
 * its past: each step's replaces the last, which is disposed (device memory, under WebGPU).
 */
class SequenceStepper implements Stepper {
  constructor(
    private readonly session: ModelSession,
    public ids: number[],
    public past: KvPast,
  ) {}

  async feed(ids: number[]): Promise<Float32Array> {
    const { logits, present } = await this.session.forward(ids, this.past);
    this.ids = this.ids.concat(ids);
    this.past.dispose();
    this.past = present;
    return logits;
  }

  async feedAll(ids: number[]): Promise<Float32Array[]> {
    const { logits, present } = await this.session.forwardAll(ids, this.past);
    this.ids = this.ids.concat(ids);
    this.past.dispose();
    this.past = present;
    const vocab = logits.length / ids.length;
    return ids.map((_, i) => logits.subarray(i * vocab, (i + 1) * vocab));
  }

  fork(): SequenceStepper {
    return new SequenceStepper(this.session, this.ids, this.past.truncate(this.past.length));
  }

  dispose(): void {
    this.past.dispose();
  }

  rewind(count: number): void {
    this.ids = this.ids.slice(0, this.ids.length - count);
    const kept = this.past.truncate(this.ids.length);
    if (kept !== this.past) this.past.dispose();
    this.past = kept;
  }
}

/** One beam's logit adjustment; forking it forks the mixer, so each beam's history is its own. */
class BeamLogitAdjuster implements BeamAdjuster {
  constructor(
    readonly adjust: NonNullable<GenerateOptions['adjustLogits']>,
    readonly mixer: ContextMixer | undefined,
    private readonly withMixer: (mixer: ContextMixer | undefined) => BeamLogitAdjuster,
  ) {}

  fork(): BeamLogitAdjuster {
    return this.withMixer(this.mixer?.fork());
  }
}

/** The candidates after the first, without blank ones and those with the same text as an earlier one. */
export function distinctCandidates(first: Candidate, others: readonly Candidate[]): Candidate[] {
  const seen = new Set([first.text]);
  const kept: Candidate[] = [];
  for (const { text, logprobs } of others) {
    if (text.trim() === '' || seen.has(text)) continue;
    seen.add(text);
    kept.push({ text, logprobs });
  }
  return kept;
}

export class Engine {
  private readonly cache: SequenceCache<KvPast>;
  private readonly contextIndex: NgramIndex;
  private readonly related: RelatedContext;
  private readonly healer: TokenHealer;
  /** The last repository header, kept while its inputs stay the same (see cross-file.ts). */
  private header: { key: string; ids: number[] } | undefined;
  private relatedVersion = 0;
  private busy = false;

  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: ModelTokenizer,
    readonly session: ModelSession,
    options: EngineOptions,
  ) {
    // The byte budget bounds device memory too when the states live on the GPU (model-session.ts).
    this.cache = new SequenceCache<KvPast>(options.cacheEntries ?? 4, options.cacheBytes ?? 256 * 1024 * 1024);
    this.contextIndex = new NgramIndex(new Set(tokenizer.specialTokens.values()));
    this.related = new RelatedContext(this.contextIndex, (text) => tokenizer.encode(text));
    this.healer = new TokenHealer(
      (ids) => tokenizer.decode(ids),
      tokenizer.size,
      session.layout.vocabSize,
      tokenizer.stopIds,
    );
  }

  static async load(options: EngineOptions): Promise<Engine> {
    const folder = readModelFolder(options.modelDir, options.variant);
    const tokenizer = new ModelTokenizer(
      folder.tokenizerJson,
      folder.tokenizerConfig,
      folder.config,
      folder.generationConfig,
    );
    const session = await ModelSession.create(folder.onnxPath, folder.config, {
      device: options.device,
      threads: options.threads ?? defaultThreads(os.availableParallelism()),
      deviceSpeeds: options.deviceSpeeds,
    });
    return new Engine(folder, tokenizer, session, options);
  }

  info(): EngineInfo {
    const { layout } = this.session;
    return {
      modelDir: this.folder.dir,
      modelName: path.basename(this.folder.dir),
      variant: this.folder.variant,
      providers: this.session.providers,
      fallbackReason: this.session.fallbackReason,
      deviceWarning: this.session.deviceWarning,
      deviceSpeeds: this.session.deviceSpeeds,
      fim: this.tokenizer.fim !== undefined,
      numLayers: layout.numLayers,
      vocabSize: layout.vocabSize,
      maxPositions: layout.maxPositions,
    };
  }

  get cachedSequences(): number {
    return this.cache.size;
  }

  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /** Feed a prompt, reusing what the cache holds; returns a stepper positioned after it. */
  async prefill(
    ids: number[],
    reuse: boolean,
  ): Promise<{ stepper: SequenceStepper; logits: Float32Array; reused: number }> {
    const match = reuse ? this.cache.match(ids) : { state: undefined, reused: 0 };
    const stepper = new SequenceStepper(
      this.session,
      ids.slice(0, match.reused),
      match.state ?? this.session.emptyPast(),
    );
    const logits = await stepper.feed(ids.slice(match.reused));
    return { stepper, logits, reused: match.reused };
  }

  /** Keep a sequence fed outside a completion (the token view's), as a completion keeps its own. */
  remember(ids: number[], past: KvPast): void {
    this.cache.put(ids, past);
  }

  /**
   * What is done to each step's logits before sampling: ids past the tokenizer's vocabulary (Qwen
   * and CodeGen pad their output layer) can never be drawn, and the context cache is mixed in.
   */
  private logitAdjuster(mixer: ContextMixer | undefined): GenerateOptions['adjustLogits'] {
    const decodable = this.tokenizer.size;
    const padded = this.session.layout.vocabSize > decodable;
    if (!padded && !mixer) return undefined;
    return (logits, generated, allowed) => {
      if (padded) logits.fill(-Infinity, decodable);
      return mixer ? mixer.adjust(logits, generated, allowed) : logits;
    };
  }

  /** logitAdjuster's work for one beam of beam search, with the beam's own context-cache mixer. */
  private beamAdjuster(mixer: ContextMixer | undefined): BeamLogitAdjuster | undefined {
    const adjust = this.logitAdjuster(mixer);
    return adjust && new BeamLogitAdjuster(adjust, mixer, (forked) => this.beamAdjuster(forked)!);
  }

  /** The other files the host ranks as related (open editors, recent edits); see related-context.ts. */
  setContextFiles(files: readonly ContextFile[]): void {
    this.related.set(files);
    this.relatedVersion++;
  }

  /** One slice of indexing the related files; returns whether more remains. */
  indexContextStep(): boolean {
    return this.related.step();
  }

  /** The prompt a request is answered from: the same for completions and the token view. */
  promptFor(request: PromptRequest): BuiltPrompt {
    const contextTokens = promptBudget(this.session.layout.maxPositions, request.maxNewTokens, request.contextTokens);
    return buildPrompt(this.tokenizer, request.prefix, request.suffix, {
      contextTokens,
      suffixShare: request.suffixShare ?? 0.25,
      header: this.repositoryHeader(request, Math.floor(contextTokens * CROSS_FILE_SHARE)),
    });
  }

  /** The prompt as fed to the model, after token healing: the same for completions and the token view. */
  fedPromptFor(request: PromptRequest): FedPrompt {
    const built = this.promptFor(request);
    const healed = request.tokenHealing === false ? undefined : this.healer.heal(built, this.tokenizer.fimOrder);
    return healed ? { ...healed, built } : { prompt: built, built };
  }

  private repositoryHeader(request: PromptRequest, budget: number): number[] {
    const repo = this.tokenizer.repo;
    if (!repo || !this.tokenizer.fim || !request.crossFile || this.related.fileCount === 0) return [];
    const { path: currentPath, repoName } = request.crossFile;
    const query = queryText(request.prefix, DEFAULT_CHUNK_OPTIONS.queryLines);
    const key = `${this.relatedVersion}\n${budget}\n${currentPath}\n${repoName}\n${query}`;
    if (this.header?.key !== key) {
      const chunks = similarChunks(this.related.texts(), query);
      this.header = {
        key,
        ids: crossFileHeader((t) => this.tokenizer.encode(t), repo, chunks, currentPath, repoName, budget),
      };
    }
    return this.header.ids;
  }

  /** The prompt's prefix tokens: what generation continues, for the context cache and prompt lookup. */
  private prefixIds(prompt: BuiltPrompt): number[] {
    return prompt.ids.slice(prefixStart(prompt, this.tokenizer.fimOrder), prefixEnd(prompt, this.tokenizer.fimOrder));
  }

  /**
   * The context cache primed with a prompt, for mixing into what follows it; undefined when off.
   */
  contextMixer(prompt: BuiltPrompt, weight: number | undefined): ContextMixer | undefined {
    if (!weight || weight <= 0) return undefined;
    const mixer = new ContextMixer(this.contextIndex, weight);
    mixer.begin(prompt.ids, this.prefixIds(prompt));
    return mixer;
  }

  async complete(request: CompletionRequest, hooks: CompletionHooks = {}): Promise<CompletionResult> {
    if (this.busy) throw new Error('the engine runs one generation at a time');
    this.busy = true;
    try {
      return await this.run(request, hooks);
    } finally {
      this.busy = false;
    }
  }

  private async run(request: CompletionRequest, hooks: CompletionHooks): Promise<CompletionResult> {
    const startedAt = performance.now();
    const maxPositions = this.session.layout.maxPositions;
    const newTokens = Math.max(1, Math.min(request.maxNewTokens, maxPositions - 8));
    const { prompt, healing } = this.fedPromptFor(request);
    const history = this.prefixIds(prompt);
    const tokenizedAt = performance.now();
    const reuse = request.reuseCache !== false;
    const { stepper, logits, reused } = await this.prefill(prompt.ids, reuse);
    const prefilledAt = performance.now();
    const weight = request.contextCacheWeight ?? 0;
    let mixer = this.contextMixer(prompt, weight);
    const count =
      request.sampling.temperature > 0 ? Math.max(1, Math.min(MAX_CANDIDATES, Math.round(request.candidates ?? 1))) : 1;
    // The further candidates continue from the prompt's state as it is now: views of it (on the
    // host the same immutable tensors), taken before the first generation moves its stepper on.
    const forks = Array.from(
      { length: count - 1 },
      () => new SequenceStepper(this.session, stepper.ids, stepper.past.truncate(stepper.past.length)),
    );
    const options = (seed: number, mixing: ContextMixer | undefined, onText?: (text: string) => void) => ({
      sampling: request.sampling,
      seed,
      maxNewTokens: newTokens,
      stop: request.stop,
      maxLines: request.maxLines,
      editor: request.editor,
      stopIds: this.tokenizer.stopIds,
      timeBudgetMs: request.timeBudgetMs,
      startedAt,
      roomLeft: maxPositions - prompt.ids.length,
      isCancelled: hooks.isCancelled ?? (() => false),
      onText,
      adjustLogits: this.logitAdjuster(mixing),
      healing,
      repeatPenalty: request.repeatPenalty,
      draft:
        request.promptLookup === false
          ? undefined
          : (generated: readonly number[]) => lookupDraft(history.concat(generated)),
    });
    let result: GenerateResult;
    const others: GenerateResult[] = [];
    let setAsideTokens = 0;
    // The context cache's mix is written over the logits it is given: each candidate starts from
    // its own copy of the prompt's.
    const retry = request.retryRepeatedLine === true && request.editor !== undefined;
    const promptLogits = forks.length > 0 || retry ? logits.slice() : logits;
    const beams = request.sampling.temperature <= 0 && request.maxLines === 1 ? Math.round(request.beamWidth ?? 1) : 1;
    /** The stepper whose sequence the cache keeps: the first generation's, or the chosen beam's. */
    let kept = stepper;
    let beamSteps: number | undefined;
    try {
      if (beams > 1) {
        // The search owns the prompt's stepper; should it fail, this view of the prompt's state is cached.
        const prompted = stepper.fork();
        kept = prompted;
        const searched = await beamSearch(stepper, this.tokenizer, logits, {
          ...options(request.seed, undefined),
          width: beams,
          adjuster: this.beamAdjuster(mixer),
          rejects: retry ? (text) => repeatsFollowingLine(text, request.editor!) : undefined,
        });
        result = searched;
        prompted.dispose();
        kept = searched.stepper as SequenceStepper;
        beamSteps = searched.modelSteps;
        mixer = searched.adjuster instanceof BeamLogitAdjuster ? searched.adjuster.mixer : mixer;
      } else {
        result = await generate(stepper, this.tokenizer, logits, options(request.seed, mixer, hooks.onText));
        // Only while half the time budget is left: a retry cut short by it would show a fragment.
        const timeLeft = performance.now() - startedAt < request.timeBudgetMs / 2;
        const repeated = retry && timeLeft && repeatsFollowingLine(result.text, request.editor!);
        const step = repeated ? firstContentToken(this.tokenizer, result.tokens, healing?.text.length ?? 0) : -1;
        if (step >= 0 && !hooks.isCancelled?.()) {
          setAsideTokens = result.tokens.length;
          const firstCacheMs = mixer?.adjustMs ?? 0;
          stepper.rewind(stepper.ids.length - prompt.ids.length);
          mixer = this.contextMixer(prompt, weight);
          result = await generate(stepper, this.tokenizer, promptLogits.slice(), {
            ...options(request.seed, mixer, hooks.onText),
            ban: { step, token: result.tokens[step] },
          });
          if (mixer) mixer.adjustMs += firstCacheMs;
        }
      }
      mixer?.settle(result.tokens);
      for (const [i, fork] of forks.entries()) {
        if (hooks.isCancelled?.()) break;
        const seed = (request.seed + i + 1) >>> 0;
        const forkOptions = options(seed, this.contextMixer(prompt, weight));
        others.push(await generate(fork, this.tokenizer, promptLogits.slice(), forkOptions));
      }
    } finally {
      for (const fork of forks) fork.past.dispose();
      if (reuse) this.cache.put(kept.ids, kept.past);
      else kept.past.dispose();
    }
    const finishedAt = performance.now();
    return {
      text: result.text,
      logprobs: result.logprobs,
      ...(count > 1 ? { alternatives: distinctCandidates(result, others) } : {}),
      stats: {
        promptTokens: prompt.ids.length,
        reusedTokens: reused,
        prefilledTokens: prompt.ids.length - reused,
        generatedTokens: others.reduce((sum, r) => sum + r.tokens.length, result.tokens.length + setAsideTokens),
        tokenizeMs: tokenizedAt - startedAt,
        prefillMs: prefilledAt - tokenizedAt,
        decodeMs: finishedAt - prefilledAt,
        totalMs: finishedAt - startedAt,
        stopReason: result.stopReason,
        draftedTokens: result.draftedTokens,
        cacheLedTokens: mixer?.cacheLedTokens,
        cacheMs: mixer?.adjustMs,
        relatedTokens: this.contextIndex.documentTokens,
        headerTokens: prompt.headerTokens,
        ...(setAsideTokens > 0 ? { setAsideTokens } : {}),
        ...(beamSteps !== undefined ? { beamSteps } : {}),
      },
    };
  }

  clearCache(): void {
    this.cache.clear();
  }

  async dispose(): Promise<void> {
    this.cache.clear();
    await this.session.release();
  }
}
