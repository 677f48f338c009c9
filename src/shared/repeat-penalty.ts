// A penalty on tokens that would extend a repeat of the generation's own earlier tokens (the "DRY"
// sampler of text-generation-webui and llama.cpp, applied to generated tokens only). A small model
// that loses its way writes `np.isnan(np.isnan(np.isnan(` or `b: str, b: str, b: str` until the
// budget ends it; greedy decoding never leaves such a loop by itself. Only the generation is
// searched, never the prompt: completing code means copying the prompt's names and lines.

export interface RepeatPenalty {
  /** Logits subtracted at the first penalised length; 0 turns the penalty off. */
  multiplier: number;
  /** Growth per token of repeat beyond `allowedLength`. */
  base: number;
  /** A repeat this many tokens long is free; the token that would make it longer is penalised. */
  allowedLength: number;
}

export const DEFAULT_REPEAT_PENALTY: RepeatPenalty = { multiplier: 0.8, base: 1.75, allowedLength: 2 };

/** Repeats longer than this are penalised as this long: the penalty is already past any logit gap. */
const MAX_COUNTED_LENGTH = 24;

/**
 * For each token that would continue a repeat, the length of the longest one it continues: token
 * `generated[j]` follows `generated[j-L..j-1]`, which equals the last L generated tokens.
 */
export function repeatLengths(generated: readonly number[]): Map<number, number> {
  const n = generated.length;
  const lengths = new Map<number, number>();
  for (let j = 1; j < n; j++) {
    let length = 0;
    while (length < j && length < MAX_COUNTED_LENGTH && generated[j - 1 - length] === generated[n - 1 - length]) {
      length++;
    }
    if (length > 0 && length > (lengths.get(generated[j]) ?? 0)) lengths.set(generated[j], length);
  }
  return lengths;
}

/** The logits with the penalty subtracted; the same array when nothing is penalised. */
export function applyRepeatPenalty(
  logits: Float32Array,
  generated: readonly number[],
  penalty: RepeatPenalty,
): Float32Array {
  if (penalty.multiplier <= 0 || generated.length <= penalty.allowedLength) return logits;
  let out = logits;
  for (const [token, length] of repeatLengths(generated)) {
    if (length < penalty.allowedLength) continue;
    if (out === logits) out = logits.slice();
    out[token] -= penalty.multiplier * penalty.base ** (length - penalty.allowedLength);
  }
  return out;
}
