// What is done to the model's text before it is shown: an ordered list of small filters (FILTERS),
// each with one signature (text in, text out; '' drops the suggestion) and golden cases of its own in
// test/unit/data/postprocess/<filter>.json. `runFilters` reports every filter that changed the text,
// so the log can say which one cut a suggestion or dropped it.
import type { MultilineMode } from '../settings';
import { FILTER_LOOP_COPIES, cutLoop, trailingLoop } from '../shared/repetition';
import {
  type EditorContext,
  indentWidth,
  repeatsNextLine,
  scopeEndLine,
  unmatchedCloser,
  withoutLineSuffixOverlap,
} from '../shared/scope-rules';

export type { EditorContext };

export interface DocumentStyle {
  eol: '\n' | '\r\n';
  insertSpaces: boolean;
  tabSize: number;
}

/** What every filter is given besides the text. */
export interface FilterContext extends EditorContext {
  style: DocumentStyle;
  multiline: MultilineMode;
}

/** The model may answer in CRLF or mixed endings; work on \n only. */
export function normalizeLineEndings(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/**
 * Cut where the current scope ends: at the first later line indented less than the cursor's line
 * (the code after it belongs to an outer block the user has not reached).
 */
export function stopAtScopeEnd(text: string, ctx: EditorContext): string {
  const lines = text.split('\n');
  const end = scopeEndLine(lines, ctx);
  return end < 0 ? text : lines.slice(0, end).join('\n');
}

/**
 * A closing bracket with no opener in the completion closes a scope that began before the cursor.
 * If the text after the cursor already closes it, cut before it (it would be doubled); otherwise
 * keep it and cut right after it (the scope ends there).
 */
export function cutAtUnmatchedCloser(text: string, ctx: EditorContext): string {
  const i = unmatchedCloser(text);
  if (i < 0) return text;
  const after = ctx.lineSuffix.trimStart();
  return after.startsWith(text[i]) ? text.slice(0, i).trimEnd() : text.slice(0, i + 1);
}

/**
 * wisp.multiline: `never` keeps one line, `always` keeps them all, and `auto` keeps one line when the
 * cursor has code after it on its line (a suggestion stays on that line).
 */
export function keepToLineLimit(text: string, ctx: FilterContext): string {
  if (ctx.multiline === 'always') return text;
  const rest = ctx.lineSuffix.trim();
  const onlyClosers = /^[)\]}"'`;,]*$/.test(rest);
  if (ctx.multiline === 'auto' && (rest.length === 0 || onlyClosers)) return text;
  const newline = text.indexOf('\n');
  return newline >= 0 ? text.slice(0, newline) : text;
}

/** Drop the part of the first line that the rest of the line already has (e.g. `);`). */
export function trimOverlapWithLineSuffix(text: string, ctx: EditorContext): string {
  return withoutLineSuffixOverlap(text, ctx.lineSuffix);
}

/**
 * A small model that loses its way repeats itself until the token budget ends it
 * ("0 : 0 : 0 : 0 : 0"): keep one copy (repetition.ts). A repetition the model closes itself
 * ("[0, 0, 0, 0]") does not reach the end of the text, and is kept.
 */
export function cutRepetitionLoop(text: string): string {
  const loop = trailingLoop(text, FILTER_LOOP_COPIES);
  return loop ? cutLoop(text, loop) : text;
}

/** Spaces at line ends and blank lines at the end are never worth showing. */
export function trimTrailingSpace(text: string): string {
  return text.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
}

/** A suggestion that only repeats what follows the cursor is noise: dropped. */
export function dropRepeatOfFollowingText(text: string, ctx: EditorContext): string {
  const suggestion = text.trim();
  if (suggestion.length === 0) return text;
  const following = [ctx.lineSuffix, ...ctx.nextLines].join('\n').trim();
  if (following.startsWith(suggestion)) return '';
  return repeatsNextLine(suggestion, ctx) ? '' : text;
}

/** Write the suggestion in the document's indentation and line endings. */
export function adaptToDocument(text: string, ctx: FilterContext): string {
  const style = ctx.style;
  const lines = text.split('\n').map((line, i) => {
    if (i === 0) return line;
    const indent = line.match(/^[ \t]*/)![0];
    const width = indentWidth(indent, style.tabSize);
    const body = line.slice(indent.length);
    const newIndent = style.insertSpaces
      ? ' '.repeat(width)
      : '\t'.repeat(Math.floor(width / style.tabSize)) + ' '.repeat(width % style.tabSize);
    return newIndent + body;
  });
  return lines.join(style.eol);
}

/** One step of post-processing: the text so far in, the text to keep out; '' drops the suggestion. */
export type Filter = (text: string, ctx: FilterContext) => string;

/** In the order they run; each name is its golden-case file (test/unit/data/postprocess/<name>.json). */
export const FILTERS: ReadonlyArray<{ name: string; run: Filter }> = [
  { name: 'line-endings', run: normalizeLineEndings },
  { name: 'repetition-loop', run: cutRepetitionLoop },
  { name: 'line-limit', run: keepToLineLimit },
  { name: 'scope-end', run: stopAtScopeEnd },
  { name: 'unmatched-closer', run: cutAtUnmatchedCloser },
  { name: 'line-suffix-overlap', run: trimOverlapWithLineSuffix },
  { name: 'trailing-space', run: trimTrailingSpace },
  { name: 'repeats-following-text', run: dropRepeatOfFollowingText },
  { name: 'document-style', run: adaptToDocument },
];

/** A filter that changed the text: what it was given and what it kept. */
export interface FilterAction {
  filter: string;
  before: string;
  after: string;
}

export interface FilterReport {
  /** Undefined when nothing is left to show. */
  text: string | undefined;
  /** Every filter that changed the text, in order. */
  actions: FilterAction[];
  /** The filter that left nothing, when one did (not set when the model's answer was blank already). */
  droppedBy?: FilterAction;
}

export function runFilters(raw: string, ctx: FilterContext, filters = FILTERS): FilterReport {
  const actions: FilterAction[] = [];
  let text = raw;
  for (const { name, run } of filters) {
    const after = run(text, ctx);
    if (after === text) continue;
    const action = { filter: name, before: text, after };
    actions.push(action);
    text = after;
    if (text.trim() === '') return { text: undefined, actions, droppedBy: raw.trim() === '' ? undefined : action };
  }
  return { text: text.trim() === '' ? undefined : text, actions };
}

const shown = (s: string, max = 40) => JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);

/** "scope-end removed \"\\n\\ndef sub(…\"" — for the log. */
export function describeAction(action: FilterAction): string {
  const { filter, before, after } = action;
  if (after === '') return `${filter} dropped ${shown(before)}`;
  if (before.startsWith(after)) return `${filter} removed ${shown(before.slice(after.length))}`;
  return `${filter} rewrote ${shown(before)} as ${shown(after)}`;
}

export function postprocess(
  raw: string,
  ctx: EditorContext,
  style: DocumentStyle,
  multiline: MultilineMode = 'auto',
): string | undefined {
  return runFilters(raw, { ...ctx, style, multiline }).text;
}
