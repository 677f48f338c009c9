// Answering from a suggestion already shown. When the user types the characters the ghost text
// shows, the rest of the suggestion is still the answer: no model call, no latency. Entries are
// keyed by document and remember the text just before the cursor when they were made, so a later
// request can tell whether the user typed exactly a prefix of the suggestion since.

interface Remembered {
  documentKey: string;
  /** Document offset of the cursor when the suggestion was made. */
  offset: number;
  /** Text just before that cursor position. */
  before: string;
  suffix: string;
  text: string;
}

/** Characters before the cursor compared to recognise the same place in the document. */
const ANCHOR_CHARS = 256;

export class SuggestionMemory {
  private entries: Remembered[] = [];

  constructor(private readonly capacity = 32) {}

  remember(documentKey: string, offset: number, prefix: string, suffix: string, text: string): void {
    this.entries = this.entries.filter((e) => !(e.documentKey === documentKey && e.offset === offset));
    this.entries.unshift({ documentKey, offset, before: prefix.slice(-ANCHOR_CHARS), suffix, text });
    if (this.entries.length > this.capacity) this.entries.pop();
  }

  /**
   * The rest of a remembered suggestion, if everything typed since it was made is a prefix of it
   * (and the text after the cursor is unchanged); undefined otherwise.
   */
  lookup(documentKey: string, offset: number, prefix: string, suffix: string): string | undefined {
    for (const e of this.entries) {
      if (e.documentKey !== documentKey || offset < e.offset || suffix !== e.suffix) continue;
      const typedLength = offset - e.offset;
      if (typedLength >= e.text.length || prefix.length < e.before.length + typedLength) continue;
      const typed = prefix.slice(prefix.length - typedLength);
      const before = prefix.slice(prefix.length - typedLength - e.before.length, prefix.length - typedLength);
      if (before === e.before && e.text.startsWith(typed)) return e.text.slice(typedLength);
    }
    return undefined;
  }

  /** Whether the text just before the cursor is a remembered suggestion, typed or accepted whole. */
  completedAt(documentKey: string, offset: number, prefix: string, suffix: string): boolean {
    return this.entries.some(
      (e) =>
        e.documentKey === documentKey &&
        offset === e.offset + e.text.length &&
        suffix === e.suffix &&
        prefix.endsWith(e.before + e.text),
    );
  }

  clear(): void {
    this.entries = [];
  }
}
