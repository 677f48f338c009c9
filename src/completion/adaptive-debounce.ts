// How long to wait after a keystroke before asking the model. A request pays off only when its answer
// arrives before the next keystroke cancels it: when the user types more slowly than the model
// answers, ask at once; when they type faster, wait about one of their keystroke intervals, so a
// request starts only once they pause. Where the next keystroke is likely (mid-word) the wait is
// longer; where a pause is likely (the end of a line, just after accepting a suggestion) it is the
// shortest. Pure: the completer feeds it keystroke times and response times from its own clock.

/** Where the cursor is, as far as the wait is concerned. */
export type CursorPlace = 'mid-word' | 'line-end' | 'other';

/** The shortest wait: a keystroke that arrives within it is part of the same burst anyway. */
export const MIN_DEBOUNCE_MS = 10;

/** A gap longer than this is a pause, not part of the typing rhythm. */
const PAUSE_MS = 1500;

/** Weight of the newest interval or response time in the running averages. */
const SMOOTHING = 0.3;

/** Intervals to wait, as a multiple of the typing interval, where the model is slower than the typist. */
const WAIT_INTERVALS: Record<Exclude<CursorPlace, 'line-end'>, number> = { 'mid-word': 2, other: 1.25 };

/** Where the cursor is, from the text of its line before and after it. */
export function cursorPlace(linePrefix: string, lineSuffix: string): CursorPlace {
  if (/[\p{L}\p{N}_$]$/u.test(linePrefix)) return 'mid-word';
  return lineSuffix.trim() === '' ? 'line-end' : 'other';
}

const average = (previous: number | undefined, value: number) =>
  previous === undefined ? value : previous + SMOOTHING * (value - previous);

export class AdaptiveDebounce {
  private lastKeystrokeAt: number | undefined;
  private intervalMs: number | undefined;
  private responseMs: number | undefined;
  private accepted = false;

  /** A keystroke (a request from the editor) at time `now` (ms). */
  keystroke(now: number): void {
    if (this.lastKeystrokeAt !== undefined) {
      const gap = now - this.lastKeystrokeAt;
      if (gap >= 0 && gap < PAUSE_MS) this.intervalMs = average(this.intervalMs, gap);
    }
    this.lastKeystrokeAt = now;
  }

  /** A request answered in `ms` (from the end of its wait to the answer). */
  response(ms: number): void {
    this.responseMs = average(this.responseMs, ms);
  }

  /** A suggestion was taken whole: the next request's wait is the shortest. */
  accept(): void {
    this.accepted = true;
  }

  /** The typing interval and response time it has learnt (undefined until seen). */
  get rhythm(): { intervalMs: number | undefined; responseMs: number | undefined } {
    return { intervalMs: this.intervalMs, responseMs: this.responseMs };
  }

  /** The wait before the request for the latest keystroke, within [MIN_DEBOUNCE_MS, maxMs]. */
  delay(place: CursorPlace, maxMs: number): number {
    const min = Math.min(MIN_DEBOUNCE_MS, maxMs);
    const accepted = this.accepted;
    this.accepted = false;
    if (accepted || place === 'line-end') return min;
    // Nothing learnt yet: the bound, as a fixed debounce would.
    if (this.intervalMs === undefined || this.responseMs === undefined) return maxMs;
    if (this.intervalMs > this.responseMs) return min;
    return Math.round(Math.min(maxMs, Math.max(min, WAIT_INTERVALS[place] * this.intervalMs)));
  }
}
