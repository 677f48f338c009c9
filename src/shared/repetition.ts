// Repetition loops: a small model that loses its way writes the same few characters again and
// again ("0 : 0 : 0 : 0"). Found by their period at the end of the text; the unit must hold a word
// character, so a run of symbols ("# =======") is not one.

/**
 * Copies of one unit at the end of the text that end a generation as a loop. Many,
 * so that a list the model is still writing ("0, 0, 0, ") is not taken for one; the text keeps one
 * copy.
 */
export const LOOP_COPIES = 8;

/** Copies of a unit at the end of a suggestion that make the repetition-loop filter cut it (postprocess.ts). */
export const FILTER_LOOP_COPIES = 3;

/** Longest repeating unit looked for, in characters. */
const MAX_LOOP_UNIT = 40;

export interface Loop {
  /** Where the repetition starts. */
  start: number;
  /** Length of the repeated unit. */
  unit: number;
}

/** The longest run at the end of `text` of at least `copies` copies of one unit, or undefined. */
export function trailingLoop(text: string, copies: number): Loop | undefined {
  let found: Loop | undefined;
  for (let unit = 2; unit <= MAX_LOOP_UNIT && unit * copies <= text.length; unit++) {
    let start = text.length;
    while (start - 1 - unit >= 0 && text[start - 1] === text[start - 1 - unit]) start--;
    const regionStart = start - unit;
    if (text.length - regionStart < unit * copies) continue;
    if (!/\w/.test(text.slice(regionStart, regionStart + unit))) continue;
    if (!found || regionStart < found.start) found = { start: regionStart, unit };
  }
  return found;
}

/** The text with one copy of the loop's unit left, and no separator left dangling after it. */
export function cutLoop(text: string, loop: Loop): string {
  return text.slice(0, loop.start + loop.unit).replace(/[\s,:;+\-*/%|&=?.]+$/, '');
}
