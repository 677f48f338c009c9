// Keystroke replay: a person types a segment of a real file, one character at a time, and every
// keystroke goes through what the inline provider does (src/completion/provider.ts), without VS
// Code: the provider's own InlineCompleter (the prompt window, typing-through, the generation kept
// while the user types along with it, the debounce, post-processing, the prefetch after an accept),
// with the engine through an EngineClient (which cancels the stale request when a new one starts).
//
// The timeline is real time: keys arrive ~80 ms apart (jittered) with pauses, so debounce,
// cancellation and typing-through happen as they would. Every engine replays the same timeline.
// With `accept`, the person presses Tab on a suggestion that is exactly what they would type next:
// its characters are skipped, and the next key comes when the next character was due.
import type { CompletionRequest, CompletionResult } from '../../src/engine/engine';
import { InlineAnswer, InlineCompleter, InlineQuery } from '../../src/completion/inline-completer';
import { detectStyle } from '../../src/completion/inline-request';
import type { DocumentStyle } from '../../src/completion/postprocess';
import type { CompleteOptions } from '../../src/engine/process/engine-client';
import { WispSettings, contextCacheWeight } from '../../src/settings';
import { mean, percentile, rng, round, sleep } from './measure';
import type { TypingSegment } from './sources';

/** What the provider needs from the engine client (EngineClient has exactly this method). */
export interface CompletionBackend {
  complete(request: CompletionRequest, options?: CompleteOptions): Promise<CompletionResult | undefined>;
}

export interface TimelineOptions {
  intervalMs: number;
  seed: number;
}

/** Arrival time (ms from the start) of each typed character. */
export function keyTimes(typed: string, options: TimelineOptions): number[] {
  const random = rng(options.seed);
  const times: number[] = [];
  let t = 0;
  for (let i = 0; i < typed.length; i++) {
    t += options.intervalMs * (0.7 + 0.6 * random());
    const prev = typed[i - 1];
    // a pause to think: after most line ends, now and then elsewhere
    if ((prev === '\n' && random() < 0.6) || random() < 0.04) t += 400 + 800 * random();
    times.push(t);
  }
  return times;
}

/** 'kept': from a generation an earlier keystroke started; 'prefetch': from the prefetch after an accept. */
export type KeyOutcome = 'typing-through' | 'model' | 'kept' | 'prefetch' | 'empty' | 'cancelled' | 'failed';

export interface KeyRecord {
  key: number;
  outcome: KeyOutcome;
  /** Keystroke to suggestion ready, including the debounce wait. */
  readyMs?: number;
  /** The wait the debounce chose for this keystroke (also where the next keystroke cut it short). */
  waitMs?: number;
  /**
   * wisp.minConfidence hid the model's suggestion (outcome 'empty'); `accepted` then says whether
   * the hidden suggestion was what the person types next.
   */
  belowConfidence?: boolean;
  /** The same without the debounce wait: what the pipeline and engine cost. */
  workMs?: number;
  /** Time inside the engine client call (request sent → result). */
  engineMs?: number;
  prefilled?: number;
  generated?: number;
  /** The engine's own split of its time (NaN where it does not report one). */
  prefillMs?: number;
  decodeMs?: number;
  /** Generated tokens the context cache put ahead of the model (0 when the cache is off). */
  cacheLed?: number;
  suggestion?: string;
  /** The suggestion's first line is what the person types next. */
  accepted?: boolean;
  /** Tokens generated, and of those thrown away (stopped generations), since the record before. */
  generatedTokens?: number;
  discardedTokens?: number;
  /** The person pressed Tab on the suggestion before: this key is at the cursor after it. */
  afterAccept?: boolean;
}

