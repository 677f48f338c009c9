// A cache language model over the tokens already in the context (Hellendoorn & Devanbu 2017): code
// repeats its own identifiers and call patterns, and a small model trained on 2 CPU cores does not
// copy well. An n-gram model of the context's own token ids predicts those repeats; its
// distribution is mixed into the model's before sampling:
//
//   p = (1 − λ)·p_model + λ·p_cache,   λ = weight · s · c / (c + 2)
//
// where c is how often the longest matched context was seen and s shrinks with that context's
// length: 1 for two tokens or more, 1/4 for one token, 1/16 when nothing matched and the cache falls
// back to token frequencies. So λ grows with the cache's evidence; weak evidence is let in at a
// weight that cannot outvote a model that is sure, but does outvote one that knows nothing (an
// untrained model, or one that meets a name it never saw). The index follows the prompt's tokens incrementally:
// when the prompt changes, only n-grams past the common prefix with the previous sequence are
// removed and added, so a keystroke costs a few updates, not a pass over the context. It also
// holds other files (open editors, recently edited files: related-context.ts) at a lower weight,
// tokenized once per change of the file.

import { logSumExp } from '../../shared/confidence';

export const MAX_ORDER = 6;
/** s in the header's formula, by the length of the longest matched context (0, 1, 2+ tokens). */
const EVIDENCE_SCALE = [1 / 16, 1 / 4, 1];

/** Continuation counts of one context (the n − 1 tokens before). */
type Continuations = Map<number, number>;

export interface CachePrediction {
  /** Token ids and probabilities, summing to 1. */
  ids: number[];
  probs: number[];
  /** Count of the longest matched context (of all tokens, when none matched); 0 when the index is empty. */
  evidence: number;
  /** Tokens in the longest matched context; 0 when the prediction is token frequencies alone. */
  matched: number;
}

function keyOf(ids: readonly number[], start: number, length: number): string {
  let key = '';
  for (let i = start; i < start + length; i++) key += `${ids[i]},`;
  return key;
}

/** A file besides the prompt whose n-grams the index holds, counted at `weight` each. */
interface IndexedDocument {
  ids: number[];
  weight: number;
}

/** Below this a count is zero: weights are sums and differences of the same few fractions. */
const EPSILON = 1e-9;

export class NgramIndex {
  /** The followed sequence (the prompt), counted at weight 1. */
  private ids: number[] = [];
  /** tables[n] maps a context of n tokens (as a key) to the counts of the token after it. */
  private readonly tables: Array<Map<string, Continuations>> = [];
  private readonly documents = new Map<string, IndexedDocument>();
  private documentTokenCount = 0;

  /**
   * `barriers`: tokens no n-gram may contain (the special tokens of a FIM prompt), so that the
   * index never predicts a control token, nor the suffix marker that follows the prefix.
   */
  constructor(
    private readonly barriers: ReadonlySet<number> = new Set(),
    private readonly maxOrder = MAX_ORDER,
    private readonly maxTokens = 32_768,
  ) {
    for (let n = 0; n < maxOrder; n++) this.tables.push(new Map());
  }

  get length(): number {
    return this.ids.length;
  }

  /** Tokens held for documents other than the prompt. */
  get documentTokens(): number {
    return this.documentTokenCount;
  }

  /** Follow a new token sequence: undo what is past the common prefix, add the rest. */
  update(ids: readonly number[]): void {
    const capped = ids.length > this.maxTokens ? ids.slice(ids.length - this.maxTokens) : ids;
    let common = 0;
    const n = Math.min(this.ids.length, capped.length);
    while (common < n && this.ids[common] === capped[common]) common++;
    for (let i = this.ids.length - 1; i >= common; i--) this.count(this.ids, i, -1);
    this.ids.length = common;
    for (let i = common; i < capped.length; i++) {
      this.ids.push(capped[i]);
      this.count(this.ids, i, +1);
    }
  }

  /**
   * Append tokens to another file's (a new one starts empty), counted at `weight` (< 1 ranks them
   * below the prompt). Its n-grams never run into the prompt's or another file's. Appending in
   * pieces lets a large file be indexed a slice at a time, between requests.
   */
  extendDocument(key: string, ids: readonly number[], weight: number): void {
    let doc = this.documents.get(key);
    if (doc && doc.weight !== weight)
      throw new Error(`document ${key} is indexed at weight ${doc.weight}, not ${weight}`);
    if (!doc) {
      doc = { ids: [], weight };
      this.documents.set(key, doc);
    }
    const start = doc.ids.length;
    for (const id of ids) doc.ids.push(id);
    for (let i = start; i < doc.ids.length; i++) this.count(doc.ids, i, weight);
    this.documentTokenCount += ids.length;
  }

  removeDocument(key: string): void {
    const doc = this.documents.get(key);
    if (!doc) return;
    for (let i = 0; i < doc.ids.length; i++) this.count(doc.ids, i, -doc.weight);
    this.documents.delete(key);
    this.documentTokenCount -= doc.ids.length;
  }

