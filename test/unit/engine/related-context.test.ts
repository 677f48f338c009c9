import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { NgramIndex } from '../../../src/engine/context/context-cache';
import { Engine } from '../../../src/engine/engine';
import { RelatedContext } from '../../../src/engine/context/related-context';
import { TINY_MODEL } from '../fixture';

/** One token per character: enough to see what was indexed. */
const encodeChars = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

describe('related files in the context cache', () => {
  it('indexes in slices of at most sliceChars, cut at line ends, and stays within the token budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 10, max: 400 }),
        (texts, budget) => {
          const index = new NgramIndex();
          const sliced: string[] = [];
          const related = new RelatedContext(index, (t) => (sliced.push(t), encodeChars(t)), {
            budgetTokens: budget,
            maxFileChars: 250,
            sliceChars: 64,
          });
          related.set(texts.map((text, i) => ({ key: `f${i}`, version: 1, path: `f${i}.py`, weight: 0.25, text })));
          let steps = 0;
          while (related.step()) steps++;
          assert.ok(steps <= 6 * Math.ceil(250 / 8));
          assert.ok(index.documentTokens <= budget);
          for (const s of sliced) assert.ok(s.length <= 64);
          const wanted = texts.reduce((n, t) => n + Math.min(250, t.length), 0);
          assert.equal(index.documentTokens, Math.min(budget, wanted));
        },
      ),
    );
  });

  it('the most relevant file is indexed first, a dropped file is forgotten, a new version replaces the old', () => {
    const index = new NgramIndex();
    const related = new RelatedContext(index, encodeChars, { budgetTokens: 8, maxFileChars: 100, sliceChars: 100 });
    related.set([
      { key: 'a', version: 1, path: 'a.py', weight: 0.5, text: 'abcdef' },
      { key: 'b', version: 1, path: 'b.py', weight: 0.25, text: 'uvwxyz' },
    ]);
    related.indexAll();
    assert.deepEqual(index.predict(encodeChars('cd')).ids, encodeChars('e'));
    assert.equal(index.documentTokens, 8);
    assert.equal(index.predict(encodeChars('uv')).matched, 0); // past the budget
    related.set([{ key: 'b', version: 1, path: 'b.py', weight: 0.25, text: 'uvwxyz' }]);
    related.indexAll();
    assert.equal(index.predict(encodeChars('cd')).matched, 0);
    related.set([{ key: 'b', version: 2, path: 'b.py', weight: 0.25, text: 'uvQ' }]);
    related.indexAll();
    assert.deepEqual(index.predict(encodeChars('uv')).ids, encodeChars('Q'));
    assert.equal(index.documentTokens, 3);
  });

  it('a listed file the engine does not hold and that comes without text is skipped', () => {
    const index = new NgramIndex();
    const related = new RelatedContext(index, encodeChars);
    related.set([{ key: 'a', version: 3, path: 'a.py', weight: 0.5 }]);
    assert.equal(related.fileCount, 0);
    related.set([{ key: 'a', version: 3, path: 'a.py', weight: 0.5, text: 'xyz' }]);
    related.set([{ key: 'a', version: 3, path: 'a.py', weight: 0.25 }]);
    related.indexAll();
    assert.equal(related.fileCount, 1);
    assert.equal(index.predict(encodeChars('xy')).evidence, 0.25);
  });

  describe('in the engine (random-weight model)', () => {
    let engine: Engine;
    before(async () => {
      engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    });
    after(() => engine.dispose());
    const request = {
      prefix: 'value = frobnicate_',
      suffix: '',
      sampling: { temperature: 0, topK: 0, topP: 1 },
      seed: 0,
      maxNewTokens: 8,
      stop: ['\n'],
      timeBudgetMs: 60_000,
      contextTokens: 200,
      contextCacheWeight: 0.9,
    };

    it('completes a name that only another open file contains', async () => {
      const before = await engine.complete(request);
      assert.ok(!before.text.startsWith('widget'), JSON.stringify(before.text));
      engine.setContextFiles([
        {
          key: 'other',
          version: 1,
          path: 'lib.py',
          weight: 0.5,
          text: 'def frobnicate_widget(a, b):\n    return frobnicate_widget(b, a)\n',
        },
      ]);
      while (engine.indexContextStep());
      const after = await engine.complete(request);
      assert.ok(after.text.startsWith('widget('), JSON.stringify(after.text));
      assert.ok((after.stats.relatedTokens ?? 0) > 0);
      engine.setContextFiles([]);
      const again = await engine.complete(request);
      assert.equal(again.text, before.text);
      assert.equal(again.stats.relatedTokens, 0);
    });
  });
});
