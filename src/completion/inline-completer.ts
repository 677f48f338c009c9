// What the inline provider does for one keystroke, without VS Code: refuse an excluded file, answer
// from a suggestion the user is typing through, follow the running generation if the user is typing
// what it streams, or wait out the debounce, ask the engine, and post-process; a request that ends
// with nothing to show says why (no-suggestion.ts). The provider (provider.ts) only adapts VS
// Code's document, position and cancellation token to this, so the typing-storm test and the
// keystroke benchmark drive exactly the editor's logic.
//
// A generation outlives the keystroke that started it: when the editor cancels that keystroke, the
// generation goes on, and the next keystroke decides. If the user typed what it has streamed so far
// (typed-along.ts), it is kept and its remainder is the answer; otherwise it is stopped, and its
// tokens are counted as discarded. A generation that ends with no keystroke waiting leaves its
// suggestion in the memory, where typing-through finds it. After an accept, `prefetch` starts the
// next suggestion at once, while the user is idle; the KV cache already holds the accepted text.
import type { CompletionResult, CompletionRequest } from '../engine/process/protocol';
import type { CompleteOptions } from '../engine/process/engine-client';
import type { WispSettings } from '../settings';
import { AdaptiveDebounce, cursorPlace } from './adaptive-debounce';
import { DocumentPaths, excludingGlob } from './excluded-files';
import {
  InlineInput,
  PreparedInline,
  alternativesShown,
  belowConfidence,
  filterInline,
  prepareInline,
} from './inline-request';
import { NoSuggestion, whyNothingShown } from './no-suggestion';
import type { DocumentStyle, FilterAction, FilterReport } from './postprocess';
import { SuggestionMemory } from './suggestion-memory';
import { CursorAt, Place, placeOf, typedAlong } from './typed-along';

export interface InlineQuery extends InlineInput {
  documentKey: string;
  /** Checked against wisp.exclude before the document is read. */
  paths: DocumentPaths;
  style: DocumentStyle;
  signal: AbortSignal;
}

export type AnswerSource = 'memory' | 'model' | 'kept' | 'prefetch';

export interface InlineAnswer {
  /** '' when there is nothing to show; `reason` says why. */
  text: string;
  /**
   * 'memory': typed through a suggestion already shown, no model call; 'kept': from a generation an
   * earlier keystroke started that the user typed along with; 'prefetch': from the generation
   * started after an accept.
   */
  source: AnswerSource;
  /** This completer's count of requests: the keystroke this answer is for. */
  keystroke: number;
  result?: CompletionResult;
  reason?: NoSuggestion;
  /** The filters that changed the model's text. */
  filtered?: FilterAction[];
  /**
   * The wait it chose before asking the engine (adaptive-debounce.ts), on every answer that got as
   * far as choosing one, also where a keystroke cut the wait short.
   */
  waitedMs?: number;
  /** Other suggestions for the editor's cycling (wisp.candidates), each different from `text`. */
  alternatives?: string[];
}

