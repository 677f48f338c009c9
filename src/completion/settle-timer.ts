// Runs an action once changes settle: each change restarts a short wait, but the action never
// waits longer than `maxWaitMs` after the first unhandled change. A plain debounce would starve
// under a steady stream of changes (opening files one after another faster than the settle
// time), and the engine would never hear about any of them.

export class SettleTimer {
  private timer: NodeJS.Timeout | undefined;
  private pendingSince: number | undefined;

  constructor(
    private readonly action: () => void,
    private readonly settleMs: number,
    private readonly maxWaitMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A change happened: run the action once changes settle, or when the longest wait is up. */
  schedule(): void {
    const now = this.now();
    this.pendingSince ??= now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.settleMs, this.pendingSince + this.maxWaitMs - now));
    this.timer = setTimeout(() => this.runNow(), wait);
  }

  /** Run the action at once, dropping any pending wait. */
  runNow(): void {
    this.cancel();
    this.action();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingSince = undefined;
  }
}
