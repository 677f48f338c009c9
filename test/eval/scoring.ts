// Scoring an infilled line against the reference, and the no-model baseline.

/** Lines with surrounding whitespace removed and blank lines dropped. */
export function normalizedLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

export function exactMatch(candidate: string, reference: string): boolean {
  const a = normalizedLines(candidate);
  const b = normalizedLines(reference);
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** 1 − edit distance / longer length, on the normalized text. */
export function editSimilarity(candidate: string, reference: string): number {
  const a = normalizedLines(candidate).join('\n');
  const b = normalizedLines(reference).join('\n');
  const longer = Math.max(a.length, b.length);
  return longer === 0 ? 1 : 1 - levenshtein(a, b) / longer;
}

/** The baseline that needs no model: repeat the last non-blank line before the hole. */
export function previousLineBaseline(prompt: string): string {
  const lines = prompt.split('\n').filter((l) => l.trim().length > 0);
  return lines.length > 0 ? `${lines[lines.length - 1]}\n` : '\n';
}

/** The first `count` lines of content of a suggestion (leading blank lines skipped), newline-terminated. */
export function firstLines(text: string, count: number): string {
  const lines = text.replace(/^\s*\n/, '').split('\n');
  return `${lines.slice(0, Math.max(1, count)).join('\n')}\n`;
}

/** One hole's outcome with a confidence score: undefined when nothing was shown at all. */
export interface ScoredSuggestion {
  confidence: number | undefined;
  exactMatch: number;
  editSimilarity: number;
}

export interface CurvePoint {
  /** The threshold, or the share kept for `bestShare`. */
  at: number;
  /** Share of all holes with a suggestion shown. */
  coverage: number;
  /** Means over the suggestions shown (0 when none is). */
  exactMatch: number;
  editSimilarity: number;
}

function point(at: number, shown: ScoredSuggestion[], total: number): CurvePoint {
  const mean = (f: (s: ScoredSuggestion) => number) =>
    shown.length ? shown.reduce((sum, s) => sum + f(s), 0) / shown.length : 0;
  return {
    at,
    coverage: total ? shown.length / total : 0,
    exactMatch: mean((s) => s.exactMatch),
    editSimilarity: mean((s) => s.editSimilarity),
  };
}

/** Coverage against quality when suggestions below each threshold are not shown. */
export function confidenceCurve(samples: readonly ScoredSuggestion[], thresholds: readonly number[]): CurvePoint[] {
  return thresholds.map((t) =>
    point(
      t,
      samples.filter((s) => s.confidence !== undefined && s.confidence >= t),
      samples.length,
    ),
  );
}

/**
 * Quality of the most confident `share` of the holes: compares two scores at the same coverage,
 * whatever their scales.
 */
export function bestShare(samples: readonly ScoredSuggestion[], share: number): CurvePoint {
  const ranked = samples
    .filter((s) => s.confidence !== undefined)
    .sort((a, b) => b.confidence! - a.confidence!)
    .slice(0, Math.round(share * samples.length));
  return point(share, ranked, samples.length);
}
