// What the inline provider does for one keystroke, without VS Code: answer from a suggestion the
// user is typing through, or wait out the debounce, ask the engine, and post-process. The provider
// (provider.ts) only adapts VS Code's document, position and cancellation token to this, so the
// typing-storm test and the keystroke benchmark drive exactly the editor's logic.
import type { CompletionResult, CompletionRequest } from '../engine/process/protocol';
import type { CompleteOptions } from '../engine/process/engine-client';
import type { WispSettings } from '../settings';
import { InlineInput, finishInline, prepareInline } from './inline-request';
import type { DocumentStyle } from './postprocess';
import { SuggestionMemory } from './suggestion-memory';

export interface InlineQuery extends InlineInput {
  documentKey: string;
  style: DocumentStyle;
  signal: AbortSignal;
}

export interface InlineAnswer {
  text: string;
  /** 'memory': typed through a suggestion already shown, no model call. */
  source: 'memory' | 'model';
  result?: CompletionResult;
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

  /** `startThinking` marks an engine call as running until the function it returns is called. */
  constructor(
    private readonly engine: CompletionBackend,
    private readonly startThinking: () => () => void = () => () => {},
  ) {}

  /** Suggestions made under other settings must not be served again. */
  forgetSuggestions(): void {
    this.memory.clear();
  }

  async complete(query: InlineQuery, settings: WispSettings): Promise<InlineAnswer | undefined> {
    if (query.signal.aborted) return undefined;
    const prepared = prepareInline(query, settings);
    const remembered = this.memory.lookup(query.documentKey, query.cursor, prepared.prefix, prepared.suffix);
    if (remembered !== undefined) return { text: remembered, source: 'memory' };
    if (!(await debounce(settings.debounceMs, query.signal))) return undefined;
    const done = this.startThinking();
    let result: CompletionResult | undefined;
    try {
      result = await this.engine.complete(prepared.request, { signal: query.signal });
    } finally {
      done();
    }
    if (!result || query.signal.aborted) return undefined;
    const text = finishInline(prepared, result, query.style);
    if (!text) return { text: '', source: 'model', result };
    this.memory.remember(query.documentKey, query.cursor, prepared.prefix, prepared.suffix, text);
    return { text, source: 'model', result };
  }
}
