// Extension host. What a server's context holds, as the server describes itself (server-format.ts,
// `props`) or learnt the first time a prompt did not fit it (context-overflow.ts), and each later
// request's text cut to fit: the prefix loses its start and
// the suffix its end, at line boundaries, as the editor's window is cut (context-window.ts). The
// characters a token takes vary from file to file (code 3-4, minified or non-Latin text less than
// 1.5), so the estimate follows the server's own counts, of the prompt that did not fit and of
// each answered one; it changes only when they differ by more than a tenth, and the prefix's
// start moves in fixed steps, so that while the user types the prompt's text stays put and the
// server's cache keeps matching it.
import { prefixWindowStart, suffixWindow, WINDOW_CHUNK } from '../completion/context-window';
import type { CompletionRequest } from '../engine/process/protocol';
import type { ContextOverflow } from './context-overflow';

/** The suffix's share of a cut prompt (the editor's window gives it a fifth, see inline-request.ts). */
const SUFFIX_SHARE = 0.2;
/** Characters per token vary along a file: a cut aims this far below the estimated fit. */
const SAFETY = 0.85;
/** The estimate follows an answered prompt's count only when they differ by more than this share. */
const HYSTERESIS = 0.1;
/** Answered prompts shorter than this say little of the text's characters per token (FIM tokens and all). */
const MIN_MEASURED_TOKENS = 64;
/** Fewest prompt tokens worth asking for: with less room the server's context is reported too small. */
const MIN_PROMPT_TOKENS = 32;
/** A cut prefix's start moves in steps of a power of two near this share of the budget, at most the editor window's. */
const STEP_SHARE = 1 / 8;

export type PromptText = Pick<CompletionRequest, 'prefix' | 'suffix' | 'maxNewTokens'>;

export class PromptBudget {
  /** The server's context in tokens; undefined until the server said it or a prompt did not fit. */
  private contextTokens: number | undefined;
  /** Characters per prompt token of the text last measured; Infinity before any count: nothing is cut. */
  private charsPerToken = Infinity;

  /**
   * The most characters of prefix and suffix a request may send: undefined while no context is
   * known, Infinity until a prompt is counted.
   */
  maxChars(maxNewTokens: number): number | undefined {
    if (this.contextTokens === undefined) return undefined;
    return Math.floor(this.charsPerToken * this.room(maxNewTokens) * SAFETY);
  }

  /** The request with its text cut to fit, or the reason none can. */
  fit<T extends PromptText>(request: T): T | { tooSmall: string } {
    const max = this.maxChars(request.maxNewTokens);
    if (max === undefined) return request;
    if (this.room(request.maxNewTokens) < MIN_PROMPT_TOKENS)
      return {
        tooSmall: `the server's context holds ${this.contextTokens} tokens: too few for a prompt and ${request.maxNewTokens} new tokens (start the server with a larger context)`,
      };
    const { prefix, suffix } = request;
    if (prefix.length + suffix.length <= max) return request;
    const suffixChars = Math.min(suffix.length, Math.floor(max * SUFFIX_SHARE));
    const step = Math.min(WINDOW_CHUNK, 2 ** Math.max(0, Math.floor(Math.log2(max * STEP_SHARE))));
    const start = prefixWindowStart((s, e) => prefix.slice(s, e), prefix.length, max - suffixChars, step);
    return {
      ...request,
      prefix: prefix.slice(start),
      suffix: suffixWindow((s, e) => suffix.slice(s, e), 0, suffix.length, suffixChars),
    };
  }

  /**
   * Takes the context the server says it has. Nothing is cut before the server has counted a
   * prompt's tokens (an answered one, or one refused), but a context too small is known at once.
   */
  know(contextTokens: number): void {
    this.contextTokens = contextTokens;
  }

  /**
   * Learns from a prompt of `sentChars` characters (prefix and suffix) that did not fit. The next
   * cut is below SAFETY times the text sent, so resending converges.
   */
  learn(sentChars: number, overflow: ContextOverflow): void {
    this.contextTokens = overflow.contextTokens;
    this.charsPerToken = sentChars / Math.max(1, overflow.promptTokens);
  }

  /** Follows the server's count of an answered prompt of `sentChars` characters. */
  observe(sentChars: number, promptTokens: number): void {
    if (this.contextTokens === undefined || promptTokens < MIN_MEASURED_TOKENS) return;
    const measured = sentChars / promptTokens;
    if (Math.abs(measured / this.charsPerToken - 1) > HYSTERESIS) this.charsPerToken = measured;
  }

  private room(maxNewTokens: number): number {
    // llama-server refuses a prompt of n_ctx tokens or more, and stops generating at n_ctx.
    return (this.contextTokens ?? 0) - maxNewTokens - 1;
  }
}