  /**
   * Interpolated (Witten–Bell) prediction of the next token after `history` (by default the indexed
   * sequence itself), from the longest context seen down to order 2 (one token of context), or token
   * frequencies when no context matched. A FIM
   * prompt in PSM order ends with the suffix, so there the history is the prefix plus what was
   * generated, while the index holds the whole prompt. With `allowed` (token healing's first step)
   * only those ids are predicted, and a context none of whose continuations is allowed is passed
   * over for a shorter one.
   */
  predict(history: readonly number[] = this.ids, allowed?: Uint8Array): CachePrediction {
    const dist = new Map<number, number>();
    let evidence = 0;
    let matched = 0;
    let weightLeft = 1;
    const addLevel = (continuations: Continuations, total: number) => {
      let distinct = 0;
      for (const id of continuations.keys()) if (!allowed || allowed[id]) distinct++;
      const share = total / (total + distinct);
      for (const [id, c] of continuations) {
        if (!allowed || allowed[id]) dist.set(id, (dist.get(id) ?? 0) + weightLeft * share * (c / total));
      }
      weightLeft *= 1 - share;
    };
    for (let context = Math.min(this.maxOrder - 1, history.length); context >= 1; context--) {
      const continuations = this.tables[context].get(keyOf(history, history.length - context, context));
      if (!continuations) continue;
      const total = sum(continuations, allowed);
      if (total === 0) continue;
      if (evidence === 0) {
        evidence = total;
        matched = context;
      }
      addLevel(continuations, total);
    }
    // Token frequencies only when no context matched: a fallback, and iterating the whole
    // vocabulary of the context at every step would cost more than the rest of the lookup.
    const unigrams = this.tables[0].get('');
    if (dist.size === 0 && unigrams) {
      evidence = sum(unigrams, allowed);
      if (evidence > 0) addLevel(unigrams, evidence);
    }
    if (dist.size === 0) return { ids: [], probs: [], evidence: 0, matched: 0 };
    const norm = 1 - weightLeft;
    const ids = [...dist.keys()];
    return { ids, probs: ids.map((id) => dist.get(id)! / norm), evidence, matched };
  }

  /** Add (delta > 0) or remove (delta < 0) the n-grams of `seq` that end at position i. */
  private count(seq: readonly number[], i: number, delta: number): void {
    const next = seq[i];
    if (this.barriers.has(next)) return;
    for (let context = 0; context < this.maxOrder && context <= i; context++) {
      if (context > 0 && this.barriers.has(seq[i - context])) break;
      const table = this.tables[context];
      const key = keyOf(seq, i - context, context);
      let continuations = table.get(key);
      if (!continuations) {
        if (delta < 0) continue;
        continuations = new Map();
        table.set(key, continuations);
      }
      const c = (continuations.get(next) ?? 0) + delta;
      if (c > EPSILON) continuations.set(next, c);
      else continuations.delete(next);
      if (continuations.size === 0) table.delete(key);
    }
  }
}

/** Total count of the continuations, of the allowed ids only when a mask is given. */
function sum(continuations: Continuations, allowed?: Uint8Array): number {
  let total = 0;
  for (const [id, c] of continuations) if (!allowed || allowed[id]) total += c;
  return total;
}

export function mixingWeight(weight: number, prediction: Pick<CachePrediction, 'evidence' | 'matched'>): number {
  const { evidence, matched } = prediction;
  if (evidence <= 0) return 0;
  return (EVIDENCE_SCALE[Math.min(matched, 2)] * weight * evidence) / (evidence + 2);
}

/**
 * Log-probabilities (up to one shared constant) of (1 − λ)·softmax(logits) + λ·p_cache, used as
 * logits so that temperature, top-k and top-p then apply to the mixed distribution. Every token the
 * cache does not predict only moves by log(1 − λ), so one pass over the vocabulary (for the
 * normaliser, shifting each logit as it goes) is all the work. The mix is written over `logits` and
 * returned: a fresh copy of a 150k vocabulary per step cost more than the pass itself. With λ = 0
 * the input is returned unchanged.
 */
export function mixIntoLogits(logits: Float32Array, prediction: CachePrediction, lambda: number): Float32Array {
  if (lambda <= 0 || prediction.ids.length === 0) return logits;
  const lse = logSumExp(logits);
  return mixInPlace(logits, lse, modelProbs(logits, prediction, lse), prediction, lambda);
}

/** p_model of the predicted ids, read before the logits are overwritten. */
function modelProbs(logits: Float32Array, prediction: CachePrediction, lse: number): number[] {
  return prediction.ids.map((id) => Math.exp(logits[id] - lse));
}

function mixInPlace(
  logits: Float32Array,
  lse: number,
  modelP: readonly number[],
  prediction: CachePrediction,
  lambda: number,
): Float32Array {
  const keep = Math.log(1 - lambda);
  for (let i = 0; i < logits.length; i++) logits[i] += keep;
  prediction.ids.forEach((id, j) => {
    logits[id] = Math.log((1 - lambda) * modelP[j] + lambda * prediction.probs[j]) + lse;
  });
  return logits;
}

/** Longest context the recency scan matches. */
const RECENT_CONTEXT = 4;
/** Share of the cache's distribution given to the most recent continuation. */
const RECENT_SHARE = 0.5;