export interface ReplayOptions {
  settings: WispSettings;
  /** Overrides of the provider's request: single line, at most 16 new tokens, KV reuse on or off. */
  maxNewTokens: number;
  reuseCache: boolean;
  /** Share of the context the suffix may take (the engine's default is 0.25). */
  suffixShare?: number;
  /**
   * The context cache (src/engine/context-cache.ts: n-grams of the prompt mixed into the model's
   * logits): on = the request's `contextCacheWeight` is the extension's default,
   * `contextCacheWeight(settings)`; off = 0, so the engine decodes the model's plain greedy tokens
   * and its suggestions can be compared token for token with the other engines'.
   */
  contextCache: boolean;
  documentKey: string;
  timeline: TimelineOptions;
  /**
   * Issue 14's levers, each on by default: keep the generation the user types along with, stop
   * while decoding where the filters would cut, prefetch after an accept.
   */
  keep?: boolean;
  earlyStop?: boolean;
  prefetch?: boolean;
  /** The person presses Tab on a suggestion that is exactly what they would type next. */
  accept?: boolean;
  /** false: requests ask for no token healing (the engine's and a server's; on by default). */
  healing?: boolean;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

/**
 * One person typing one segment against one engine: `key(k)` is what the provider does when the
 * k-th character has been typed (k = 0: the document before typing began).
 */
export class Typist {
  readonly records: KeyRecord[] = [];
  private readonly completer: InlineCompleter;
  private readonly after: string;
  private readonly style: DocumentStyle;
  /** Engine call time of each result, for the records. */
  private readonly callMs = new WeakMap<CompletionResult, number>();
  private counted = { generated: 0, discarded: 0 };

  constructor(
    readonly seg: TypingSegment,
    readonly backend: CompletionBackend,
    readonly options: ReplayOptions,
  ) {
    this.after = seg.text.slice(seg.start + seg.length);
    this.style = detectStyle(seg.text);
    // The provider's request, with the bench's overrides: single line, at most `maxNewTokens`,
    // KV reuse, the suffix share and the context cache as the row asks.
    const adjust = (request: CompletionRequest): CompletionRequest => ({
      ...request,
      maxNewTokens: options.maxNewTokens,
      maxLines: 1,
      reuseCache: options.reuseCache,
      ...(options.suffixShare !== undefined ? { suffixShare: options.suffixShare } : {}),
      contextCacheWeight: options.contextCache ? contextCacheWeight(options.settings) : 0,
      editor: options.earlyStop === false ? undefined : request.editor,
      ...(options.healing === false ? { tokenHealing: false } : {}),
    });
    this.completer = new InlineCompleter(
      {
        complete: async (request, callOptions) => {
          const sent = performance.now();
          const result = await backend.complete(adjust(request), callOptions);
          if (result) this.callMs.set(result, performance.now() - sent);
          return result;
        },
      },
      undefined,
      { keepGenerations: options.keep !== false },
    );
  }

  private query(key: number, signal: AbortSignal): InlineQuery {
    const { seg } = this;
    // the document after `key` characters: what was typed so far, then the rest of the file
    const doc = seg.text.slice(0, seg.start + key) + this.after;
    return {
      slice: (a, b) => doc.slice(a, b),
      documentLength: doc.length,
      cursor: seg.start + key,
      documentKey: this.options.documentKey,
      paths: { relative: this.options.documentKey },
      style: this.style,
      signal,
    };
  }

  /** What the person would type next from key `key`. */
  private next(key: number): string {
    return this.seg.text.slice(this.seg.start + key, this.seg.start + this.seg.length);
  }

