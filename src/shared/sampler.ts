// Turning one row of logits into one token id.
//
// Read top to bottom like llama2.c's sampler: the functions that choose take the random number
// (the "coin") as an argument, so each one is pure and testable with a fixed coin; the RNG state
// lives in one small class. Temperature, top-k and top-p are applied in that order (as Hugging Face
// does), and `filterDistribution` is the single implementation of that filtering: the sampler, the
// token view (the engine's, and the model servers' in the extension host) and the context-cache
// mixing all call it.

export interface SamplingParams {
  /** 0 means greedy: always the most likely token. */
  temperature: number;
  /** Keep the k most likely tokens; 0 turns top-k off. */
  topK: number;
  /** Keep the smallest set of tokens whose probability reaches p; 1 turns top-p off. */
  topP: number;
}

export const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1 };

/** Seeded 32-bit generator (mulberry32): small state, good enough spread for sampling. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** Candidate tokens, most likely first, with probabilities that sum to 1. */
export interface Candidates {
  ids: Int32Array;
  probs: Float64Array;
}

/** Index of the largest logit; the first one on ties. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestValue = logits[0];
  for (let i = 1; i < logits.length; i++) {
    if (logits[i] > bestValue) {
      bestValue = logits[i];
      best = i;
    }
  }
  return best;
}

/** softmax(logits / temperature) over the whole vocabulary, as float64 for stable sums. */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  const probs = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.exp((logits[i] - max) / temperature);
    probs[i] = p;
    sum += p;
  }
  for (let i = 0; i < n; i++) probs[i] /= sum;
  return probs;
}

/**
 * Indices of the k largest logits, largest first (a size-k min-heap, O(n log k)). Ranked by logit,
 * not probability, so tokens whose probabilities round to the same float still rank correctly.
 */
function topKIndices(probs: ArrayLike<number>, k: number): number[] {
  const heap: number[] = [];
  const less = (a: number, b: number) => probs[a] < probs[b] || (probs[a] === probs[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i], heap[parent])) return;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  for (let i = 0; i < probs.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      siftUp(heap.length - 1);
    } else if (less(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => probs[b] - probs[a] || a - b);
}

/**
 * Indices that can be in the top-p nucleus, most likely first. A token whose probability is below
 * (1 - p) / (n - 1) cannot be in it (the rest could not make up the mass without it), so only the
 * survivors are sorted: a few hundred entries instead of the whole vocabulary.
 */
function nucleusCandidates(probs: Float64Array, topP: number): number[] {
  const cutoff = probs.length > 1 ? (1 - topP) / (probs.length - 1) : 0;
  const kept: number[] = [];
  for (let i = 0; i < probs.length; i++) if (probs[i] >= cutoff) kept.push(i);
  // When p < 1/n every token can fall below the cutoff; the nucleus is then the argmax alone.
  if (kept.length === 0) kept.push(argmax(probs));
  return kept.sort((a, b) => probs[b] - probs[a] || a - b);
}

/**
 * The distribution the sampler draws from: softmax at the temperature, then top-k, then top-p on
 * what top-k kept, renormalised. At temperature 0 it is the argmax alone.
 */
export function filterDistribution(logits: ArrayLike<number>, params: SamplingParams): Candidates {
  if (params.temperature <= 0) {
    return { ids: Int32Array.of(argmax(logits)), probs: Float64Array.of(1) };
  }
  const probs = softmax(logits, params.temperature);
  const useTopK = params.topK > 0 && params.topK < probs.length;
  let order = useTopK ? topKIndices(logits, params.topK) : nucleusCandidates(probs, Math.min(params.topP, 1));
  // Top-p is taken over what top-k kept, renormalised; without top-k, over the whole softmax
  // (the nucleus cutoff only dropped tokens that cannot be in the nucleus, not mass).
  let mass = 1;
  if (useTopK) {
    mass = 0;
    for (const i of order) mass += probs[i];
  }
  if (params.topP < 1) {
    let cumulative = 0;
    let keep = order.length;
    for (let j = 0; j < order.length; j++) {
      cumulative += probs[order[j]] / mass;
      if (cumulative >= params.topP) {
        keep = j + 1;
        break;
      }
    }
    order = order.slice(0, keep);
    mass = 0;
    for (const i of order) mass += probs[i];
  }
  const ids = Int32Array.from(order);
  const kept = new Float64Array(order.length);
  for (let j = 0; j < order.length; j++) kept[j] = probs[order[j]] / mass;
  return { ids, probs: kept };
}

/** Draw from the candidates with a coin in [0, 1). */
export function sampleCandidates(candidates: Candidates, coin: number): number {
  let cumulative = 0;
  for (let j = 0; j < candidates.ids.length; j++) {
    cumulative += candidates.probs[j];
    if (coin < cumulative) return candidates.ids[j];
  }
  return candidates.ids[candidates.ids.length - 1];
}

export function sample(logits: ArrayLike<number>, params: SamplingParams, rng: Rng): number {
  if (params.temperature <= 0) return argmax(logits);
  return sampleCandidates(filterDistribution(logits, params), rng.next());
}
