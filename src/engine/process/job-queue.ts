// The engine's scheduling of completion requests: one runs at a time, and the newest waits. A
// request that arrives while one runs cancels it (the user has typed on); a newer request replaces
// a waiting one, which is dropped. Shared by the engine process and the benchmark's peer server.

export interface RunningJob<T> {
  id: number;
  payload: T;
  isCancelled: () => boolean;
}

interface Job<T> {
  id: number;
  payload: T;
  cancelled: boolean;
}

export class LatestJobQueue<T> {
  private running: Job<T> | undefined;
  private waiting: Job<T> | undefined;

  /**
   * `run` answers a job (it must not throw); `dropped` answers one cancelled or replaced before it
   * ran; while `blocked` is true no job starts (call `drain` when it clears).
   */
  constructor(
    private readonly run: (job: RunningJob<T>) => Promise<void>,
    private readonly dropped: (id: number) => void,
    private readonly blocked: () => boolean = () => false,
  ) {}

  get busy(): boolean {
    return this.running !== undefined || this.waiting !== undefined;
  }

  submit(id: number, payload: T): void {
    if (this.running) this.running.cancelled = true;
    if (this.waiting) this.dropped(this.waiting.id);
    this.waiting = { id, payload, cancelled: false };
    void this.drain();
  }

  cancel(id: number): void {
    if (this.running?.id === id) this.running.cancelled = true;
    if (this.waiting?.id === id) this.waiting.cancelled = true;
  }

  async drain(): Promise<void> {
    while (this.waiting && !this.running && !this.blocked()) {
      const job = this.waiting;
      this.waiting = undefined;
      this.running = job;
      try {
        if (job.cancelled) this.dropped(job.id);
        else await this.run({ id: job.id, payload: job.payload, isCancelled: () => job.cancelled });
      } finally {
        this.running = undefined;
      }
    }
  }
}
