// The generation loop's stop conditions, on the fixture model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompletionRequest, Engine } from '../../../src/engine/engine';
import { generate } from '../../../src/engine/decode/generate';
import { GREEDY } from '../../../src/shared/sampler';
import { runFilters } from '../../../src/completion/postprocess';
import { TINY_MODEL } from '../fixture';

const base: CompletionRequest = {
  prefix: 'class Stack:\n    def push(self, item):\n        ',
  suffix: '',
  sampling: { temperature: 0, topK: 0, topP: 1 },
  seed: 0,
  maxNewTokens: 30,
  stop: [],
  timeBudgetMs: 60_000,
  contextTokens: 200,
};

describe('generation loop', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(() => engine.dispose());

  it('stops at the token budget; the token that restores what token healing took back is not counted', async () => {
    const r = await engine.complete({ ...base, maxNewTokens: 5, tokenHealing: false });
    assert.equal(r.stats.generatedTokens, 5);
    assert.equal(r.stats.stopReason, 'length');
    const healed = await engine.complete({ ...base, maxNewTokens: 5 });
    assert.ok(healed.stats.generatedTokens > 5, `${healed.stats.generatedTokens} tokens`);
    assert.equal(healed.stats.promptTokens, r.stats.promptTokens - 1);
  });

  it('stops at a stop string, which is not part of the text', async () => {
    const full = await engine.complete(base);
    const stop = full.text.slice(3, 5);
    const r = await engine.complete({ ...base, stop: [stop] });
    assert.equal(r.stats.stopReason, 'stop');
    assert.equal(r.text, full.text.slice(0, full.text.indexOf(stop)));
  });

  it('stops where the filters would cut the rest: the same text shown, fewer tokens', async () => {
    const long = { ...base, prefix: 'function add(a, b) {\n  ', maxNewTokens: 40, tokenHealing: false };
    const full = await engine.complete(long);
    assert.match(full.text, /\n\s*\S/, `the fixture model wrote one line only: ${JSON.stringify(full.text)}`);
    // Every later line is indented less than this: the scope ends at the first of them.
    const editor = { linePrefix: ' '.repeat(40), lineSuffix: '', nextLines: [] };
    const early = await engine.complete({ ...long, editor });
    assert.equal(early.stats.stopReason, 'filter');
    assert.ok(early.stats.generatedTokens < full.stats.generatedTokens);
    const ctx = {
      ...editor,
      style: { eol: '\n' as const, insertSpaces: true, tabSize: 4 },
      multiline: 'always' as const,
    };
    assert.equal(runFilters(early.text, ctx).text, runFilters(full.text, ctx).text);
  });

  it('stops at the time budget', async () => {
    const r = await engine.complete({ ...base, maxNewTokens: 200, timeBudgetMs: 1 });
    assert.equal(r.stats.stopReason, 'time');
    assert.ok(r.stats.generatedTokens < 200);
  });

  it('stops when cancelled between steps', async () => {
    let steps = 0;
    const r = await engine.complete({ ...base, maxNewTokens: 200 }, { isCancelled: () => ++steps > 3 });
    assert.equal(r.stats.stopReason, 'cancelled');
    assert.equal(r.stats.generatedTokens, 4);
  });

  it('the same seed samples the same text; another seed differs', async () => {
    const sampled = { ...base, sampling: { temperature: 1.5, topK: 0, topP: 1 } };
    const a = await engine.complete({ ...sampled, seed: 1 });
    const b = await engine.complete({ ...sampled, seed: 1 });
    const c = await engine.complete({ ...sampled, seed: 2 });
    assert.equal(a.text, b.text);
    assert.notEqual(a.text, c.text);
  });

  it('a first line that is the next line is generated again with its first token banned', async () => {
    const request = { ...base, maxNewTokens: 20, maxLines: 1, tokenHealing: false };
    const plain = await engine.complete(request);
    const line = plain.text.trim();
    assert.ok(line, 'the fixture model wrote a line');
    // the document's next line is what the model writes first: the filters would drop it
    const editor = { linePrefix: '        ', lineSuffix: '', nextLines: [`        ${line}`] };
    const kept = await engine.complete({ ...request, editor });
    assert.equal(kept.text.trim(), line);
    const again = await engine.complete({ ...request, editor, retryRepeatedLine: true });
    assert.ok(again.text.trim(), 'something to show');
    assert.notEqual(again.text.trim().split('\n')[0], line);
    assert.ok(again.stats.generatedTokens > kept.stats.generatedTokens, 'both generations are counted');
    assert.equal(again.stats.setAsideTokens, kept.stats.generatedTokens);
    assert.equal(kept.stats.setAsideTokens, undefined);
    // and the KV cache it leaves is exact: the next keystroke's reuse gives a fresh prefill's text
    const next = await engine.complete({ ...request, prefix: `${base.prefix}s` });
    engine.clearCache();
    assert.equal(next.text, (await engine.complete({ ...request, prefix: `${base.prefix}s` })).text);
  });

  it('no second generation when the first line is not the next line', async () => {
    const request = { ...base, maxNewTokens: 20, maxLines: 1, tokenHealing: false };
    const editor = { linePrefix: '        ', lineSuffix: '', nextLines: ['        something_else()'] };
    const plain = await engine.complete({ ...request, editor });
    const retried = await engine.complete({ ...request, editor, retryRepeatedLine: true });
    assert.equal(retried.text, plain.text);
    assert.equal(retried.stats.generatedTokens, plain.stats.generatedTokens);
  });

  it('the cache stays within its entry bound', async () => {
    for (let i = 0; i < 10; i++)
      await engine.complete({ ...base, prefix: `# file ${i}\n` + 'x = 1\n'.repeat(i + 1), maxNewTokens: 2 });
    assert.ok(engine.cachedSequences <= 4);
  });
  it('prompt lookup drafts give the same greedy text in fewer steps, and the KV cache is left exact', async () => {
    const prefix =
      'def area(w, h):\n    return w * h\n\n\ndef area2(w, h):\n    return w * h\n\n\ndef area3(w, h):\n    return w * h\n\n\ndef area4(';
    for (const contextCacheWeight of [0, 0.5]) {
      const request = { ...base, prefix, maxNewTokens: 24, contextCacheWeight };
      engine.clearCache();
      const plain = await engine.complete({ ...request, promptLookup: false });
      engine.clearCache();
      const drafted = await engine.complete(request);
      assert.equal(drafted.text, plain.text, `cache weight ${contextCacheWeight}`);
      assert.equal(drafted.stats.generatedTokens, plain.stats.generatedTokens);
      if (contextCacheWeight > 0) assert.ok((drafted.stats.draftedTokens ?? 0) > 0, JSON.stringify(drafted.stats));
      // what the cache kept from the drafted run must match a fresh prefill: a next request reuses it
      const next = await engine.complete({ ...request, prefix: `${prefix}w` });
      engine.clearCache();
      const fresh = await engine.complete({ ...request, prefix: `${prefix}w` });
      assert.equal(next.text, fresh.text);
    }
  });
});

