// Prompt lookup (Saxena 2023): code repeats itself, so the tokens that followed the last few tokens
// the last time they appeared are a good guess at what follows now. The guess costs no model: the
// generation loop feeds it with the next token in one pass and keeps it as far as greedy decoding
// agrees (generate.ts), which on CPU is cheaper than a step per token.

/** Tokens drafted at most per step. */
export const DRAFT_TOKENS = 6;
/** Longest and shortest run of last tokens looked up. */
const MAX_MATCH = 3;
const MIN_MATCH = 2;

/**
 * The tokens after the most recent earlier occurrence of `history`'s last MAX_MATCH tokens (or
 * fewer, down to MIN_MATCH); [] when they occur nowhere before.
 */
export function lookupDraft(history: readonly number[], maxTokens = DRAFT_TOKENS): number[] {
  const end = history.length;
  for (let n = Math.min(MAX_MATCH, end - 1); n >= MIN_MATCH; n--) {
    for (let start = end - n - 1; start >= 0; start--) {
      let same = true;
      for (let i = 0; i < n && same; i++) same = history[start + i] === history[end - n + i];
      if (same) return history.slice(start + n, Math.min(end, start + n + maxTokens));
    }
  }
  return [];
}
