// Has the user typed along with a text since a place in the document? A place is where a
// suggestion was made, or where a generation is running: the document, the cursor's offset, the
// text just before it and the text after it. The user typed along when the cursor has moved on by
// the characters the text begins with, and nothing else changed. Answers two questions the
// completer asks on every keystroke: can a suggestion already shown be served again
// (suggestion-memory.ts), and may the running generation go on instead of being cancelled
// (inline-completer.ts: its text is what it has streamed so far).

/** The cursor in a document, with the prompt window's text around it. */
export interface CursorAt {
  documentKey: string;
  offset: number;
  /** Text before the cursor (the prompt window's prefix). */
  prefix: string;
  suffix: string;
}

export interface Place {
  documentKey: string;
  /** Document offset of the cursor. */
  offset: number;
  /** Text just before that cursor position (the last ANCHOR_CHARS characters). */
  before: string;
  /** Text after the cursor, as far as the prompt window goes. */
  suffix: string;
}

/** Characters before the cursor compared to recognise the same place in the document. */
const ANCHOR_CHARS = 256;

export function placeOf(at: CursorAt): Place {
  return { documentKey: at.documentKey, offset: at.offset, before: at.prefix.slice(-ANCHOR_CHARS), suffix: at.suffix };
}

/**
 * How many characters of `text` the user has typed since `place`, to arrive at `now`; undefined
 * when what was typed is not how `text` begins, or anything else changed (another document, the
 * text after the cursor, the text before the place).
 */
export function typedAlong(place: Place, text: string, now: CursorAt): number | undefined {
  if (now.documentKey !== place.documentKey || now.suffix !== place.suffix) return undefined;
  const typedLength = now.offset - place.offset;
  if (typedLength < 0 || typedLength > text.length) return undefined;
  if (now.prefix.length < place.before.length + typedLength) return undefined;
  const end = now.prefix.length - typedLength;
  if (now.prefix.slice(end - place.before.length, end) !== place.before) return undefined;
  return text.startsWith(now.prefix.slice(end)) ? typedLength : undefined;
}
