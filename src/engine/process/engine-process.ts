// Entry point of the engine process, forked by the extension host. onnxruntime's `run` is
// synchronous native code: here it can block only this process, and a crash in it kills only this
// process, which the host restarts.
//
// One generation runs at a time. A request that arrives while one runs cancels it (the user has
// typed on) and waits; a newer request replaces a waiting one, which is answered as cancelled.
// The token view's inspections run only when no generation runs or waits, and a generation that
// arrives during one waits for it (one short prefill), so the view never takes a suggestion's turn.
// Indexing the related files (related-context.ts) runs in slices of a few milliseconds, only while
// nothing else runs or waits.
import { Engine } from '../engine';
import { inspect } from '../inspect';
import { LatestJobQueue, RunningJob } from './job-queue';
import { EngineMessage, HostMessage, cancelledResult, isHostMessage } from './protocol';

type CompleteMessage = Extract<HostMessage, { type: 'complete' }>;

let engine: Engine | undefined;
let inspecting: Promise<void> | undefined;
let indexingScheduled = false;
/** While requests keep the engine busy, indexing looks again after this long. */
const INDEXING_RETRY_MS = 50;

function send(message: EngineMessage): void {
  process.send?.(message);
}

async function runCompletion({ id, payload, isCancelled }: RunningJob<CompleteMessage>): Promise<void> {
  try {
    if (!engine) throw new Error('no model is loaded');
    const result = await engine.complete(payload.request, {
      isCancelled,
      onText: payload.stream ? (text) => send({ type: 'partial', id, text }) : undefined,
    });
    send({ type: 'done', id, result });
  } catch (err) {
    send({ type: 'failed', id, message: (err as Error).message });
  }
}

const completions = new LatestJobQueue<CompleteMessage>(
  runCompletion,
  (id) => send({ type: 'done', id, result: cancelledResult() }),
  () => inspecting !== undefined,
);

async function runInspection(message: Extract<HostMessage, { type: 'inspect' }>): Promise<void> {
  if (!engine) {
    send({ type: 'inspected', id: message.id, answer: { status: 'skipped', reason: 'no model is loaded' } });
    return;
  }
  if (completions.busy || inspecting) {
    send({ type: 'inspected', id: message.id, answer: { status: 'skipped', reason: 'the engine is busy' } });
    return;
  }
  const current = engine;
  inspecting = (async () => {
    try {
      send({
        type: 'inspected',
        id: message.id,
        answer: { status: 'done', view: await inspect(current, message.request) },
      });
    } catch (err) {
      send({ type: 'inspected', id: message.id, answer: { status: 'failed', message: (err as Error).message } });
    }
  })();
  await inspecting;
  inspecting = undefined;
  void completions.drain();
}

function scheduleIndexing(delayMs = 0): void {
  if (indexingScheduled) return;
  indexingScheduled = true;
  const run = () => {
    indexingScheduled = false;
    if (!engine) return;
    if (completions.busy || inspecting) scheduleIndexing(INDEXING_RETRY_MS);
    else if (engine.indexContextStep()) scheduleIndexing();
  };
  if (delayMs > 0) setTimeout(run, delayMs);
  else setImmediate(run);
}

async function load(message: Extract<HostMessage, { type: 'load' }>): Promise<void> {
  const previous = engine;
  engine = undefined;
  await previous?.dispose();
  try {
    engine = await Engine.load(message.options);
    send({ type: 'loaded', info: engine.info() });
  } catch (err) {
    send({ type: 'load-failed', message: (err as Error).message });
  }
}

function onMessage(message: unknown): void {
  if (!isHostMessage(message)) return;
  switch (message.type) {
    case 'load':
      void load(message);
      break;
    case 'complete':
      completions.submit(message.id, message);
      break;
    case 'cancel':
      completions.cancel(message.id);
      break;
    case 'clear-cache':
      engine?.clearCache();
      break;
    case 'inspect':
      void runInspection(message);
      break;
    case 'context-files':
      engine?.setContextFiles(message.files);
      scheduleIndexing();
      break;
  }
}

process.on('message', onMessage);
// The host going away (window closed, extension host crashed) must not leave an orphan behind.
process.on('disconnect', () => process.exit(0));
