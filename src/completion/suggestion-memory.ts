// Answering from a suggestion already made. When the user types the characters the ghost text
// shows, the rest of the suggestion is still the answer: no model call, no latency. Entries are
// keyed by the place they were made for (typed-along.ts), so a later request can tell whether the
// user typed exactly a prefix of the suggestion since. A suggestion can also be made before any
// keystroke shows it: by a generation the user kept typing along with after its own keystroke was
// gone ('kept'), or by the prefetch after an accept ('prefetch'); the first time such an entry
// answers, the answer says where it came from, and afterwards it is one the user has seen ('shown').
import { CursorAt, Place, placeOf, typedAlong } from './typed-along';

export type SuggestionOrigin = 'shown' | 'kept' | 'prefetch';

interface Remembered {
  place: Place;
  text: string;
  origin: SuggestionOrigin;
  /** Other candidates offered with it (wisp.candidates). */
  alternatives: string[];
}

export class SuggestionMemory {
  private entries: Remembered[] = [];

  constructor(private readonly capacity = 32) {}

  remember(at: CursorAt, text: string, origin: SuggestionOrigin = 'shown', alternatives: string[] = []): void {
    this.entries = this.entries.filter(
      (e) => !(e.place.documentKey === at.documentKey && e.place.offset === at.offset),
    );
    this.entries.unshift({ place: placeOf(at), text, origin, alternatives });
    if (this.entries.length > this.capacity) this.entries.pop();
  }

  /**
   * The rest of a remembered suggestion (and of the candidates offered with it) that everything
   * typed since it was made is a prefix of (the text after the cursor unchanged), with where it came
   * from; undefined otherwise. From then on the entry counts as shown.
   */
  lookup(at: CursorAt): { text: string; origin: SuggestionOrigin; alternatives: string[] } | undefined {
    for (const e of this.entries) {
      const rests = [e.text, ...e.alternatives].flatMap((text) => {
        const typed = typedAlong(e.place, text, at);
        return typed !== undefined && typed < text.length ? [text.slice(typed)] : [];
      });
      if (rests.length === 0) continue;
      const origin = e.origin;
      e.origin = 'shown';
      return { text: rests[0], origin, alternatives: rests.slice(1) };
    }
    return undefined;
  }

  /** Whether the text just before the cursor is a remembered suggestion, typed or accepted whole. */
  completedAt(at: CursorAt): boolean {
    return this.entries.some((e) => typedAlong(e.place, e.text, at) === e.text.length);
  }

  /** Whether a remembered suggestion answers at this place (without marking it shown). */
  has(at: CursorAt): boolean {
    return this.entries.some((e) => {
      const typed = typedAlong(e.place, e.text, at);
      return typed !== undefined && typed < e.text.length;
    });
  }

  clear(): void {
    this.entries = [];
  }
}