describe('padded output layers', () => {
  it('ids past the tokenizer (a padded vocabulary) are never drawn', async () => {
    const qwen = await Engine.load({ modelDir: `${TINY_MODEL}/../families/qwen2`, device: 'cpu', threads: 1 });
    try {
      assert.ok(qwen.session.layout.vocabSize > qwen.tokenizer.size, 'the fixture pads its output layer');
      const adjust = qwen['logitAdjuster'](undefined)!;
      const logits = new Float32Array(qwen.session.layout.vocabSize).fill(0);
      logits[qwen.session.layout.vocabSize - 1] = 100;
      const adjusted = adjust(logits, []);
      for (let i = qwen.tokenizer.size; i < adjusted.length; i++) assert.equal(adjusted[i], -Infinity);
      const r = await qwen.complete({ ...base, sampling: { temperature: 3, topK: 0, topP: 1 }, maxNewTokens: 40 });
      assert.ok(r.stats.generatedTokens > 0);
    } finally {
      await qwen.dispose();
    }
  });
});

describe('repetition loops in the generation loop', () => {
  it('stop a generation that repeats itself, keeping one copy', async () => {
    // vocabulary: 0 "0", 1 " : "; the model alternates between them forever
    const texts = ['0', ' : '];
    let step = 0;
    const next = () => Float32Array.from(step++ % 2 === 0 ? [0, 1] : [1, 0]);
    const result = await generate(
      { feed: async () => next() },
      { decode: (ids) => ids.map((id) => texts[id]).join('') },
      Float32Array.from([1, 0]),
      {
        sampling: GREEDY,
        seed: 0,
        maxNewTokens: 200,
        stop: [],
        stopIds: new Set(),
        timeBudgetMs: 10_000,
        startedAt: performance.now(),
        roomLeft: 1000,
        isCancelled: () => false,
      },
    );
    assert.equal(result.stopReason, 'loop');
    assert.equal(result.text, '0');
    assert.ok(result.tokens.length < 20, `${result.tokens.length} tokens`);
  });
});

describe('a banned token', () => {
  it('is never chosen at its step, and only there', async () => {
    // vocabulary: 0 "a", 1 "b", 2 end; the model always prefers "a", then "b"
    const run = (ban?: { step: number; token: number }) =>
      generate(
        { feed: async () => Float32Array.from([2, 1, 0]) },
        { decode: (ids) => ids.map((id) => 'ab'[id]).join('') },
        Float32Array.from([2, 1, 0]),
        {
          sampling: GREEDY,
          seed: 0,
          maxNewTokens: 4,
          stop: [],
          stopIds: new Set([2]),
          timeBudgetMs: 10_000,
          startedAt: performance.now(),
          roomLeft: 1000,
          isCancelled: () => false,
          ban,
        },
      );
    assert.equal((await run()).text, 'aaaa');
    const banned = await run({ step: 1, token: 0 });
    assert.equal(banned.text, 'abaa');
    // its probability is the model's, not renormalised over what the ban left
    const logits = [2, 1, 0];
    const lse = Math.log(logits.reduce((sum, x) => sum + Math.exp(x), 0));
    assert.ok(Math.abs(banned.logprobs[1].logprob - (1 - lse)) < 1e-6, `${banned.logprobs[1].logprob}`);
  });
});
