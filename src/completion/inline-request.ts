// The engine request for a suggestion, from the settings and the text around the cursor, and the
// text shown from the engine's answer. The provider, Generate Code, the token view and
// `dist/cli.js complete` all build requests here, so the command line shows exactly what the
// editor would.
import type { CompletionRequest, CompletionResult, CrossFileTarget } from '../engine/process/protocol';
import { MultilineMode, WispSettings, contextCacheWeight } from '../settings';
import { WindowLimits, windowAroundCursor } from './context-window';
import { DocumentStyle, EditorContext, FilterReport, runFilters } from './postprocess';
import { shownConfidence } from '../shared/confidence';
import { DEFAULT_REPEAT_PENALTY } from '../shared/repeat-penalty';

/** Characters of text per prompt token requested (code averages 3–4; more keeps the budget full). */
const CHARS_PER_TOKEN = 6;

/** Generate Code writes until the model stops or the user cancels, not within a keystroke's budget. */
const GENERATE_TIME_BUDGET_MS = 120_000;

export interface InlineInput {
  /** Slice of the document by offsets. */
  slice: (start: number, end: number) => string;
  documentLength: number;
  cursor: number;
  /** The document's path and workspace, for models that take other files' chunks before the prompt. */
  crossFile?: CrossFileTarget;
}

export interface PreparedInline {
  prefix: string;
  suffix: string;
  context: EditorContext;
  multiline: MultilineMode;
  request: CompletionRequest;
}

/** An inline suggestion (a few lines at most, within the keystroke's time budget), or Generate Code. */
export type RequestPurpose = 'inline' | 'generate';

export function windowLimits(settings: WispSettings): WindowLimits {
  return {
    prefixChars: settings.contextTokens * CHARS_PER_TOKEN,
    suffixChars: Math.ceil(settings.contextTokens * CHARS_PER_TOKEN * 0.25),
  };
}

/** The most lines a suggestion may have (wisp.multiline `always`, and `auto` where it allows several). */
const MULTI_LINE_LIMIT = 8;

/**
 * `auto`: single line when the cursor has code after it on its line or the line already has content
 * that does not open a block; several lines after a block opener or on a blank line.
 */
export function maxLinesFor(ctx: EditorContext, mode: MultilineMode = 'auto'): number {
  if (mode !== 'auto') return mode === 'never' ? 1 : MULTI_LINE_LIMIT;
  if (ctx.lineSuffix.trim().length > 0 && !/^[)\]}"'`;,]*$/.test(ctx.lineSuffix.trim())) return 1;
  const before = ctx.linePrefix.trimEnd();
  if (before.trim().length === 0 || /[:{([]$|=>$/.test(before)) return MULTI_LINE_LIMIT;
  return 1;
}

export function inlineRequest(
  prefix: string,
  suffix: string,
  ctx: EditorContext,
  settings: WispSettings,
  purpose: RequestPurpose = 'inline',
): CompletionRequest {
  const common = {
    prefix,
    suffix,
    sampling: { temperature: settings.temperature, topK: settings.topK, topP: settings.topP },
    seed: settings.seed,
    contextTokens: settings.contextTokens,
    contextCacheWeight: contextCacheWeight(settings),
    ...(settings.repeatPenalty > 0
      ? { repeatPenalty: { ...DEFAULT_REPEAT_PENALTY, multiplier: settings.repeatPenalty } }
      : {}),
  };
  if (purpose === 'generate') {
    return { ...common, maxNewTokens: settings.generateMaxNewTokens, stop: [], timeBudgetMs: GENERATE_TIME_BUDGET_MS };
  }
  return {
    ...common,
    maxNewTokens: settings.maxNewTokens,
    // Two blank lines end a suggestion: past them the model is writing code the user has not reached.
    stop: ['\n\n\n'],
    maxLines: maxLinesFor(ctx, settings.multiline),
    // The filters cut at the scope's end; the generation stops there instead of running on.
    editor: ctx,
    retryRepeatedLine: true,
    timeBudgetMs: settings.timeBudgetMs,
    ...(settings.candidates > 1 ? { candidates: settings.candidates } : {}),
    ...(settings.beamWidth > 1 ? { beamWidth: settings.beamWidth } : {}),
  };
}

export function editorContext(prefix: string, suffix: string, nextLineCount = 3): EditorContext {
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const lineEnd = suffix.indexOf('\n');
  const lines = suffix.split('\n');
  return {
    linePrefix: prefix.slice(lineStart),
    lineSuffix: lineEnd >= 0 ? suffix.slice(0, lineEnd) : suffix,
    nextLines: lines.slice(1, 1 + nextLineCount),
  };
}

export function prepareInline(
  input: InlineInput,
  settings: WispSettings,
  purpose: RequestPurpose = 'inline',
): PreparedInline {
  const window = windowAroundCursor(input.slice, input.documentLength, input.cursor, windowLimits(settings));
  const context = editorContext(window.prefix, window.suffix);
  const request = inlineRequest(window.prefix, window.suffix, context, settings, purpose);
  if (settings.contextFromOtherFiles && input.crossFile) request.crossFile = input.crossFile;
  return { prefix: window.prefix, suffix: window.suffix, context, multiline: settings.multiline, request };
}

/** The filters' work on the engine's answer: the text to show and which filter cut or dropped what. */
export function filterInline(prepared: PreparedInline, result: CompletionResult, style: DocumentStyle): FilterReport {
  return runFilters(result.text, { ...prepared.context, style, multiline: prepared.multiline });
}

/** The model's confidence in the text shown is below wisp.minConfidence (unknown confidence never is). */
export function belowConfidence(result: CompletionResult, shown: string, minConfidence: number): number | undefined {
  const confidence = shownConfidence(result, shown);
  return confidence !== undefined && confidence < minConfidence ? confidence : undefined;
}

/**
 * The other candidates (CompletionRequest.candidates) as they would be shown: filtered, without those
 * below wisp.minConfidence, and merged where the filters made them the same as the first or as each other.
 */
export function alternativesShown(
  prepared: PreparedInline,
  result: CompletionResult,
  style: DocumentStyle,
  first: string,
  minConfidence: number,
): string[] {
  const shown = new Set([first]);
  for (const candidate of result.alternatives ?? []) {
    const text = filterInline(prepared, { ...result, ...candidate }, style).text;
    if (text === undefined || belowConfidence({ ...result, ...candidate }, text, minConfidence) !== undefined) continue;
    shown.add(text);
  }
  return [...shown].slice(1);
}

export function finishInline(
  prepared: PreparedInline,
  result: CompletionResult,
  style: DocumentStyle,
): string | undefined {
  return filterInline(prepared, result, style).text;
}

/** Indentation and line endings of a text, for callers with no editor to ask. */
export function detectStyle(text: string): DocumentStyle {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const tabIndented = (text.match(/^\t/gm) ?? []).length;
  const spaceIndented = (text.match(/^ {2}/gm) ?? []).length;
  return { eol, insertSpaces: tabIndented <= spaceIndented, tabSize: 4 };
}
