// The token view's requests through the real engine process: answered from the completion
// engine when it is idle, skipped (not queued) while a completion runs, and never in its way.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { CompletionRequest } from '../../../src/engine/engine';
import { EngineClient } from '../../../src/engine/process/engine-client';
import type { InspectRequest } from '../../../src/engine/inspect';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const ENGINE = path.join(REPO_ROOT, 'dist', 'engine.js');

const completion: CompletionRequest = {
  prefix: 'def add(a, b):\n    return',
  suffix: '\n',
  sampling: { temperature: 0, topK: 0, topP: 1 },
  seed: 0,
  maxNewTokens: 200,
  stop: [],
  timeBudgetMs: 30_000,
  contextTokens: 40,
};

const inspection: InspectRequest = {
  prefix: completion.prefix,
  suffix: completion.suffix,
  sampling: { temperature: 0.7, topK: 10, topP: 0.9 },
  contextTokens: completion.contextTokens,
  maxNewTokens: completion.maxNewTokens,
  drawn: [],
  suggestion: '',
};

describe('inspect through the engine process', () => {
  let client: EngineClient | undefined;
  afterEach(() => client?.dispose());

  it('answers from the cache the completion left, and is skipped while a completion runs', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    assert.ok(await client.complete({ ...completion, maxNewTokens: 4 }));
    const idle = await client.inspect(inspection);
    assert.equal(idle.status, 'done');
    assert.ok(
      idle.status === 'done' && idle.view.computedTokens <= 1,
      JSON.stringify(idle.status === 'done' && idle.view.computedTokens),
    );

    const running = client.complete(completion);
    const during = await client.inspect(inspection);
    assert.deepEqual(during, { status: 'skipped', reason: 'the engine is busy' });
    assert.ok(await running, 'the completion was not disturbed');
    assert.equal(client.inFlight, 0);
  });

  it('a completion that arrives during an inspection waits for it and then runs', async () => {
    client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    const inspected = client.inspect({ ...inspection, suggestion: ' a + b' });
    const completed = client.complete({ ...completion, maxNewTokens: 4 });
    assert.equal((await inspected).status, 'done');
    const result = await completed;
    assert.ok(result && result.stats.generatedTokens > 0);
  });
});
