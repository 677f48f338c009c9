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
  /** Other candidates offered with it (wisp.candidates). */
  alternatives: string[];
}

/** Characters before the cursor compared to recognise the same place in the document. */
const ANCHOR_CHARS = 256;

export class SuggestionMemory {
  private entries: Remembered[] = [];

  constructor(private readonly capacity = 32) {}

  remember(
    documentKey: string,
    offset: number,
    prefix: string,
    suffix: string,
    text: string,
    alternatives: string[] = [],
  ): void {
    this.entries = this.entries.filter((e) => !(e.documentKey === documentKey && e.offset === offset));
    this.entries.unshift({ documentKey, offset, before: prefix.slice(-ANCHOR_CHARS), suffix, text, alternatives });
    if (this.entries.length > this.capacity) this.entries.pop();
  }

  /**
   * The rest of a remembered suggestion (or of a candidate offered with it), if everything typed
   * since it was made is a prefix of it (and the text after the cursor is unchanged); undefined otherwise.
   */
  lookup(documentKey: string, offset: number, prefix: string, suffix: string): string | undefined {
    return this.lookupAll(documentKey, offset, prefix, suffix)[0];
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

  /**
   * The rests of a remembered suggestion and of the candidates offered with it that everything
   * typed since is a prefix of, the suggestion's first; empty when none matches.
   */
  lookupAll(documentKey: string, offset: number, prefix: string, suffix: string): string[] {
    for (const e of this.entries) {
      if (e.documentKey !== documentKey || offset < e.offset || suffix !== e.suffix) continue;
      const typedLength = offset - e.offset;
      if (prefix.length < e.before.length + typedLength) continue;
      const before = prefix.slice(prefix.length - typedLength - e.before.length, prefix.length - typedLength);
      if (before !== e.before) continue;
      const typed = prefix.slice(prefix.length - typedLength);
      const rests = [e.text, ...e.alternatives]
        .filter((t) => typedLength < t.length && t.startsWith(typed))
        .map((t) => t.slice(typedLength));
      if (rests.length > 0) return rests;
    }
    return [];
  }

  clear(): void {
    this.entries = [];
  }
}
