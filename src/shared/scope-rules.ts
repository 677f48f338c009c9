// Three of post-processing's rules that a generation can be stopped by while it is decoded: the
// end of the cursor's scope (a later line indented less than the cursor's), a closing bracket with
// no opener in the suggestion, and a first line that repeats the next line of the document. The
// filters (completion/postprocess.ts) cut with them; the local engine (decode/generate.ts) and the
// server backends (backends/server-client.ts) stop with them (stop-rules.ts `endOfText`), so the
// tokens the filters would throw away are never generated. One copy, so both always agree.
import { FILTER_LOOP_COPIES, trailingLoop } from './repetition';

/** Where the cursor is, as the rules see it. */
export interface EditorContext {
  /** Text of the cursor's line before the cursor. */
  linePrefix: string;
  /** Text of the cursor's line after the cursor. */
  lineSuffix: string;
  /** The lines after the cursor's line (a few are enough). */
  nextLines: string[];
}

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set([')', ']', '}']);

export function indentWidth(line: string, tabSize = 4): number {
  let width = 0;
  for (const ch of line) {
    if (ch === ' ') width++;
    else if (ch === '\t') width += tabSize - (width % tabSize);
    else break;
  }
  return width;
}

/** Index of the first line after the first that has content and is indented less than the cursor's line, or -1. */
export function scopeEndLine(lines: readonly string[], ctx: EditorContext): number {
  const base = indentWidth(ctx.linePrefix);
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    if (indentWidth(lines[i]) < base) return i;
  }
  return -1;
}

/** Index of the first closing bracket with no opener before it in the text (strings skipped), or -1. */
export function unmatchedCloser(text: string): number {
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote || ch === '\n') quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (OPENERS[ch]) stack.push(OPENERS[ch]);
    else if (CLOSERS.has(ch)) {
      if (stack.length > 0 && stack[stack.length - 1] === ch) {
        stack.pop();
        continue;
      }
      return i;
    }
  }
  return -1;
}

/** The first line of the text without what the rest of the cursor's line already has (e.g. `);`). */
export function withoutLineSuffixOverlap(text: string, lineSuffix: string): string {
  const rest = lineSuffix.trim();
  if (rest.length === 0) return text;
  const newline = text.indexOf('\n');
  const first = newline >= 0 ? text.slice(0, newline) : text;
  const trimmedFirst = first.trimEnd();
  if (!trimmedFirst.endsWith(rest)) return text;
  const kept = trimmedFirst.slice(0, trimmedFirst.length - rest.length);
  return kept + (newline >= 0 ? text.slice(newline) : '');
}

/** The suggestion's first line of content is the document's next line of content. */
export function repeatsNextLine(text: string, ctx: EditorContext): boolean {
  const firstLine = text.trim().split('\n')[0].trim();
  const nextLine = ctx.nextLines.find((l) => l.trim().length > 0)?.trim();
  return firstLine.length > 0 && nextLine === firstLine;
}

/**
 * The text's first line is all in the rest of the cursor's line, or is the next line: the filters
 * (line-suffix-overlap, repeats-following-text) leave nothing of it to show.
 */
export function repeatsFollowingLine(text: string, ctx: EditorContext): boolean {
  if (!text.trim()) return false;
  return withoutLineSuffixOverlap(text, ctx.lineSuffix).trim() === '' || repeatsNextLine(text, ctx);
}

/**
 * Where a generation may stop because the filters would cut everything after this point anyway:
 * the length of text to keep, or -1 while none of the three rules has fired. The text kept ends on
 * the character that made the rule fire (the dedented line's first character, the closer, or the
 * line break after a repeated line), so the filters, run on it, cut exactly where they would have
 * cut the whole generation. Never where the kept text would end in a repetition loop: the
 * repetition-loop filter, which runs first, looks at the end of the text.
 */
export function ruleStop(text: string, ctx: EditorContext): number {
  const normal = text.replace(/\r\n?/g, '\n');
  // Carriage returns would make the indices disagree with the text the caller holds; rare enough to wait for the end.
  if (normal.length !== text.length) return -1;
  let end = -1;
  const lines = text.split('\n');
  const dedented = scopeEndLine(lines, ctx);
  if (dedented > 0) {
    const lineStart = lines.slice(0, dedented).join('\n').length + 1;
    end = lineStart + lines[dedented].search(/\S/) + 1;
  }
  const closer = unmatchedCloser(end >= 0 ? text.slice(0, end) : text);
  if (closer >= 0) end = closer + 1;
  const candidate = end >= 0 ? text.slice(0, end) : text;
  const overlapFree = withoutLineSuffixOverlap(candidate, ctx.lineSuffix);
  const content = overlapFree.search(/\S/);
  const lineEnd = content >= 0 ? overlapFree.indexOf('\n', content) : -1;
  if (lineEnd >= 0 && repeatsNextLine(overlapFree.slice(0, lineEnd), ctx)) {
    end = lineEnd + 1 + (candidate.length - overlapFree.length);
  }
  if (end < 0 || trailingLoop(text.slice(0, end), FILTER_LOOP_COPIES)) return -1;
  return end;
}
