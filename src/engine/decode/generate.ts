// The autoregressive loop: feed, sample, stop. Stops on an end token, a stop string, a repetition
// loop, a scope rule of post-processing, the token budget, the time budget, or cancellation —
// checked between steps, after yielding to the event loop so that a cancel message that arrived
// meanwhile is seen.
import { Rng, SamplingParams, sample } from '../../shared/sampler';
import { Healing, restrictTo } from './token-healing';
import { endOfText } from '../../shared/stop-rules';
import type { EditorContext } from '../../shared/scope-rules';
import { TokenLogprob, logSumExp } from '../../shared/confidence';
import { type RepeatPenalty, applyRepeatPenalty } from '../../shared/repeat-penalty';

export interface Stepper {
  /** Feed tokens after everything fed so far; returns the logits of the last one. */
  feed(ids: number[]): Promise<Float32Array>;
  /** Feed tokens; returns the logits after each of them (to check drafted tokens in one pass). */
  feedAll?(ids: number[]): Promise<Float32Array[]>;
  /** Forget the last `count` tokens fed. */
  rewind?(count: number): void;
}

export interface TokenDecoder {
  decode(ids: number[]): string;
}

/** 'filter': post-processing would cut the rest (shared/scope-rules.ts). */
export type StopReason = 'eos' | 'stop' | 'length' | 'time' | 'cancelled' | 'context' | 'loop' | 'filter';

export interface GenerateOptions {
  sampling: SamplingParams;
  seed: number;
  maxNewTokens: number;
  /** Generation ends at the first of these strings, which is not part of the result. */
  stop: readonly string[];
  /** Generation ends when this many lines of content are complete (leading blank lines do not count). */
  maxLines?: number;
  /** The cursor's surroundings, to stop where the filters would cut the rest; absent = no such stop. */
  editor?: EditorContext;
  stopIds: ReadonlySet<number>;
  /** Wall-clock limit measured from `startedAt`. */
  timeBudgetMs: number;
  startedAt: number;
  /** Positions left before the model's context is full. */
  roomLeft: number;
  isCancelled: () => boolean;
  onText?: (text: string) => void;
  /** Changes the distribution before sampling (e.g. the context cache); identity when absent. */
  adjustLogits?: (logits: Float32Array, generated: readonly number[], allowed?: Uint8Array) => Float32Array;
  /**
   * Proposes the tokens likely to follow the generated ones (prompt lookup: what followed the same
   * tokens earlier). At temperature 0 they are fed with the next token in one pass and kept as far
   * as greedy decoding would have chosen them itself, so the text is the same, in fewer steps.
   */
  draft?: (generated: readonly number[]) => number[];
  /**
   * The prompt's last token was taken back (token-healing.ts): the first tokens restore its text,
   * which is not part of the result, and they do not count against `maxNewTokens`.
   */
  healing?: Healing;
  /** Penalises tokens that would extend a repeat of the generation's own tokens; absent = off. */
  repeatPenalty?: RepeatPenalty;
  /** A token never chosen at this step (counted from the first generated token, healing included). */
  ban?: { step: number; token: number };
}

export interface GenerateResult {
  text: string;
  tokens: number[];
  stopReason: StopReason;
  /** Tokens that came from an accepted draft, without a step of their own. */
  draftedTokens: number;
  /** Each token's log-probability in the distribution it was drawn from at temperature 1 (confidence.ts). */
  logprobs: TokenLogprob[];
}

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Text decoded so far, without a trailing incomplete UTF-8 sequence (shown as U+FFFD). */
export function stableText(decoder: TokenDecoder, tokens: number[]): string {
  const text = decoder.decode(tokens);
  return text.endsWith('\uFFFD') ? text.replace(/\uFFFD+$/, '') : text;
}

/** Generate after a prompt whose last logits are `firstLogits`. */
export async function generate(
  stepper: Stepper,
  decoder: TokenDecoder,
  firstLogits: Float32Array,
  options: GenerateOptions,
): Promise<GenerateResult> {
  const rng = new Rng(options.seed);
  const tokens: number[] = [];
  let logits = firstLogits;
  let text = '';
  let stopReason: StopReason = 'length';
  const healed = options.healing?.text.length ?? 0;
  let required = options.healing?.text ?? '';
  let restoring = 0;
  const speculate =
    options.draft !== undefined &&
    options.sampling.temperature <= 0 &&
    stepper.feedAll !== undefined &&
    stepper.rewind !== undefined;
  /** Drafted tokens fed after the last chosen one, with the logits after each. */
  let drafted: Array<{ id: number; logits: Float32Array }> = [];
  let draftedTokens = 0;
  const logprobs: TokenLogprob[] = [];
  for (;;) {
    const allowed = required ? options.healing!.allowedFor(required) : undefined;
    let adjusted = options.adjustLogits ? options.adjustLogits(logits, tokens, allowed) : logits;
    if (allowed) adjusted = restrictTo(adjusted, allowed);
    else if (options.repeatPenalty) {
      adjusted = applyRepeatPenalty(adjusted, tokens.slice(restoring), options.repeatPenalty);
    }
    // The confidence is the model's own probability of the token chosen, ban or no ban.
    const scored = adjusted;
    if (options.ban && tokens.length === options.ban.step) {
      adjusted = adjusted.slice();
      adjusted[options.ban.token] = -Infinity;
    }
    const next = sample(adjusted, options.sampling, rng);
    if (required) {
      required = options.healing!.after(required, next);
      restoring++;
    }
    if (options.stopIds.has(next)) {
      stopReason = 'eos';
      break;
    }
    tokens.push(next);
    text = stableText(decoder, tokens).slice(healed);
    logprobs.push({ logprob: scored[next] - logSumExp(scored), end: text.length });
    const end = endOfText(text, options.stop, options.maxLines, options.editor);
    if (end) {
      ({ text, reason: stopReason } = end);
      break;
    }
    options.onText?.(text);
    if (tokens.length - restoring >= options.maxNewTokens) break;
    if (tokens.length >= options.roomLeft) {
      stopReason = 'context';
      break;
    }
    if (performance.now() - options.startedAt >= options.timeBudgetMs) {
      stopReason = 'time';
      break;
    }
    await yieldToEventLoop();
    if (options.isCancelled()) {
      stopReason = 'cancelled';
      break;
    }
    if (drafted.length > 0 && drafted[0].id === next) {
      logits = drafted.shift()!.logits;
      draftedTokens++;
      continue;
    }
    if (drafted.length > 0) {
      stepper.rewind!(drafted.length);
      drafted = [];
    }
    const proposal = speculate
      ? options.draft!(tokens).slice(0, Math.max(0, options.roomLeft - tokens.length - 1))
      : [];
    if (proposal.length === 0) {
      logits = await stepper.feed([next]);
    } else {
      const rows = await stepper.feedAll!([next, ...proposal]);
      logits = rows[0];
      drafted = proposal.map((id, i) => ({ id, logits: rows[i + 1] }));
    }
  }
  if (drafted.length > 0) stepper.rewind!(drafted.length);
  for (const token of logprobs) token.end = Math.min(token.end, text.length);
  return { text, tokens, stopReason, draftedTokens, logprobs };
}

/** Index of the first token whose text (after what healing restores) holds a non-space character, or -1. */
export function firstContentToken(decoder: TokenDecoder, tokens: readonly number[], healed: number): number {
  for (let i = 0; i < tokens.length; i++) {
    if (/\S/.test(decoder.decode(tokens.slice(0, i + 1)).slice(healed))) return i;
  }
  return -1;
}