/**
 * What followed the most recent earlier occurrence of the history's last tokens (the longest match
 * up to RECENT_CONTEXT tokens; the nearest among equals), within the user's own text. Code repeats
 * its nearest lines most (the next line is indented like the one above, a call like the previous
 * call), which counts alone miss. A backward scan over at most a prompt's tokens: microseconds.
 */
export function recentContinuation(
  history: readonly number[],
  written: number,
  allowed?: Uint8Array,
): { id: number; length: number } | undefined {
  const end = history.length - 1;
  let best: { id: number; length: number } | undefined;
  for (let j = Math.min(end - 1, written - 2); j >= 0; j--) {
    const next = history[j + 1];
    if (allowed && !allowed[next]) continue;
    let length = 0;
    while (length < RECENT_CONTEXT && j - length >= 0 && history[j - length] === history[end - length]) length++;
    if (length > 0 && (!best || length > best.length)) {
      best = { id: next, length };
      if (length === RECENT_CONTEXT) break;
    }
  }
  return best;
}

/** The n-gram prediction with RECENT_SHARE of its mass moved to the most recent continuation. */
export function withRecentCopy(prediction: CachePrediction, recent: { id: number } | undefined): CachePrediction {
  if (!recent || prediction.ids.length === 0) return prediction;
  const probs = prediction.probs.map((p) => p * (1 - RECENT_SHARE));
  const ids = prediction.ids.slice();
  const at = ids.indexOf(recent.id);
  if (at >= 0) probs[at] += RECENT_SHARE;
  else {
    ids.push(recent.id);
    probs.push(RECENT_SHARE);
  }
  return { ...prediction, ids, probs };
}

/**
 * One generation's use of the cache: follows the prompt and the generated tokens, mixes the cache
 * into each step's logits, and counts the chosen tokens that the cache put ahead of the model.
 */
export class ContextMixer {
  /** Ids for which λ·p_cache exceeded (1 − λ)·p_model at the last step. */
  private cacheLed = new Set<number>();
  private pushed = 0;
  private history: number[] = [];
  /** Tokens of `history` that the user wrote (the rest was generated). */
  private written = 0;
  cacheLedTokens = 0;
  /** Time spent in `adjust`: the cache's cost, next to the model's. */
  adjustMs = 0;

  constructor(
    private readonly index: NgramIndex,
    private readonly weight: number,
  ) {}

  /** `historyIds`: the tokens the generation continues (the prefix, for a PSM prompt). */
  begin(promptIds: readonly number[], historyIds: readonly number[]): void {
    this.index.update(promptIds);
    this.history = historyIds.slice();
    this.written = this.history.length;
    this.pushed = 0;
    this.cacheLed.clear();
    this.cacheLedTokens = 0;
    this.adjustMs = 0;
  }

  /**
   * `allowed`: the only ids this step may choose (token healing), or absent. The mix is written over
   * `logits` (mixIntoLogits), so a caller that needs the model's own keeps a copy.
   */
  adjust(logits: Float32Array, generated: readonly number[], allowed?: Uint8Array): Float32Array {
    const startedAt = performance.now();
    try {
      return this.mix(logits, generated, allowed);
    } finally {
      this.adjustMs += performance.now() - startedAt;
    }
  }

  private mix(logits: Float32Array, generated: readonly number[], allowed?: Uint8Array): Float32Array {
    this.settle(generated);
    const prediction = withRecentCopy(
      this.index.predict(this.history, allowed),
      recentContinuation(this.history, this.written, allowed),
    );
    const lambda = mixingWeight(this.weight, prediction);
    this.cacheLed.clear();
    if (lambda <= 0 || prediction.ids.length === 0) return logits;
    const lse = logSumExp(logits);
    const modelP = modelProbs(logits, prediction, lse);
    prediction.ids.forEach((id, j) => {
      if (lambda * prediction.probs[j] > (1 - lambda) * modelP[j]) this.cacheLed.add(id);
    });
    return mixInPlace(logits, lse, modelP, prediction, lambda);
  }

  /**
   * A mixer that goes on from this one's state on its own (a beam of beam-search.ts). Counters
   * carry over, so a beam's figures are its own path's.
   */
  fork(): ContextMixer {
    const copy = new ContextMixer(this.index, this.weight);
    copy.cacheLed = new Set(this.cacheLed);
    copy.pushed = this.pushed;
    copy.history = this.history.slice();
    copy.written = this.written;
    copy.cacheLedTokens = this.cacheLedTokens;
    copy.adjustMs = this.adjustMs;
    return copy;
  }

  /**
   * Count the last chosen token if the cache led it, and extend the history with what was
   * generated. Generated tokens are not indexed: the cache's evidence is the user's text only, or
   * it would feed on its own output and loop.
   */
  settle(generated: readonly number[]): void {
    for (; this.pushed < generated.length; this.pushed++) {
      const id = generated[this.pushed];
      if (this.pushed === generated.length - 1 && this.cacheLed.has(id)) this.cacheLedTokens++;
      this.history.push(id);
    }
  }
}