  async key(key: number, keyAt: number, signal: AbortSignal, debounce: boolean, afterAccept = false): Promise<void> {
    const { options, records } = this;
    const settings = debounce ? options.settings : { ...options.settings, debounceMs: 0 };
    let answer: InlineAnswer;
    try {
      answer = await this.completer.complete(this.query(key, signal), settings);
    } catch (err) {
      records.push({ key, outcome: 'failed', suggestion: (err as Error).message, ...this.tokens() });
      return;
    }
    const readyMs = performance.now() - keyAt;
    const next = this.next(key);
    const judge = (s: string) => firstLine(s).length > 0 && next.startsWith(firstLine(s));
    const mark = {
      ...(afterAccept ? { afterAccept } : {}),
      ...(answer.waitedMs !== undefined ? { waitMs: answer.waitedMs } : {}),
    };
    if (answer.reason?.kind === 'debounced' || answer.reason?.kind === 'cancelled') {
      records.push({ key, outcome: 'cancelled', ...mark, ...this.tokens() });
      return;
    }
    if (answer.source !== 'model') {
      const outcome = answer.source === 'memory' ? 'typing-through' : answer.source;
      records.push({
        key,
        outcome,
        readyMs,
        workMs: readyMs,
        suggestion: answer.text,
        accepted: judge(answer.text),
        ...mark,
        ...this.tokens(),
      });
      return;
    }
    const result = answer.result!;
    const base = {
      key,
      readyMs,
      // a model call waits out the wait the debounce chose
      workMs: readyMs - (answer.waitedMs ?? 0),
      engineMs: this.callMs.get(result),
      prefilled: result.stats.prefilledTokens,
      generated: result.stats.generatedTokens,
      prefillMs: result.stats.prefillMs,
      decodeMs: result.stats.decodeMs,
      cacheLed: result.stats.cacheLedTokens ?? 0,
      ...mark,
    };
    if (answer.reason?.kind === 'low-confidence') {
      const hidden = answer.reason.text;
      records.push({ ...base, outcome: 'empty', belowConfidence: true, accepted: judge(hidden), ...this.tokens() });
      return;
    }
    if (!answer.text) {
      records.push({ ...base, outcome: 'empty', ...this.tokens() });
      return;
    }
    records.push({
      ...base,
      outcome: 'model',
      suggestion: answer.text,
      accepted: judge(answer.text),
      ...this.tokens(),
    });
  }

  /**
   * The suggestion shown at key `key` if it is exactly what the person types next (so they press
   * Tab on it), else undefined.
   */
  acceptable(key: number): string | undefined {
    const last = [...this.records].reverse().find((r) => r.key === key);
    if (!last?.suggestion || last.outcome === 'failed' || last.outcome === 'empty' || last.outcome === 'cancelled')
      return undefined;
    return this.next(key).startsWith(last.suggestion) ? last.suggestion : undefined;
  }

  /** The person accepted the suggestion whole, which left the cursor at key `key`. */
  accepted(key: number): void {
    if (this.options.prefetch !== false)
      this.completer.prefetch(this.query(key, new AbortController().signal), this.options.settings);
  }

  /** Generated and discarded tokens since the last call. */
  private tokens(): { generatedTokens: number; discardedTokens: number } {
    const { generatedTokens, discardedTokens } = this.completer.stats;
    const delta = {
      generatedTokens: generatedTokens - this.counted.generated,
      discardedTokens: discardedTokens - this.counted.discarded,
    };
    this.counted = { generated: generatedTokens, discarded: discardedTokens };
    return delta;
  }

  /** Waits for every generation to end, and counts their tokens on the last record. */
  async settle(): Promise<void> {
    await this.completer.settled();
    const last = this.records[this.records.length - 1];
    if (!last) return;
    const more = this.tokens();
    last.generatedTokens = (last.generatedTokens ?? 0) + more.generatedTokens;
    last.discardedTokens = (last.discardedTokens ?? 0) + more.discardedTokens;
  }

