// The engine process under a real EngineClient: requests, cancellation, supersession and crashes.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { EngineClient, EngineCrashedError, EngineState } from '../../../src/engine/process/engine-client';
import type { CompletionRequest } from '../../../src/engine/engine';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const ENGINE = path.join(REPO_ROOT, 'dist', 'engine.js');

const request: CompletionRequest = {
  prefix: 'def add(a, b):\n    return',
  suffix: '\n',
  sampling: { temperature: 0, topK: 0, topP: 1 },
  seed: 0,
  maxNewTokens: 8,
  stop: [],
  timeBudgetMs: 30_000,
  contextTokens: 200,
};

const longRequest: CompletionRequest = { ...request, maxNewTokens: 200, contextTokens: 40 };

function waitFor(client: EngineClient, status: EngineState['status'], timeoutMs = 20_000): Promise<EngineState> {
  return new Promise((resolve, reject) => {
    if (client.state.status === status) return resolve(client.state);
    const timer = setTimeout(() => reject(new Error(`state stayed ${client.state.status}`)), timeoutMs);
    const sub = client.onStateChange((s) => {
      if (s.status === status) {
        clearTimeout(timer);
        sub.dispose();
        resolve(s);
      }
    });
  });
}

describe('engine client and process', () => {
  let client: EngineClient | undefined;
  afterEach(() => client?.dispose());

  it('loads the model and completes like the in-process engine', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    const info = await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    assert.equal(info.fim, true);
    const first = await client.complete(request);
    const second = await client.complete(request);
    assert.ok(first && second);
    assert.equal(first.text, second.text);
    assert.equal(second.stats.reusedTokens, second.stats.promptTokens - 1);
  });

  it('says precisely why a model folder cannot load', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    await assert.rejects(
      client.load({ modelDir: '/nonexistent/model', device: 'cpu' }),
      /does not exist: \/nonexistent\/model/,
    );
    assert.equal(client.state.status, 'error');
  });

  it('a newer request supersedes the one in flight; cancelled requests resolve undefined', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    const older = client.complete(longRequest);
    const abort = new AbortController();
    const middle = client.complete(longRequest, { signal: abort.signal });
    abort.abort();
    const newest = client.complete(request);
    assert.equal(await older, undefined);
    assert.equal(await middle, undefined);
    assert.ok(await newest);
    assert.equal(client.inFlight, 0);
  });

  it('streams partial text', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    const partials: string[] = [];
    const result = await client.complete({ ...request, maxNewTokens: 20 }, { onPartial: (t) => partials.push(t) });
    assert.ok(result && partials.length > 0);
    assert.ok(
      result.text.startsWith(partials[partials.length - 1]) || partials[partials.length - 1].startsWith(result.text),
    );
  });

  it('restarts after SIGKILL mid-generation, says so in the log and answers the next request', async () => {
    const lines: string[] = [];
    client = new EngineClient({ enginePath: ENGINE, log: (line) => lines.push(line), restartDelayMs: 50 });
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    const pid = client.pid!;
    // Killed on the first streamed text, so the generation is surely running however fast it is.
    let killed = false;
    const kill = () => {
      if (!killed) process.kill(pid, 'SIGKILL');
      killed = true;
    };
    const inFlight = client.complete(longRequest, { onPartial: kill });
    await assert.rejects(inFlight, EngineCrashedError);
    await waitFor(client, 'ready');
    assert.notEqual(client.pid, pid);
    assert.ok(await client.complete(request));
    const ready = lines.filter((l) => l.startsWith('model ready: '));
    assert.equal(ready.length, 2, `"model ready" after the first load and after the restart:\n${lines.join('\n')}`);
    assert.ok(lines.lastIndexOf(ready[1]) > lines.findIndex((l) => l.startsWith('engine process ended')));
  });

  it('related files reach the engine before a model loads, and again after a crash', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {}, restartDelayMs: 50 });
    client.setContextFiles([
      { key: 'lib', version: 1, path: 'lib.py', weight: 0.5, text: 'def frobnicate_widget(a, b):\n    return a\n' },
    ]);
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    // indexing runs while the engine is idle, a slice at a time
    const indexed = async () => {
      for (let i = 0; i < 50; i++) {
        const tokens = (await client!.complete(request))?.stats.relatedTokens ?? 0;
        if (tokens > 0) return tokens;
        await new Promise((r) => setTimeout(r, 20));
      }
      return 0;
    };
    const before = await indexed();
    assert.ok(before > 0);
    process.kill(client.pid!, 'SIGKILL');
    await waitFor(client, 'loading');
    await waitFor(client, 'ready');
    assert.equal(await indexed(), before);
    client.setContextFiles([]);
    assert.equal((await client.complete(request))?.stats.relatedTokens, 0);
  });

  it('repeated crashes leave it disabled until retry', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {}, restartDelayMs: 20, maxCrashes: 2 });
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    process.kill(client.pid!, 'SIGKILL');
    await waitFor(client, 'loading');
    await waitFor(client, 'ready');
    process.kill(client.pid!, 'SIGKILL');
    const disabled = await waitFor(client, 'disabled');
    assert.match(disabled.message ?? '', /crashed 2 times/);
    await assert.rejects(client.complete(request), /crashed/);
    await client.retry();
    assert.ok(await client.complete(request));
  });
});
