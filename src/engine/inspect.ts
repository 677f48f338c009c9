// What the token view shows, computed by the engine that makes the completions, from its own cache.
//
// An inspection builds the prompt exactly as a completion request would and feeds it through
// Engine.prefill with reuse: while the user types, the cache already holds all but the last token
// or two, so the view costs almost no model work. The fed sequence goes back into the cache, as after
// a completion, so the next completion reuses it too. Everything after the logits is pure
// (`describeDistribution`) and goes through sampler.ts's own filterDistribution and sample: the view
// shows the distribution the completions draw from, not a second implementation of it.
import type { Engine } from './engine';
import type { CrossFileTarget } from './context/cross-file';
import { prefixEnd } from './prompt-format';
import { restrictTo } from './decode/token-healing';
import { Rng, SamplingParams, filterDistribution, sample, softmax } from '../shared/sampler';
import { type RepeatPenalty, applyRepeatPenalty } from '../shared/repeat-penalty';

/** Prompt tokens shown: those just before the cursor. */
export const SHOWN_PROMPT_TOKENS = 64;
/** Candidates shown for the next token. */
export const SHOWN_CANDIDATES = 20;
/**
 * Candidates below this raw probability are left out: they would read 0.00% (the view shows two
 * decimals), and the tail of a small vocabulary is mostly control tokens the model never writes.
 */
export const MIN_SHOWN_PROBABILITY = 0.00005;
/** Most tokens the sample button may append after the prompt. */
export const MAX_DRAWN_TOKENS = 64;
/** Most tokens of the current suggestion scored. */
export const MAX_SCORED_TOKENS = 128;

export interface InspectRequest {
  prefix: string;
  suffix: string;
  sampling: SamplingParams;
  contextTokens: number;
  /** Part of the prompt budget: the engine keeps room for this many new tokens. */
  maxNewTokens: number;
  suffixShare?: number;
  /** Tokens drawn with the sample button so far: the distribution is the one after them. */
  drawn: number[];
  /** Draw one more token with this seed; absent when only looking. */
  drawSeed?: number;
  /** The suggestion on screen, scored token by token after the prompt; '' when there is none. */
  suggestion: string;
  /** As in completions: the view shows the distribution they draw from, context cache included. */
  contextCacheWeight?: number;
  /** As in completions: the repository header, for models that take one. */
  crossFile?: CrossFileTarget;
  /** As in completions (CompletionRequest.tokenHealing). */
  tokenHealing?: boolean;
  /** As in completions: the drawn tokens' repeats are penalised as a generation's would be. */
  repeatPenalty?: RepeatPenalty;
}

export interface ShownToken {
  id: number;
  /** The token's text as decoded (may be part of a multi-byte character). */
  text: string;
  /** The vocabulary entry (byte-level symbols for BPE), for the hover. */
  piece: string;
  special: boolean;
}

export interface PromptToken extends ShownToken {
  /** Taken from the KV cache rather than computed for this request. */
  reused: boolean;
  /** Taken back by token healing: not fed; the next token must start with its text. */
  healed?: boolean;
}

export interface Candidate extends ShownToken {
  /** softmax(logits) at temperature 1. */
  raw: number;
  /** Probability the sampler gives it with the current settings; 0 when excluded. */
  filtered: number;
  excluded: boolean;
}

export interface DistributionSummary {
  /** The most likely tokens, most likely first. */
  candidates: Array<{ id: number; raw: number; filtered: number; excluded: boolean }>;
  /** Entropy of the raw distribution, in bits. */
  entropyBits: number;
  /** Tokens the current settings keep (over the whole vocabulary). */
  keptCount: number;
  /**
   * Probability mass of the kept tokens under softmax at the current temperature, before
   * renormalising: what top-k and top-p leave of the distribution.
   */
  keptMass: number;
}

export interface ScoredToken extends ShownToken {
  /** Raw probability of this token after the prompt and the suggestion's tokens before it. */
  prob: number;
}