  /** The state before typing began, answered and awaited (the file was open; its prompt is cached). */
  async warmUp(): Promise<void> {
    await this.key(0, performance.now(), new AbortController().signal, false);
    await this.completer.settled();
    this.records.length = 0;
    this.tokens();
  }
}

/** Replays one segment against one backend in real time; resolves when every request has settled. */
export async function replay(
  seg: TypingSegment,
  backend: CompletionBackend,
  options: ReplayOptions,
): Promise<KeyRecord[]> {
  const typist = new Typist(seg, backend, options);
  await typist.warmUp();
  const times = keyTimes(seg.text.slice(seg.start, seg.start + seg.length), options.timeline);
  const pending: Promise<void>[] = [];
  let current: AbortController | undefined;
  const t0 = performance.now();
  let k = 0;
  while (k < seg.length) {
    await sleep(t0 + times[k] - performance.now());
    current?.abort(); // the editor cancels the previous request's token when the next keystroke comes
    const tab = options.accept ? typist.acceptable(k) : undefined;
    k += tab ? tab.length : 1;
    if (tab) typist.accepted(k);
    const controller = new AbortController();
    current = controller;
    pending.push(typist.key(k, performance.now(), controller.signal, true, tab !== undefined));
  }
  await Promise.all(pending);
  await typist.settle();
  return typist.records.sort((a, b) => a.key - b.key);
}

/**
 * Every engine types the same segment, keystroke by keystroke in lockstep: at each key every
 * engine answers in turn (the order rotates), each waiting for its suggestion, with no debounce
 * and no cancellation. Other work on the machine then falls on all engines alike, so per-key
 * ratios between them hold even when the machine is busy.
 */
export async function replayLockstep(typists: Typist[], keys: number, beforeEach?: (t: Typist) => void): Promise<void> {
  for (const t of typists) {
    beforeEach?.(t);
    await t.warmUp();
  }
  const never = new AbortController().signal;
  for (let k = 1; k <= keys; k++) {
    for (let i = 0; i < typists.length; i++) {
      const t = typists[(i + k) % typists.length];
      await t.key(k, performance.now(), never, false);
    }
  }
}

export interface ReplaySummary {
  keys: number;
  /** Every-keystroke pass: share of keys where this engine showed exactly Wisp's suggestion. */
  same_as_wisp: number;
  /** Keystrokes that got a suggestion (model or typing-through), or an answer that post-processing emptied. */
  answered: number;
  model_calls: number;
  cancelled: number;
  failed: number;
  /** Keystroke → suggestion without the debounce wait, over answered keystrokes. */
  p50_ms: number;
  p95_ms: number;
  /** The same including the debounce wait. */
  ready_p50_ms: number;
  ready_p95_ms: number;
  /** Engine client call time of completed model calls. */
  engine_p50_ms: number;
  engine_p95_ms: number;
  prefill_tokens_mean: number;
  prefill_tokens_p95: number;
  generated_tokens_mean: number;
  /** Share of generated tokens (of model calls) that the context cache put ahead of the model; 0 when it is off. */
  cache_led_share: number;
  /**
   * The engine's prompt-feeding time per model call (p50), and decode time per generated token
   * after the first (median).
   */
  prefill_ms_p50: number;
  decode_ms_per_token: number;
  /** Share of all keystrokes answered by typing-through, without a model call. */
  typing_through_share: number;
  /** Share of shown suggestions whose first line is what is typed next. */
  accept_proxy: number;
  chars_saved: number;
  chars_saved_share: number;
  /** Tokens generated in all, and of those thrown away by a keystroke that stopped their generation. */
  tokens_generated: number;
  tokens_discarded: number;
  /** Shares of shown suggestions that a kept generation and the prefetch after an accept served. */
  kept_share: number;
  prefetch_share: number;
  /** Suggestions the person accepted with Tab (with `accept`). */
  accepts: number;
  /** Model answers wisp.minConfidence hid, and of those the ones that were what is typed next. */
  hidden_low_confidence: number;
  hidden_right: number;
  /** Mean wait the debounce chose, over the keystrokes that got as far as choosing one, and their count. */
  wait_mean_ms: number;
  wait_keys: number;
}

/**
 * Characters saved: had the person pressed Tab on each suggestion whose first line matches, the
 * characters it covers would not have been typed; overlapping suggestions count once.
 */
export function summarize(records: KeyRecord[], typedLength: number, reference?: KeyRecord[]): ReplaySummary {
  const shownOutcomes = new Set(['model', 'typing-through', 'kept', 'prefetch']);
  const answered = records.filter((r) => shownOutcomes.has(r.outcome) || r.outcome === 'empty');
  const shown = records.filter((r) => shownOutcomes.has(r.outcome));
  const calls = records.filter((r) => r.outcome === 'model' || r.outcome === 'empty');
  let coveredUntil = 0;
  let saved = 0;
  for (const r of shown) {
    if (!r.accepted || !r.suggestion) continue;
    const end = r.key + firstLine(r.suggestion).length;
    saved += Math.max(0, end - Math.max(r.key, coveredUntil));
    coveredUntil = Math.max(coveredUntil, end);
  }
  const work = answered.map((r) => r.workMs ?? 0);
  const ready = answered.map((r) => r.readyMs ?? 0);
  const engine = calls.map((r) => r.engineMs ?? 0);
  const prefilled = calls.map((r) => r.prefilled ?? 0);
  const hidden = records.filter((r) => r.belowConfidence);
  const waits = records.map((r) => r.waitMs).filter((w): w is number => w !== undefined);
  // keystrokes whose suggestion is the reference engine's (same key, same text or both none)
  let same = NaN;
  if (reference) {
    const ref = new Map(reference.map((r) => [r.key, r.suggestion ?? '']));
    same = round(
      records.filter((r) => ref.has(r.key) && ref.get(r.key) === (r.suggestion ?? '')).length /
        Math.max(1, records.length),
      3,
    );
  }
  return {
    keys: records.length,
    same_as_wisp: same,
    answered: answered.length,
    model_calls: calls.length,
    cancelled: records.filter((r) => r.outcome === 'cancelled').length,
    failed: records.filter((r) => r.outcome === 'failed').length,
    p50_ms: round(percentile(work, 0.5)),
    p95_ms: round(percentile(work, 0.95)),
    ready_p50_ms: round(percentile(ready, 0.5)),
    ready_p95_ms: round(percentile(ready, 0.95)),
    engine_p50_ms: round(percentile(engine, 0.5)),
    engine_p95_ms: round(percentile(engine, 0.95)),
    prefill_tokens_mean: round(mean(prefilled), 2),
    prefill_tokens_p95: percentile(prefilled, 0.95),
    generated_tokens_mean: round(mean(calls.map((r) => r.generated ?? 0)), 2),
    cache_led_share: round(
      sum(calls.map((r) => r.cacheLed ?? 0)) / Math.max(1, sum(calls.map((r) => r.generated ?? 0))),
      3,
    ),
    prefill_ms_p50: round(percentile(calls.map((r) => r.prefillMs ?? NaN).filter(Number.isFinite), 0.5)),
    decode_ms_per_token: round(
      percentile(
        calls
          .filter((r) => (r.generated ?? 0) > 1 && Number.isFinite(r.decodeMs))
          .map((r) => r.decodeMs! / (r.generated! - 1)),
        0.5,
      ),
      2,
    ),
    typing_through_share: round(
      records.filter((r) => r.outcome === 'typing-through').length / Math.max(1, records.length),
      3,
    ),
    accept_proxy: round(shown.length ? shown.filter((r) => r.accepted).length / shown.length : 0, 3),
    chars_saved: saved,
    chars_saved_share: round(saved / Math.max(1, typedLength), 3),
    tokens_generated: sum(records.map((r) => r.generatedTokens ?? 0)),
    tokens_discarded: sum(records.map((r) => r.discardedTokens ?? 0)),
    kept_share: round(shown.filter((r) => r.outcome === 'kept').length / Math.max(1, shown.length), 3),
    prefetch_share: round(shown.filter((r) => r.outcome === 'prefetch').length / Math.max(1, shown.length), 3),
    accepts: records.filter((r) => r.afterAccept).length,
    hidden_low_confidence: hidden.length,
    hidden_right: hidden.filter((r) => r.accepted).length,
    wait_mean_ms: round(mean(waits), 1),
    wait_keys: waits.length,
  };
}
