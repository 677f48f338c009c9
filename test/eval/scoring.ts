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
