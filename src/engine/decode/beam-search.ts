// Beam search for a one-line suggestion at temperature 0. Greedy decoding commits to each token as
// it comes, and a small model often starts a line with a likely token that leads nowhere likely:
// keeping the `width` best partial lines and choosing the finished one with the best mean
// log-probability per token (the mean, not the sum, or the shortest line would always win) matched
// 7.5% of all 1,033 HumanEval single-line holes where greedy matched 6.0% (the bundled model), but
// not more of the held-out files' holes, and each live beam costs a model step: hence opt-in.
import { restrictTo } from './token-healing';
import { MAX_BEAM_WIDTH } from '../process/protocol';
import { endOfText } from '../../shared/stop-rules';
import { TokenLogprob, logSumExp } from '../../shared/confidence';
import { applyRepeatPenalty } from '../../shared/repeat-penalty';
import {
  type GenerateOptions,
  type GenerateResult,
  type StopReason,
  type TokenDecoder,
  stableText,
  yieldToEventLoop,
} from './generate';

/** A model state that can be continued along several paths. */
export interface BeamStepper {
  /** Feed tokens after everything fed so far; returns the logits of the last one. */
  feed(ids: number[]): Promise<Float32Array>;
  /** A stepper at the same position that continues on its own. */
  fork(): BeamStepper;
  /** Done with it: its state is freed unless a fork still holds it. */
  dispose(): void;
}

/** Changes a beam's distribution before its choices (the context cache); forked with the beam. */
export interface BeamAdjuster {
  adjust(logits: Float32Array, generated: readonly number[], allowed?: Uint8Array): Float32Array;
  fork(): BeamAdjuster;
}

/** generate's stop conditions, healing and repeat penalty, applied to each beam. */
export type BeamSearchOptions = Pick<
  GenerateOptions,
  | 'maxNewTokens'
  | 'stop'
  | 'maxLines'
  | 'editor'
  | 'stopIds'
  | 'timeBudgetMs'
  | 'startedAt'
  | 'roomLeft'
  | 'isCancelled'
  | 'healing'
  | 'repeatPenalty'
> & {
  width: number;
  adjuster?: BeamAdjuster;
  /** Finished texts passed over while another finished one is left (a repeat of the line after the cursor). */
  rejects?: (text: string) => boolean;
};

export interface BeamSearchResult extends GenerateResult {
  /** The chosen beam's stepper, positioned after its tokens but the last (as generate leaves one). */
  stepper: BeamStepper;
  /** The chosen beam's adjuster (its context-cache figures). */
  adjuster?: BeamAdjuster;
  /** Model steps taken over all beams. */
  modelSteps: number;
}

interface Beam {
  tokens: number[];
  /** Sum of the chosen tokens' log-probabilities, the end token's included. */
  score: number;
  /** Tokens scored: `tokens` plus the end token when the model chose one. */
  scored: number;
  logprobs: TokenLogprob[];
  /** Healed text still to restore. */
  required: string;
  restoring: number;
  text: string;
  stepper: BeamStepper;
  adjuster?: BeamAdjuster;
  /** Logits after the beam's last token (live beams only). */
  logits?: Float32Array;
  stopReason?: StopReason;
}

/** The `k` ids with the highest finite values, highest first. */
export function topIds(values: Float32Array, k: number): number[] {
  const ids: number[] = [];
  for (let id = 0; id < values.length; id++) {
    const v = values[id];
    if (v === -Infinity || Number.isNaN(v)) continue;
    if (ids.length === k && v <= values[ids[k - 1]]) continue;
    let at = ids.length === k ? k - 1 : ids.length;
    while (at > 0 && values[ids[at - 1]] < v) at--;
    ids.splice(at, 0, id);
    if (ids.length > k) ids.pop();
  }
  return ids;
}

/** The finished beam to show: best mean log-probability, passing over rejected texts while others are left. */
export function chooseBeam<T extends { text: string; score: number; scored: number }>(
  beams: readonly T[],
  rejects?: (text: string) => boolean,
): T | undefined {
  const kept = rejects ? beams.filter((b) => !rejects(b.text)) : beams;
  const pool = kept.length > 0 ? kept : beams;
  let best: T | undefined;
  for (const b of pool) {
    if (!best || b.score / Math.max(1, b.scored) > best.score / Math.max(1, best.scored)) best = b;
  }
  return best;
}