export interface TokenViewData {
  /** The SHOWN_PROMPT_TOKENS prompt tokens just before the cursor. */
  tokens: PromptToken[];
  promptTokens: number;
  /** Prompt tokens after the cursor: the suffix and the FIM sentinels around it (PSM order). */
  tokensAfterCursor: number;
  reusedTokens: number;
  computedTokens: number;
  prefillMs: number;
  /** The tokens the sample button drew, after which `distribution` is taken. */
  drawn: ShownToken[];
  distribution: Omit<DistributionSummary, 'candidates'> & { candidates: Candidate[] };
  /** The token drawn by this request (drawSeed), also the last of `drawn`. */
  draw?: ShownToken;
  suggestion: ScoredToken[];
  /** Text of the token taken back by token healing: the next token must start with it. */
  healed?: string;
  /**
   * Set when a model server answered instead of the local engine: it gives its top tokens' raw
   * probabilities only (no prompt tokens, no sampling, no suggestion scores), so the candidates are
   * the server's top `asked` at most, and the kept count and mass are over those.
   */
  server?: { backend: string; asked: number };
}

function entropyBits(probs: Float64Array): number {
  let h = 0;
  for (const p of probs) if (p > 0) h -= p * Math.log2(p);
  return h;
}

/** The view's numbers for one row of logits, with the current sampling settings. */
export function describeDistribution(
  logits: ArrayLike<number>,
  sampling: SamplingParams,
  count = SHOWN_CANDIDATES,
): DistributionSummary {
  const raw = softmax(logits);
  // Top-k at temperature 1 is the ranking by raw probability; its ids are what we need here.
  const top = filterDistribution(logits, { temperature: 1, topK: count, topP: 1 }).ids;
  const kept = filterDistribution(logits, sampling);
  const keptProb = new Map<number, number>();
  kept.ids.forEach((id, j) => keptProb.set(id, kept.probs[j]));
  const scaled = sampling.temperature > 0 ? softmax(logits, sampling.temperature) : raw;
  let keptMass = 0;
  for (const id of kept.ids) keptMass += scaled[id];
  return {
    // The most likely token always, however flat the distribution.
    candidates: Array.from(top)
      .filter((id, rank) => rank === 0 || raw[id] >= MIN_SHOWN_PROBABILITY)
      .map((id) => ({
        id,
        raw: raw[id],
        filtered: keptProb.get(id) ?? 0,
        excluded: !keptProb.has(id),
      })),
    entropyBits: entropyBits(raw),
    keptCount: kept.ids.length,
    keptMass,
  };
}

/** Probability of each token given the ones before it: row i of `logits` predicts ids[i]. */
export function tokenProbabilities(logits: Float32Array, vocabSize: number, ids: readonly number[]): number[] {
  return ids.map((id, i) => softmax(logits.subarray(i * vocabSize, (i + 1) * vocabSize))[id]);
}

/**
 * The text each token adds to the ones before it. A character split over two byte-level tokens
 * belongs to the token that completes it, so the pieces join to exactly the decoded text.
 */
export function pieceTexts(tokenizer: { decode(ids: number[]): string }, ids: number[]): string[] {
  const texts: string[] = [];
  let before = '';
  for (let i = 0; i < ids.length; i++) {
    const full = tokenizer.decode(ids.slice(0, i + 1));
    const stable = i === ids.length - 1 ? full : full.replace(/\uFFFD+$/, '');
    texts.push(stable.startsWith(before) ? stable.slice(before.length) : stable);
    before = stable;
  }
  return texts;
}

