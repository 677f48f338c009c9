// The engine process's side of the protocol (src/engine/protocol.ts) for the benchmark's own
// engines, so the replay drives them through the real EngineClient exactly like Wisp's engine
// process: one generation at a time; a new request cancels the running one (checked between
// decode steps) and replaces a waiting one, which is answered as cancelled.
import type { CompletionRequest, CompletionResult, EngineInfo } from '../../src/engine/engine';
import type { EngineMessage } from '../../src/engine/protocol';
import { cancelledResult, isHostMessage } from '../../src/engine/protocol';

export interface ServedEngine {
  load(modelDir: string, threads: number | undefined): Promise<EngineInfo>;
  complete(request: CompletionRequest, isCancelled: () => boolean): Promise<CompletionResult>;
  clearCache?(): void;
}

interface Job {
  id: number;
  request: CompletionRequest;
  cancelled: boolean;
}

export function serveEngine(engine: ServedEngine): void {
  let running: Job | undefined;
  let waiting: Job | undefined;
  const send = (m: EngineMessage) => process.send?.(m);

  async function runJobs(): Promise<void> {
    while (waiting && !running) {
      const job = waiting;
      waiting = undefined;
      running = job;
      try {
        send({ type: 'done', id: job.id, result: job.cancelled ? cancelledResult() : await engine.complete(job.request, () => job.cancelled) });
      } catch (err) {
        send({ type: 'failed', id: job.id, message: (err as Error).stack ?? String(err) });
      } finally {
        running = undefined;
      }
    }
  }

  process.on('message', (message: unknown) => {
    if (!isHostMessage(message)) return;
    switch (message.type) {
      case 'load':
        engine.load(message.options.modelDir, message.options.threads).then(
          (info) => send({ type: 'loaded', info }),
          (err: Error) => send({ type: 'load-failed', message: err.stack ?? String(err) }),
        );
        break;
      case 'complete':
        if (running) running.cancelled = true;
        if (waiting) send({ type: 'done', id: waiting.id, result: cancelledResult() });
        waiting = { id: message.id, request: message.request, cancelled: false };
        void runJobs();
        break;
      case 'cancel':
        if (running?.id === message.id) running.cancelled = true;
        if (waiting?.id === message.id) waiting.cancelled = true;
        break;
      case 'clear-cache':
        engine.clearCache?.();
        break;
    }
  });
  process.on('disconnect', () => process.exit(0));
}
