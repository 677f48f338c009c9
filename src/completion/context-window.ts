// Which text around the cursor goes to the model. The window's start moves in whole chunks and
// snaps to a line start, so that while the user types it stays put and the tokens it produces stay
// the same: the KV cache keeps matching them. A 5 MB one-line file costs no more than a small one.

export interface WindowLimits {
  prefixChars: number;
  suffixChars: number;
}

export interface TextWindow {
  prefix: string;
  suffix: string;
  /** Document offset where the prefix starts. */
  prefixStart: number;
}

/** The start moves in steps of this many characters. */
export const WINDOW_CHUNK = 1024;

export type TextSlice = (start: number, end: number) => string;

export function prefixWindowStart(slice: TextSlice, cursor: number, maxChars: number, chunk = WINDOW_CHUNK): number {
  const raw = cursor - maxChars;
  if (raw <= 0) return 0;
  const start = Math.ceil(raw / chunk) * chunk;
  if (start >= cursor) return cursor;
  const head = slice(start, Math.min(cursor, start + chunk));
  const newline = head.indexOf('\n');
  return newline >= 0 ? start + newline + 1 : start;
}

export function suffixWindow(slice: TextSlice, cursor: number, documentLength: number, maxChars: number): string {
  const end = Math.min(documentLength, cursor + maxChars);
  const text = slice(cursor, end);
  if (end === documentLength) return text;
  const lastNewline = text.lastIndexOf('\n');
  return lastNewline > 0 ? text.slice(0, lastNewline + 1) : text;
}

export function windowAroundCursor(
  slice: TextSlice,
  documentLength: number,
  cursor: number,
  limits: WindowLimits,
): TextWindow {
  const prefixStart = prefixWindowStart(slice, cursor, limits.prefixChars);
  return {
    prefix: slice(prefixStart, cursor),
    suffix: suffixWindow(slice, cursor, documentLength, limits.suffixChars),
    prefixStart,
  };
}