export async function inspect(engine: Engine, request: InspectRequest): Promise<TokenViewData> {
  const { tokenizer, session } = engine;
  const maxPositions = session.layout.maxPositions;
  const { prompt, healing, built } = engine.fedPromptFor(request);
  const room = maxPositions - prompt.ids.length;
  const drawn = request.drawn.slice(0, Math.max(0, Math.min(MAX_DRAWN_TOKENS, room - 1)));
  const startedAt = performance.now();
  const { stepper, logits: promptLogits, reused } = await engine.prefill(prompt.ids, true);
  const prefillMs = performance.now() - startedAt;
  // A reference of its own: feeding the drawn tokens disposes the stepper's (device memory).
  const afterPrompt = stepper.past.truncate(stepper.past.length);
  let logits = promptLogits;
  if (drawn.length > 0) logits = await stepper.feed(drawn);
  // While the drawn tokens have not restored what token healing took back, only tokens that do are allowed.
  let required = healing?.text ?? '';
  let restoring = 0;
  for (const id of drawn) {
    if (!required) break;
    required = healing!.after(required, id);
    restoring++;
  }
  const allowed = required ? healing!.allowedFor(required) : undefined;
  // A copy: the mix is written over its input, and the suggestion's scores below read the prompt's own logits.
  logits = engine.contextMixer(prompt, request.contextCacheWeight)?.adjust(logits.slice(), drawn, allowed) ?? logits;
  if (allowed) logits = restrictTo(logits, allowed);
  else if (request.repeatPenalty) logits = applyRepeatPenalty(logits, drawn.slice(restoring), request.repeatPenalty);
  engine.remember(stepper.ids, stepper.past);

  const shown = (id: number): ShownToken => ({
    id,
    text: tokenizer.decode([id]),
    piece: tokenizer.tokenString(id),
    // stopIds holds EOS and every added special token (the FIM sentinels among them).
    special: tokenizer.stopIds.has(id),
  });
  const summary = describeDistribution(logits, request.sampling);
  const drawnTokens = drawn.map(shown);
  let draw: ShownToken | undefined;
  if (request.drawSeed !== undefined && drawn.length === request.drawn.length && drawn.length < MAX_DRAWN_TOKENS) {
    draw = shown(sample(logits, request.sampling, new Rng(request.drawSeed)));
    drawnTokens.push(draw);
  }

  // The suggestion's tokens as generated: the first restores the text token healing took back.
  const suggestionIds = tokenizer
    .encode(request.suggestion ? `${healing?.text ?? ''}${request.suggestion}` : '')
    .slice(0, Math.max(0, Math.min(MAX_SCORED_TOKENS, room)));
  let suggestion: ScoredToken[] = [];
  if (suggestionIds.length > 0) {
    // Row 0 is the prompt's own prediction; the rest come from feeding the suggestion after it.
    const vocab = session.layout.vocabSize;
    const rows = new Float32Array(suggestionIds.length * vocab);
    rows.set(healing ? restrictTo(promptLogits, healing.allowedFor(healing.text)) : promptLogits);
    if (suggestionIds.length > 1) {
      const scored = await session.forwardAll(suggestionIds.slice(0, -1), afterPrompt);
      rows.set(scored.logits, vocab);
      scored.present.dispose();
    }
    const probs = tokenProbabilities(rows, vocab, suggestionIds);
    const texts = pieceTexts(tokenizer, suggestionIds);
    // The view shows what the suggestion adds: the healed text was typed already.
    let typed = healing?.text.length ?? 0;
    for (let i = 0; i < texts.length && typed > 0; i++) {
      const cut = Math.min(typed, texts[i].length);
      texts[i] = texts[i].slice(cut);
      typed -= cut;
    }
    suggestion = suggestionIds.map((id, i) => ({ ...shown(id), text: texts[i], prob: probs[i] }));
  }
  afterPrompt.dispose();

  // Shown as the user's text is tokenized, up to the cursor: the token healing took back is the last.
  const cursor = prefixEnd(built, tokenizer.fimOrder);
  const fedBeforeCursor = prefixEnd(prompt, tokenizer.fimOrder);
  const firstShown = Math.max(0, cursor - SHOWN_PROMPT_TOKENS);
  return {
    tokens: built.ids.slice(firstShown, cursor).map((id, i) => {
      const at = firstShown + i;
      return at < fedBeforeCursor
        ? { ...shown(id), reused: at < reused }
        : { ...shown(id), reused: false, healed: true };
    }),
    promptTokens: prompt.ids.length,
    tokensAfterCursor: prompt.ids.length - fedBeforeCursor,
    reusedTokens: reused,
    computedTokens: prompt.ids.length - reused,
    prefillMs,
    drawn: drawnTokens,
    distribution: { ...summary, candidates: summary.candidates.map((c) => ({ ...shown(c.id), ...c })) },
    draw,
    suggestion,
    healed: healing?.text,
  };
}
