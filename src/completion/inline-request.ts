// The engine request for an inline suggestion, from the settings and the text around the cursor.
// The provider and `dist/cli.js complete` both build it here, so the command line shows exactly
// what the editor would.
import type { CompletionRequest } from '../engine/engine';
import { WispSettings, contextCacheWeight } from '../settings';
import type { EditorContext } from './postprocess';
import type { WindowLimits } from './context-window';

/** Characters of text per prompt token requested (code averages 3–4; more keeps the budget full). */
const CHARS_PER_TOKEN = 6;

export function windowLimits(settings: WispSettings): WindowLimits {
  return {
    prefixChars: settings.contextTokens * CHARS_PER_TOKEN,
    suffixChars: Math.ceil(settings.contextTokens * CHARS_PER_TOKEN * 0.25),
  };
}

/**
 * Single line when the cursor has code after it on its line or the line already has content that
 * does not open a block; several lines after a block opener or on a blank line.
 */
export function maxLinesFor(ctx: EditorContext): number {
  if (ctx.lineSuffix.trim().length > 0 && !/^[)\]}"'`;,]*$/.test(ctx.lineSuffix.trim())) return 1;
  const before = ctx.linePrefix.trimEnd();
  if (before.trim().length === 0 || /[:{([]$|=>$/.test(before)) return 8;
  return 1;
}

export function inlineRequest(prefix: string, suffix: string, ctx: EditorContext, settings: WispSettings): CompletionRequest {
  return {
    prefix,
    suffix,
    sampling: { temperature: settings.temperature, topK: settings.topK, topP: settings.topP },
    seed: settings.seed,
    maxNewTokens: settings.maxNewTokens,
    // Two blank lines end a suggestion: past them the model is writing code the user has not reached.
    stop: ['\n\n\n'],
    maxLines: maxLinesFor(ctx),
    timeBudgetMs: settings.timeBudgetMs,
    contextTokens: settings.contextTokens,
    contextCacheWeight: contextCacheWeight(settings),
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