/** Beam search after a prompt whose last logits are `firstLogits`; `root` is positioned after the prompt. */
export async function beamSearch(
  root: BeamStepper,
  decoder: TokenDecoder,
  firstLogits: Float32Array,
  options: BeamSearchOptions,
): Promise<BeamSearchResult> {
  const width = Math.max(1, Math.min(MAX_BEAM_WIDTH, Math.floor(options.width)));
  const healed = options.healing?.text.length ?? 0;
  let live: Beam[] = [
    {
      tokens: [],
      score: 0,
      scored: 0,
      logprobs: [],
      required: options.healing?.text ?? '',
      restoring: 0,
      text: '',
      stepper: root,
      adjuster: options.adjuster,
      logits: firstLogits,
    },
  ];
  const finished: Beam[] = [];
  let next: Beam[] = [];
  let modelSteps = 0;
  let interrupted: StopReason | undefined;
  try {
    for (;;) {
      const choices: Array<{ parent: Beam; id: number; logprob: number }> = [];
      for (const beam of live) {
        const allowed = beam.required ? options.healing!.allowedFor(beam.required) : undefined;
        let adjusted = beam.adjuster ? beam.adjuster.adjust(beam.logits!, beam.tokens, allowed) : beam.logits!;
        if (allowed) adjusted = restrictTo(adjusted, allowed);
        else if (options.repeatPenalty) {
          adjusted = applyRepeatPenalty(adjusted, beam.tokens.slice(beam.restoring), options.repeatPenalty);
        }
        const lse = logSumExp(adjusted);
        for (const id of topIds(adjusted, 2 * width)) choices.push({ parent: beam, id, logprob: adjusted[id] - lse });
      }
      choices.sort((a, b) => b.parent.score + b.logprob - (a.parent.score + a.logprob));
      next = [];
      for (const { parent, id, logprob } of choices) {
        if (next.length === width) break;
        const child = extend(parent, id, logprob, decoder, healed, options);
        const own = { stepper: parent.stepper.fork(), adjuster: parent.adjuster?.fork() };
        (child.stopReason ? finished : next).push({ ...child, ...own });
      }
      for (const beam of live) beam.stepper.dispose();
      live = [];
      const bestFinished = Math.max(...finished.map((b) => b.score));
      // Scores only fall as a beam grows: once the finished hold `width` beams and one of them beats
      // every live beam's sum, a live beam could only win on its mean, by growing long on likely tokens.
      if (next.length === 0 || (finished.length >= width && bestFinished >= next[0].score)) {
        for (const beam of next) beam.stepper.dispose();
        break;
      }
      if (performance.now() - options.startedAt >= options.timeBudgetMs) interrupted = 'time';
      else {
        await yieldToEventLoop();
        if (options.isCancelled()) interrupted = 'cancelled';
      }
      if (interrupted) {
        // Not fed yet, each is positioned before its last token, as a finished beam is.
        for (const beam of next) finished.push({ ...beam, stopReason: interrupted });
        break;
      }
      for (const beam of next) {
        beam.logits = await beam.stepper.feed([beam.tokens[beam.tokens.length - 1]]);
        modelSteps++;
        live.push(beam);
      }
    }
  } catch (error) {
    // A failed model step (an engine crash): free every beam's state, the root's included.
    for (const stepper of new Set([...live, ...next, ...finished].map((b) => b.stepper))) stepper.dispose();
    throw error;
  }
  const chosen = chooseBeam(finished, options.rejects)!;
  for (const beam of finished) if (beam !== chosen) beam.stepper.dispose();
  const text = chosen.text;
  const logprobs = chosen.logprobs.map((t) => ({ ...t, end: Math.min(t.end, text.length) }));
  return {
    text,
    tokens: chosen.tokens,
    stopReason: chosen.stopReason!,
    draftedTokens: 0,
    logprobs,
    stepper: chosen.stepper,
    adjuster: chosen.adjuster,
    modelSteps,
  };
}

/** `parent` with token `id`, finished (stopReason set) or live; the caller gives it its own stepper. */
function extend(
  parent: Beam,
  id: number,
  logprob: number,
  decoder: TokenDecoder,
  healed: number,
  options: BeamSearchOptions,
): Beam {
  const required = parent.required ? options.healing!.after(parent.required, id) : '';
  const restoring = parent.restoring + (parent.required ? 1 : 0);
  const base = { ...parent, score: parent.score + logprob, scored: parent.scored + 1, required, restoring };
  if (options.stopIds.has(id)) return { ...base, logits: undefined, stopReason: 'eos' };
  const tokens = parent.tokens.concat(id);
  let text = stableText(decoder, tokens).slice(healed);
  const logprobs = parent.logprobs.concat({ logprob, end: text.length });
  const beam: Beam = { ...base, tokens, logprobs, text, logits: undefined };
  const end = endOfText(text, options.stop, options.maxLines, options.editor);
  if (end) {
    ({ text } = end);
    return { ...beam, text, stopReason: end.reason };
  }
  if (tokens.length - restoring >= options.maxNewTokens) return { ...beam, stopReason: 'length' };
  if (tokens.length >= options.roomLeft) return { ...beam, stopReason: 'context' };
  return beam;
}
