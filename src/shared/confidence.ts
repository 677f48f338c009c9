// How sure the model was of a suggestion: its own probability of the tokens that wrote the text
// shown. A weak model's ghost text is often wrong, and ghost text that is usually wrong teaches users
// to ignore it, so a suggestion below wisp.minConfidence is not shown (inline-completer.ts).
//
// The score is the geometric mean of the token probabilities, exp(mean log-probability), over the
// tokens that wrote the shown text, not those a filter cut off. `npm run eval` measures it against
// the minimum token probability on every data set (README, Quality): at equal coverage the mean gave
// the higher edit similarity in 10 of 12 comparisons, and the minimum's thresholds leave almost
// nothing shown. Both processes use this module: the engine reports each token's log-probability
// (decode/generate.ts); the server backends ask for the chosen tokens' log-probabilities (llama.cpp
// `n_probs`, OpenAI `logprobs`) and turn them into the same shape with fromTokenTexts
// (backends/streamed-logprobs.ts), and the threshold applies as is.

/** One generated token: its log-probability (natural log) and where its text ends in the result's text. */
export interface TokenLogprob {
  logprob: number;
  /** Characters of the result's text written up to and including this token. */
  end: number;
}

export type ConfidenceMeasure = 'mean' | 'min';

/**
 * A server's answer as TokenLogprobs: its tokens' texts and log-probabilities in order (llama.cpp's
 * `completion_probabilities`, OpenAI's `logprobs.tokens` / `token_logprobs`), for a backend to put in
 * CompletionResult.logprobs. `healed`: characters at the start that restore the prompt, not in the text.
 */
export function fromTokenTexts(tokens: ReadonlyArray<{ text: string; logprob: number }>, healed = 0): TokenLogprob[] {
  let end = -healed;
  return tokens.map(({ text, logprob }) => {
    end += text.length;
    return { logprob, end: Math.max(0, end) };
  });
}

/** log Σ exp(x): the normaliser of a row of logits, computed without overflow. */
export function logSumExp(logits: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}

/**
 * Characters of the model's text that the shown text came from: all of it when the filters only cut
 * its end, otherwise as many lines as are shown (the filters that rewrite, re-indenting, keep lines).
 */
export function keptLength(raw: string, shown: string): number {
  if (raw.startsWith(shown)) return shown.length;
  const lines = shown.split(/\r?\n/).length;
  let end = -1;
  for (let i = 0; i < lines; i++) {
    end = raw.indexOf('\n', end + 1);
    if (end < 0) return raw.length;
  }
  return end;
}

/** The tokens that wrote the first `kept` characters (a token that only finished an earlier one's bytes counts too). */
export function keptTokens(tokens: readonly TokenLogprob[], kept: number): TokenLogprob[] {
  const out: TokenLogprob[] = [];
  let start = 0;
  for (const token of tokens) {
    if (start >= kept) break;
    if (token.end > 0) out.push(token);
    start = token.end;
  }
  return out;
}

/**
 * A probability in [0, 1]: exp of the mean (the geometric mean of the probabilities) or of the
 * minimum token log-probability; undefined without tokens.
 */
export function confidenceOf(tokens: readonly TokenLogprob[], measure: ConfidenceMeasure = 'mean'): number | undefined {
  if (tokens.length === 0) return undefined;
  const logprobs = tokens.map((t) => t.logprob);
  const score = measure === 'min' ? Math.min(...logprobs) : logprobs.reduce((a, b) => a + b, 0) / logprobs.length;
  return Math.exp(score);
}

/**
 * The confidence of the text shown from a result: undefined when the backend gave no
 * log-probabilities (such a suggestion is always shown).
 */
export function shownConfidence(
  result: { text: string; logprobs?: readonly TokenLogprob[] },
  shown: string,
  measure: ConfidenceMeasure = 'mean',
): number | undefined {
  if (!result.logprobs) return undefined;
  return confidenceOf(keptTokens(result.logprobs, keptLength(result.text, shown)), measure);
}
