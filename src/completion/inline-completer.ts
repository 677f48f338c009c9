// What the inline provider does for one keystroke, without VS Code: refuse an excluded file, answer
// from a suggestion the user is typing through, or wait out the debounce, ask the engine, and
// post-process; a request that ends with nothing to show says why (no-suggestion.ts). The provider
// (provider.ts) only adapts VS Code's document, position and cancellation token to this, so the
// typing-storm test and the keystroke benchmark drive exactly the editor's logic.
import type { CompletionResult, CompletionRequest } from '../engine/process/protocol';
import type { CompleteOptions } from '../engine/process/engine-client';
import type { WispSettings } from '../settings';
import { AdaptiveDebounce, cursorPlace } from './adaptive-debounce';
import { DocumentPaths, excludingGlob } from './excluded-files';
import { InlineInput, alternativesShown, belowConfidence, filterInline, prepareInline } from './inline-request';
import { NoSuggestion, whyNothingShown } from './no-suggestion';
import type { DocumentStyle, FilterAction } from './postprocess';
import { SuggestionMemory } from './suggestion-memory';

export interface InlineQuery extends InlineInput {
  documentKey: string;
  /** Checked against wisp.exclude before the document is read. */
  paths: DocumentPaths;
  style: DocumentStyle;
  signal: AbortSignal;
}

export interface InlineAnswer {
  /** '' when there is nothing to show; `reason` says why. */
  text: string;
  /** 'memory': typed through a suggestion already shown, no model call. */
  source: 'memory' | 'model';
  /** This completer's count of requests: the keystroke this answer is for. */
  keystroke: number;
  result?: CompletionResult;
  reason?: NoSuggestion;
  /** The filters that changed the model's text. */
  filtered?: FilterAction[];
  /** How long it waited before asking the engine (adaptive-debounce.ts). */
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

export class InlineCompleter {
  private readonly memory = new SuggestionMemory();
  private readonly debouncer = new AdaptiveDebounce();
  private keystrokes = 0;

  /** `startThinking` marks an engine call as running until the function it returns is called. */
  constructor(
    private readonly engine: CompletionBackend,
    private readonly startThinking: () => () => void = () => () => {},
  ) {}

  /** Suggestions made under other settings must not be served again. */
  forgetSuggestions(): void {
    this.memory.clear();
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
    const [remembered, ...others] = this.memory.lookupAll(
      query.documentKey,
      query.cursor,
      prepared.prefix,
      prepared.suffix,
    );
    if (remembered !== undefined) return { text: remembered, source: 'memory', keystroke, alternatives: others };
    if (this.memory.completedAt(query.documentKey, query.cursor, prepared.prefix, prepared.suffix)) {
      this.debouncer.accept();
    }
    const waitedMs = settings.adaptiveDebounce
      ? this.debouncer.delay(cursorPlace(prepared.context.linePrefix, prepared.context.lineSuffix), settings.debounceMs)
      : settings.debounceMs;
    if (!(await debounce(waitedMs, query.signal))) return none({ kind: 'debounced' });
    const done = this.startThinking();
    const askedAt = performance.now();
    let result: CompletionResult | undefined;
    try {
      result = await this.engine.complete(prepared.request, { signal: query.signal });
    } finally {
      done();
    }
    if (result && !query.signal.aborted) this.debouncer.response(performance.now() - askedAt);
    if (!result || query.signal.aborted) {
      // The editor cancels a request when the next keystroke asks for a new one; by the time the
      // engine has let go, that one has been counted. Otherwise the editor gave up on it (Escape).
      return none({ kind: 'cancelled', keystroke: this.keystrokes > keystroke ? keystroke + 1 : undefined }, result);
    }
    const report = filterInline(prepared, result, query.style);
    if (report.text === undefined) {
      const reason = whyNothingShown(result, report, prepared.request.timeBudgetMs);
      return { ...none(reason, result), filtered: report.actions };
    }
    const confidence = belowConfidence(result, report.text, settings.minConfidence);
    if (confidence !== undefined) {
      const reason: NoSuggestion = {
        kind: 'low-confidence',
        text: report.text,
        confidence,
        threshold: settings.minConfidence,
      };
      return { ...none(reason, result), filtered: report.actions };
    }
    const alternatives = alternativesShown(prepared, result, query.style, report.text, settings.minConfidence);
    this.memory.remember(query.documentKey, query.cursor, prepared.prefix, prepared.suffix, report.text, alternatives);
    return { text: report.text, source: 'model', keystroke, result, filtered: report.actions, waitedMs, alternatives };
  }
}
