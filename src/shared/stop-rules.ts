// Where a suggestion ends: at the first stop string, or at the line break that ends its
// `maxLines`-th line (counted from its first non-blank character), at a repetition loop, or, given
// the cursor's surroundings, where post-processing's scope rules would cut it (scope-rules.ts). The
// local engine stops generating there (decode/generate.ts); the server backends cut the streamed
// text there and end the request, since not every server honours stop strings and none counts lines.
import { LOOP_COPIES, cutLoop, trailingLoop } from './repetition';
import { type EditorContext, ruleStop } from './scope-rules';

/** Index of the line break that ends the `maxLines`-th line of content, or -1. */
function lineLimit(text: string, maxLines: number | undefined): number {
  if (!maxLines) return -1;
  const start = text.search(/\S/);
  if (start < 0) return -1;
  let index = start;
  for (let line = 0; line < maxLines; line++) {
    index = text.indexOf('\n', index);
    if (index < 0) return -1;
    if (line < maxLines - 1) index++;
  }
  return index;
}

/** Index where the text must end, or -1 when no rule applies yet. */
export function firstStop(text: string, stops: readonly string[], maxLines: number | undefined): number {
  let cut = lineLimit(text, maxLines);
  for (const s of stops) {
    const i = s.length > 0 ? text.indexOf(s) : -1;
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut;
}

export type EndReason = 'stop' | 'loop' | 'filter';

/**
 * The text cut where it must end, and why: a stop string or the line limit ('stop'), a unit
 * repeated LOOP_COPIES times at its end ('loop', one copy kept), or, when `editor` is given, a
 * scope rule that makes the filters cut the rest ('filter', cut just after the character that
 * fired it); undefined while it may go on.
 */
export function endOfText(
  text: string,
  stops: readonly string[],
  maxLines: number | undefined,
  editor?: EditorContext,
): { text: string; reason: EndReason } | undefined {
  const cut = firstStop(text, stops, maxLines);
  if (cut >= 0) return { text: text.slice(0, cut), reason: 'stop' };
  const loop = trailingLoop(text, LOOP_COPIES);
  if (loop) return { text: cutLoop(text, loop), reason: 'loop' };
  const rule = editor ? ruleStop(text, editor) : -1;
  return rule >= 0 ? { text: text.slice(0, rule), reason: 'filter' } : undefined;
}
