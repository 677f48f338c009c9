// One inline suggestion from prefix/suffix text, the same way in the editor and on the command
// line: window → engine request → engine → post-processing.
import type { CrossFileTarget } from '../engine/cross-file';
import type { CompletionRequest, CompletionResult } from '../engine/engine';
import type { WispSettings } from '../settings';
import { windowAroundCursor } from './context-window';
import { editorContext, inlineRequest, windowLimits } from './inline-request';
import { DocumentStyle, EditorContext, postprocess } from './postprocess';

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
  request: CompletionRequest;
}

export function prepareInline(input: InlineInput, settings: WispSettings): PreparedInline {
  const window = windowAroundCursor(input.slice, input.documentLength, input.cursor, windowLimits(settings));
  const context = editorContext(window.prefix, window.suffix);
  const request = inlineRequest(window.prefix, window.suffix, context, settings);
  if (settings.contextFromOtherFiles && input.crossFile) request.crossFile = input.crossFile;
  return { prefix: window.prefix, suffix: window.suffix, context, request };
}

export function finishInline(prepared: PreparedInline, result: CompletionResult, style: DocumentStyle): string | undefined {
  return postprocess(result.text, prepared.context, style);
}

/** Indentation and line endings of a text, for callers with no editor to ask. */
export function detectStyle(text: string): DocumentStyle {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const tabIndented = (text.match(/^\t/gm) ?? []).length;
  const spaceIndented = (text.match(/^ {2}/gm) ?? []).length;
  return { eol, insertSpaces: tabIndented <= spaceIndented, tabSize: 4 };
}