export interface CompletionBackend {
  complete(request: CompletionRequest, options?: CompleteOptions): Promise<CompletionResult | undefined>;
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
export function debounce(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** What the completer has done so far, for the bench and the log. */
export interface CompleterStats {
  /** Keystrokes answered with a suggestion, by where it came from. */
  served: Record<AnswerSource, number>;
  /** Tokens generated, by every generation (those stopped: the tokens they had streamed). */
  generatedTokens: number;
  /** Generations a keystroke stopped because the user did not type along with them. */
  stopped: number;
  /** Tokens those generations had streamed: generated, then thrown away. */
  discardedTokens: number;
}

export interface CompleterOptions {
  /**
   * false: every keystroke cancels the generation of the one before (the pipeline before
   * generations were kept), so the bench can measure what keeping them buys.
   */
  keepGenerations?: boolean;
}

interface Generation {
  place: Place;
  prepared: PreparedInline;
  style: DocumentStyle;
  /** The raw text streamed so far. */
  streamed: string;
  /** Partial texts streamed: one per token. */
  steps: number;
  origin: 'model' | 'prefetch';
  /** wisp.minConfidence when it started: a suggestion below it is not remembered either. */
  minConfidence: number;
  abort: AbortController;
  /** Set while the keystroke that started it still waits for it. */
  owner?: AbortSignal;
  done: Promise<CompletionResult | undefined>;
  /** What the filters and the threshold make of its result, worked out once (shownOf). */
  shown?: Shown;
}

/** A result as the editor would get it: the filters' report, and whether it is confident enough. */
interface Shown {
  report: FilterReport;
  /** How far below wisp.minConfidence the text falls; undefined when it may be shown. */
  lowConfidence?: number;
  alternatives: string[];
}

export class InlineCompleter {
  private readonly memory = new SuggestionMemory();
  private readonly debouncer = new AdaptiveDebounce();
  private keystrokes = 0;
  private running: Generation | undefined;
  private readonly unsettled = new Set<Promise<void>>();
  private readonly keep: boolean;
  readonly stats: CompleterStats = {
    served: { memory: 0, model: 0, kept: 0, prefetch: 0 },
    generatedTokens: 0,
    stopped: 0,
    discardedTokens: 0,
  };

  /** `startThinking` marks an engine call as running until the function it returns is called. */
  constructor(
    private readonly engine: CompletionBackend,
    private readonly startThinking: () => () => void = () => () => {},
    options: CompleterOptions = {},
  ) {
    this.keep = options.keepGenerations ?? true;
  }

  /** Suggestions made under other settings must not be served again. */
  forgetSuggestions(): void {
    this.memory.clear();
    this.stopRunning();
  }

  async complete(query: InlineQuery, settings: WispSettings): Promise<InlineAnswer> {
    const keystroke = ++this.keystrokes;
    this.debouncer.keystroke(performance.now());
    const none = (reason: NoSuggestion, result?: CompletionResult): InlineAnswer => ({
      text: '',
      source: 'model',
      keystroke,
      result,
      reason,
    });
    const glob = excludingGlob(query.paths, settings.exclude);
    if (glob !== undefined) return none({ kind: 'excluded', glob });
    if (query.signal.aborted) return none({ kind: 'debounced' });
    const prepared = prepareInline(query, settings);
    const at = cursorAt(query, prepared);
    const early = await this.fromEarlierWork(at, query.signal, keystroke);
    if (early.answer) return early.answer;
    if (early.followed && query.signal.aborted) return none({ kind: 'cancelled', keystroke: keystroke + 1 });
    if (this.memory.completedAt(at)) this.debouncer.accept();
    const waitedMs = settings.adaptiveDebounce
      ? this.debouncer.delay(cursorPlace(prepared.context.linePrefix, prepared.context.lineSuffix), settings.debounceMs)
      : settings.debounceMs;
    // The wait goes on every answer from here, also where a keystroke cut it short.
    const waited = (reason: NoSuggestion, result?: CompletionResult): InlineAnswer => ({
      ...none(reason, result),
      waitedMs,
    });
    if (!(await debounce(waitedMs, query.signal))) return waited({ kind: 'debounced' });
    // A prefetch may have started here meanwhile: the editor asks again as soon as a suggestion
    // is accepted, before the accept's command runs.
    const late = await this.fromEarlierWork(at, query.signal, keystroke);
    if (late.answer) return late.answer;
    if (query.signal.aborted) return waited({ kind: 'cancelled', keystroke: keystroke + 1 });
    const askedAt = performance.now();
    const generation = this.start(at, prepared, query.style, 'model', settings.minConfidence, query.signal);
    const result = await untilAborted(generation.done, query.signal);
    if (result && !query.signal.aborted) this.debouncer.response(performance.now() - askedAt);
    if (!result || query.signal.aborted) {
      // The editor cancels a request when the next keystroke asks for a new one; by the time the
      // engine has let go, that one has been counted. Otherwise the editor gave up on it (Escape).
      return waited({ kind: 'cancelled', keystroke: this.keystrokes > keystroke ? keystroke + 1 : undefined }, result);
    }
    const { report, lowConfidence: confidence, alternatives } = shownOf(generation, result);
    if (report.text === undefined) {
      const reason = whyNothingShown(result, report, prepared.request.timeBudgetMs);
      return { ...waited(reason, result), filtered: report.actions };
    }
    if (confidence !== undefined) {
      const reason: NoSuggestion = {
        kind: 'low-confidence',
        text: report.text,
        confidence,
        threshold: settings.minConfidence,
      };
      return { ...waited(reason, result), filtered: report.actions };
    }
    this.stats.served.model++;
    return { text: report.text, source: 'model', keystroke, result, filtered: report.actions, waitedMs, alternatives };
  }

  /**
   * After a suggestion was accepted whole, at the cursor after it: compute the next suggestion now,
   * so that the editor's next request is answered at once. Nothing is started where a suggestion or
   * a generation for this place exists already. Returns the generation's answer, when one started.
   */
  prefetch(query: InlineQuery, settings: WispSettings): Promise<CompletionResult | undefined> | undefined {
    if (!this.keep || excludingGlob(query.paths, settings.exclude) !== undefined) return undefined;
    const prepared = prepareInline(query, settings);
    const at = cursorAt(query, prepared);
    if (this.running && typedAlong(this.running.place, this.running.streamed, at) !== undefined) return undefined;
    if (this.memory.has(at)) return undefined;
    return this.start(at, prepared, query.style, 'prefetch', settings.minConfidence).done;
  }

  /**
   * A suggestion from work already done or running for this place: the memory, or the running
   * generation if the user typed along with it (waited for). Stops a running generation the user
   * did not type along with.
   */
  private async fromEarlierWork(
    at: CursorAt,
    signal: AbortSignal,
    keystroke: number,
  ): Promise<{ answer?: InlineAnswer; followed: boolean }> {
    const running = this.running;
    const followed =
      running !== undefined && this.keep && typedAlong(running.place, running.streamed, at) !== undefined;
    if (running && !followed) this.stopRunning();
    if (followed) await untilAborted(running.done, signal);
    if (signal.aborted) return { followed };
    const remembered = this.memory.lookup(at);
    if (!remembered) return { followed };
    const source = remembered.origin === 'shown' ? 'memory' : remembered.origin;
    this.stats.served[source]++;
    const answer: InlineAnswer = { text: remembered.text, source, keystroke, alternatives: remembered.alternatives };
    return { answer, followed };
  }

  /** Resolves when every generation started so far has ended (for tests and the bench). */
  async settled(): Promise<void> {
    while (this.unsettled.size > 0) await Promise.allSettled([...this.unsettled]);
  }

  private start(
    at: CursorAt,
    prepared: PreparedInline,
    style: DocumentStyle,
    origin: Generation['origin'],
    minConfidence: number,
    owner?: AbortSignal,
  ): Generation {
    this.stopRunning();
    const abort = new AbortController();
    // Without keeping, the keystroke's cancellation is the generation's.
    const cancel = () => abort.abort();
    const tied = !this.keep && owner !== undefined;
    if (tied) owner.addEventListener('abort', cancel, { once: true });
    const generation: Generation = {
      place: placeOf(at),
      prepared,
      style,
      streamed: '',
      steps: 0,
      origin,
      minConfidence,
      abort,
      owner,
      done: Promise.resolve(undefined),
    };
    const done = this.startThinking();
    generation.done = this.engine
      .complete(prepared.request, {
        signal: abort.signal,
        onPartial: (text) => {
          generation.streamed = text;
          generation.steps++;
        },
      })
      .then(
        (result) => {
          this.finished(generation, at, result);
          return result;
        },
        (err: unknown) => {
          if (this.running === generation) this.running = undefined;
          throw err;
        },
      )
      .finally(() => {
        if (tied) owner.removeEventListener('abort', cancel);
        done();
      });
    // The owner reads the failure from its own await; a kept generation's is the next request's.
    const forget = () => void this.unsettled.delete(ended);
    const ended: Promise<void> = generation.done.then(forget, forget);
    this.unsettled.add(ended);
    this.running = generation;
    return generation;
  }

  /** A finished generation's suggestion goes to the memory, for the keystrokes that type along. */
  private finished(generation: Generation, at: CursorAt, result: CompletionResult | undefined): void {
    if (this.running === generation) this.running = undefined;
    if (generation.abort.signal.aborted) this.discarded(generation);
    else if (result) this.stats.generatedTokens += result.stats.generatedTokens;
    if (!result || generation.abort.signal.aborted) return;
    const ownerWaits = generation.owner !== undefined && !generation.owner.aborted;
    if (!ownerWaits && !this.keep) return;
    const { report, lowConfidence, alternatives } = shownOf(generation, result);
    if (report.text === undefined || lowConfidence !== undefined) return;
    const origin = ownerWaits ? 'shown' : generation.origin === 'prefetch' ? 'prefetch' : 'kept';
    this.memory.remember(at, report.text, origin, alternatives);
  }

  private stopRunning(): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.abort.abort();
  }

  private discarded(generation: Generation): void {
    this.stats.stopped++;
    this.stats.generatedTokens += generation.steps;
    this.stats.discardedTokens += generation.steps;
  }
}

/** The generation's result through the filters and the threshold, once for its owner and the memory. */
function shownOf(generation: Generation, result: CompletionResult): Shown {
  if (generation.shown) return generation.shown;
  const { prepared, style, minConfidence } = generation;
  const report = filterInline(prepared, result, style);
  const text = report.text;
  const lowConfidence = text === undefined ? undefined : belowConfidence(result, text, minConfidence);
  const alternatives =
    text === undefined || lowConfidence !== undefined
      ? []
      : alternativesShown(prepared, result, style, text, minConfidence);
  return (generation.shown = { report, lowConfidence, alternatives });
}

function cursorAt(query: InlineQuery, prepared: PreparedInline): CursorAt {
  return { documentKey: query.documentKey, offset: query.cursor, prefix: prepared.prefix, suffix: prepared.suffix };
}

/** The promise's value, or undefined as soon as the signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
