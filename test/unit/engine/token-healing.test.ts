import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NgramIndex } from '../../../src/engine/context/context-cache';
import { CompletionRequest, Engine } from '../../../src/engine/engine';
import { generate } from '../../../src/engine/decode/generate';
import { buildPrompt, prefixEnd } from '../../../src/engine/prompt-format';
import { GREEDY } from '../../../src/shared/sampler';
import { TokenHealer } from '../../../src/engine/decode/token-healing';
import { TINY_MODEL } from '../fixture';

describe('token healing', () => {
  it('generation first restores the text taken back, in one token or several, which are not counted nor returned', async () => {
    // vocabulary: 0 "a", 1 "b", 2 "ab", 3 "abc", 4 "x"
    const texts = ['a', 'b', 'ab', 'abc', 'x'];
    const decode = (ids: number[]) => ids.map((id) => texts[id]).join('');
    const healer = new TokenHealer(decode, 5, 5, new Set());
    const prompt = { ids: [2], headerTokens: 0, prefixTokens: 1, suffixTokens: 0, truncated: false, fim: false };
    const healed = healer.heal(prompt, 'psm')!;
    assert.deepEqual(healed.prompt.ids, []);
    assert.equal(healed.healing.text, 'ab');
    assert.deepEqual([...healed.healing.allowedFor('ab')], [1, 0, 1, 1, 0]);
    assert.deepEqual([...healed.healing.allowedFor('b')], [0, 1, 0, 0, 0]);
    // the model prefers "x", then "a": it must restore "ab" first, as "a" + "b"
    const logits = () => Float32Array.from([3, 0, 1, 2, 5]);
    const result = await generate({ feed: async () => logits() }, { decode }, logits(), {
      sampling: GREEDY,
      seed: 0,
      maxNewTokens: 1,
      stop: [],
      stopIds: new Set(),
      timeBudgetMs: 10_000,
      startedAt: performance.now(),
      roomLeft: 100,
      isCancelled: () => false,
      healing: healed.healing,
    });
    assert.deepEqual(result.tokens, [0, 1, 4]);
    assert.equal(result.text, 'x');
  });

  describe('on the fixture tokenizer', () => {
    let engine: Engine;
    before(async () => {
      engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    });
    after(() => engine.dispose());

    it("takes back the prefix's last token, in PSM and SPM order, and allows exactly the tokens that start with its text or are a start of it", () => {
      const { tokenizer } = engine;
      const healer = new TokenHealer(
        (ids) => tokenizer.decode(ids),
        tokenizer.size,
        engine.session.layout.vocabSize,
        tokenizer.stopIds,
      );
      for (const order of ['psm', 'spm'] as const) {
        const prompt = buildPrompt(
          { encode: (t) => tokenizer.encode(t), fim: tokenizer.fim, fimOrder: order },
          'def f(x):\n    return x\n',
          'print(f(1))\n',
          { contextTokens: 200, suffixShare: 0.25 },
        );
        const last = prompt.ids[prefixEnd(prompt, order) - 1];
        const healed = healer.heal(prompt, order)!;
        assert.equal(healed.healing.text, tokenizer.decode([last]));
        assert.deepEqual(
          healed.prompt.ids,
          prompt.ids.filter((_, i) => i !== prefixEnd(prompt, order) - 1),
        );
        assert.equal(prefixEnd(healed.prompt, order), prefixEnd(prompt, order) - 1);
        const allowed = healed.healing.allowedFor(healed.healing.text);
        assert.equal(allowed[last], 1);
        for (let id = 0; id < tokenizer.size; id++) {
          const t = tokenizer.decode([id]);
          const fits =
            !tokenizer.stopIds.has(id) &&
            t.length > 0 &&
            (t.startsWith(healed.healing.text) || healed.healing.text.startsWith(t));
          assert.equal(allowed[id] === 1, fits, `token ${id}`);
        }
      }
    });

    it('the context cache, at the healed step, predicts only allowed tokens and backs off to find one', () => {
      const index = new NgramIndex();
      index.update([5, 6, 7, 5, 6, 8, 9, 5, 6]);
      const allowed = new Uint8Array(10);
      allowed[9] = 1;
      const p = index.predict([5, 6], allowed);
      assert.deepEqual(p.ids, [9]);
      assert.equal(p.matched, 0);
    });

    const request: CompletionRequest = {
      prefix: 'if a:\n    b = 1\n    c = 2\n',
      suffix: '',
      sampling: GREEDY,
      seed: 0,
      maxNewTokens: 6,
      stop: [],
      timeBudgetMs: 60_000,
      contextTokens: 200,
      contextCacheWeight: 0.5,
    };

    it('with the context cache, a random model writes the next line like the line above it', async () => {
      const r = await engine.complete(request);
      assert.ok(r.text.startsWith('    c = 2'), JSON.stringify(r.text));
      const alone = await engine.complete({ ...request, contextCacheWeight: 0 });
      assert.ok(!alone.text.startsWith('    c = '), JSON.stringify(alone.text));
    });

    it('off, the prompt is fed as tokenized', async () => {
      const on = await engine.complete({ ...request, contextCacheWeight: 0 });
      const off = await engine.complete({ ...request, contextCacheWeight: 0, tokenHealing: false });
      assert.equal(off.stats.promptTokens, on.stats.promptTokens + 1);
    });
  });
});
