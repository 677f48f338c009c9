// KV reuse must be exact: the logits after feeding a sequence piecewise through the cache equal a
// full prefill of the same tokens, and greedy generation is the same with and without reuse.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import { fullPrefill, maxAbsDiff, viaCache } from './kv-checks';
import { GREEDY } from '../../../src/shared/sampler';
import { TINY_MODEL } from '../fixture';

const TOLERANCE = 1e-4;

describe('KV cache reuse (tiny-gpt fixture, fp32)', () => {
  let engine: Engine;
  const reference = JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'reference.json'), 'utf8'));
  const promptIds: number[] = reference.prompt_ids;

  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(async () => engine.dispose());

  it('matches the logits torch computed for the same weights', async () => {
    const logits = await fullPrefill(engine, promptIds);
    reference.last_logits_first8.forEach((v: number, i: number) => assert.ok(Math.abs(logits[i] - v) < 1e-3));
  });

  it('appending 1, 2 and 3 tokens feeds only those and matches a full prefill', async () => {
    engine.clearCache();
    await viaCache(engine, promptIds.slice(0, 20));
    for (const n of [21, 23, 26]) {
      const ids = promptIds.slice(0, n);
      const { logits, reused } = await viaCache(engine, ids);
      assert.ok(reused >= n - 3, `reused ${reused} of ${n}`);
      assert.ok(maxAbsDiff(logits, await fullPrefill(engine, ids)) <= TOLERANCE);
    }
  });

  it('backspace truncates the cache and stays exact', async () => {
    engine.clearCache();
    await viaCache(engine, promptIds);
    const shorter = promptIds.slice(0, promptIds.length - 2);
    const { logits, reused } = await viaCache(engine, shorter);
    assert.equal(reused, shorter.length - 1);
    assert.ok(maxAbsDiff(logits, await fullPrefill(engine, shorter)) <= TOLERANCE);
  });

  it('an edit in the middle reuses only the common prefix and stays exact', async () => {
    engine.clearCache();
    await viaCache(engine, promptIds);
    const edited = promptIds.slice();
    edited[15] = (edited[15] + 7) % 500;
    const { logits, reused } = await viaCache(engine, edited);
    assert.equal(reused, 15);
    assert.ok(maxAbsDiff(logits, await fullPrefill(engine, edited)) <= TOLERANCE);
  });

  it('switching between two documents keeps both warm', async () => {
    engine.clearCache();
    const docA = promptIds;
    const docB = promptIds.slice().reverse();
    await viaCache(engine, docA);
    await viaCache(engine, docB);
    const backToA = await viaCache(engine, docA.concat([42]));
    assert.equal(backToA.reused, docA.length);
    assert.ok(maxAbsDiff(backToA.logits, await fullPrefill(engine, docA.concat([42]))) <= TOLERANCE);
    const backToB = await viaCache(engine, docB.concat([43]));
    assert.equal(backToB.reused, docB.length);
  });

  it('greedy generation with reuse equals generation without it, token for token', async () => {
    engine.clearCache();
    const prefix = reference.prompt as string;
    const request = {
      suffix: '',
      sampling: GREEDY,
      seed: 0,
      maxNewTokens: 12,
      stop: [],
      timeBudgetMs: 60_000,
      contextTokens: 200,
    };
    for (let cut = prefix.length - 6; cut <= prefix.length; cut += 2) {
      const withReuse = await engine.complete({ ...request, prefix: prefix.slice(0, cut) });
      const without = await engine.complete({ ...request, prefix: prefix.slice(0, cut), reuseCache: false });
      assert.equal(withReuse.text, without.text);
      assert.equal(without.stats.reusedTokens, 0);
      if (cut > prefix.length - 6) assert.ok(withReuse.stats.reusedTokens > 0);
    }
  });

  it('reproduces the greedy continuation torch computed', async () => {
    engine.clearCache();
    const { stepper, logits } = await engine.prefill(promptIds, false);
    const out: number[] = [];
    let l = logits;
    for (let i = 0; i < reference.greedy_next_8.length; i++) {
      let best = 0;
      for (let j = 1; j < l.length; j++) if (l[j] > l[best]) best = j;
      out.push(best);
      l = await stepper.feed([best]);
    }
    assert.deepEqual(out, reference.greedy_next_8);
  });
});
