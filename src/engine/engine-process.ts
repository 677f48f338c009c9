// Entry point of the engine process, forked by the extension host. onnxruntime's `run` is
// synchronous native code: here it can block only this process, and a crash in it kills only this
// process, which the host restarts.
//
// One generation runs at a time. A request that arrives while one runs cancels it (the user has
// typed on) and waits; a newer request replaces a waiting one, which is answered as cancelled.
// The token view's inspections run only when no generation runs or waits, and a generation that
// arrives during one waits for it (one short prefill), so the view never takes a suggestion's turn.
import { Engine } from './engine';
import { inspect } from './inspect';
import { EngineMessage, HostMessage, cancelledResult, isHostMessage } from './protocol';

interface Job {
  id: number;
  message: Extract<HostMessage, { type: 'complete' }>;
  cancelled: boolean;
}

let engine: Engine | undefined;
let running: Job | undefined;
let waiting: Job | undefined;
let inspecting: Promise<void> | undefined;

function send(message: EngineMessage): void {
  process.send?.(message);
}

async function runJobs(): Promise<void> {
  while (waiting && !running && !inspecting) {
    const job = waiting;
    waiting = undefined;
    running = job;
    try {
      if (!engine) throw new Error('no model is loaded');
      if (job.cancelled) {
        send({ type: 'done', id: job.id, result: cancelledResult() });
      } else {
        const result = await engine.complete(job.message.request, {
          isCancelled: () => job.cancelled,
          onText: job.message.stream ? (text) => send({ type: 'partial', id: job.id, text }) : undefined,
        });
        send({ type: 'done', id: job.id, result });
      }
    } catch (err) {
      send({ type: 'failed', id: job.id, message: (err as Error).message });
    } finally {
      running = undefined;
    }
  }
}

async function runInspection(message: Extract<HostMessage, { type: 'inspect' }>): Promise<void> {
  if (!engine) {
    send({ type: 'inspected', id: message.id, answer: { status: 'skipped', reason: 'no model is loaded' } });
    return;
  }
  if (running || waiting || inspecting) {
    send({ type: 'inspected', id: message.id, answer: { status: 'skipped', reason: 'the engine is busy' } });
    return;
  }
  const current = engine;
  inspecting = (async () => {
    try {
      send({ type: 'inspected', id: message.id, answer: { status: 'done', view: await inspect(current, message.request) } });
    } catch (err) {
      send({ type: 'inspected', id: message.id, answer: { status: 'failed', message: (err as Error).message } });
    }
  })();
  await inspecting;
  inspecting = undefined;
  void runJobs();
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
      if (running) running.cancelled = true;
      if (waiting) {
        send({ type: 'done', id: waiting.id, result: cancelledResult() });
      }
      waiting = { id: message.id, message, cancelled: false };
      void runJobs();
      break;
    case 'cancel':
      if (running?.id === message.id) running.cancelled = true;
      if (waiting?.id === message.id) waiting.cancelled = true;
      break;
    case 'clear-cache':
      engine?.clearCache();
      break;
    case 'inspect':
      void runInspection(message);
      break;
  }
}

process.on('message', onMessage);
// The host going away (window closed, extension host crashed) must not leave an orphan behind.
process.on('disconnect', () => process.exit(0));
