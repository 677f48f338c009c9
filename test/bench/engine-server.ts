// The engine process's side of the protocol (src/engine/protocol.ts) for the benchmark's own
// engines, so the replay drives them through the real EngineClient exactly like Wisp's engine
// process: one generation at a time; a new request cancels the running one (checked between
// decode steps) and replaces a waiting one, which is answered as cancelled.
import type { CompletionRequest, CompletionResult, EngineInfo } from '../../src/engine/engine';
import type { EngineMessage } from '../../src/engine/process/protocol';
import { LatestJobQueue } from '../../src/engine/process/job-queue';
import { cancelledResult, isHostMessage } from '../../src/engine/process/protocol';

export interface ServedEngine {
  load(modelDir: string, threads: number | undefined): Promise<EngineInfo>;
  complete(request: CompletionRequest, isCancelled: () => boolean): Promise<CompletionResult>;
  clearCache?(): void;
}

export function serveEngine(engine: ServedEngine): void {
  const send = (m: EngineMessage) => process.send?.(m);
  const jobs = new LatestJobQueue<CompletionRequest>(
    async ({ id, payload, isCancelled }) => {
      try {
        send({ type: 'done', id, result: await engine.complete(payload, isCancelled) });
      } catch (err) {
        send({ type: 'failed', id, message: (err as Error).stack ?? String(err) });
      }
    },
    (id) => send({ type: 'done', id, result: cancelledResult() }),
  );

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
        jobs.submit(message.id, message.request);
        break;
      case 'cancel':
        jobs.cancel(message.id);
        break;
      case 'clear-cache':
        engine.clearCache?.();
        break;
    }
  });
  process.on('disconnect', () => process.exit(0));
}
