import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type CachePrediction,
  ContextMixer,
  NgramIndex,
  mixIntoLogits,
  mixingWeight,
  recentContinuation,
  withRecentCopy,
} from '../../../src/engine/context/context-cache';
import { argmax } from '../../../src/shared/sampler';
import { Engine } from '../../../src/engine/engine';
import { TINY_MODEL } from '../fixture';

const tokens = fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 80 });

describe('context cache', () => {
  const asMap = (p: { ids: number[]; probs: number[] }) => new Map(p.ids.map((id, i) => [id, p.probs[i]]));
  const samePrediction = (x: ReturnType<NgramIndex['predict']>, y: ReturnType<NgramIndex['predict']>) => {
    assert.ok(Math.abs(x.evidence - y.evidence) < 1e-9, `evidence ${x.evidence} vs ${y.evidence}`);
    const mx = asMap(x);
    assert.equal(mx.size, y.ids.length);
    for (const [id, prob] of asMap(y)) assert.ok(Math.abs((mx.get(id) ?? 0) - prob) < 1e-9);
  };

  it('predicts the continuation of a repeated pattern', () => {
    const index = new NgramIndex();
    index.update([1, 2, 3, 4, 9, 9, 1, 2, 3]);
    const p = index.predict();
    assert.equal(p.ids[p.probs.indexOf(Math.max(...p.probs))], 4);
    assert.ok(p.evidence >= 1);
  });

  it('falls back to token frequencies when no context matches, at a small weight', () => {
    const index = new NgramIndex();
    index.update([4, 4, 4, 5]);
    const p = index.predict([9]);
    assert.equal(p.matched, 0);
    assert.equal(p.ids[p.probs.indexOf(Math.max(...p.probs))], 4);
    const strong = index.predict([4, 4]);
    assert.ok(mixingWeight(0.5, p) < mixingWeight(0.5, strong) / 4);
  });

  it('never predicts a barrier token, nor continues across one', () => {
    const index = new NgramIndex(new Set([0]));
    index.update([5, 6, 7, 0, 8, 5, 6]);
    const p = index.predict();
    assert.deepEqual(p.ids, [7]);
    const q = index.predict([6, 7]);
    assert.equal(q.ids.includes(0), false);
  });

  it('an incrementally updated index predicts exactly like one built from scratch', () => {
    fc.assert(
      fc.property(tokens, tokens, fc.nat(80), (a, b, cut) => {
        const edited = a.slice(0, Math.min(cut, a.length)).concat(b);
        const incremental = new NgramIndex(new Set([0]));
        incremental.update(a);
        incremental.update(edited);
        const fresh = new NgramIndex(new Set([0]));
        fresh.update(edited);
        samePrediction(incremental.predict(), fresh.predict());
      }),
    );
  });

  it('other files: indexed in pieces or at once, the same; removed, no trace left', () => {
    fc.assert(
      fc.property(tokens, tokens, tokens, fc.nat(80), (prompt, docA, docB, cut) => {
        const pieces = new NgramIndex(new Set([0]));
        pieces.update(prompt);
        pieces.extendDocument('a', docA.slice(0, cut), 0.25);
        pieces.extendDocument('b', docB, 0.5);
        pieces.extendDocument('a', docA.slice(cut), 0.25);
        const whole = new NgramIndex(new Set([0]));
        whole.extendDocument('b', docB, 0.5);
        whole.extendDocument('a', docA, 0.25);
        whole.update(prompt);
        for (const history of [prompt, docA, docB]) samePrediction(pieces.predict(history), whole.predict(history));
        pieces.removeDocument('a');
        pieces.removeDocument('b');
        const promptOnly = new NgramIndex(new Set([0]));
        promptOnly.update(prompt);
        for (const history of [prompt, docA, docB])
          samePrediction(pieces.predict(history), promptOnly.predict(history));
        assert.equal(pieces.documentTokens, 0);
      }),
    );
  });

  it("another file's n-grams count at their weight and never join the prompt's", () => {
    const index = new NgramIndex();
    index.extendDocument('other', [7, 8, 9], 0.25);
    index.update([1, 2, 7, 8]);
    const p = index.predict();
    assert.deepEqual(p.ids, [9]);
    assert.equal(p.evidence, 0.25);
    // [9, 1] would exist only if the file and the prompt were one sequence
    assert.equal(index.predict([9]).matched, 0);
  });

  it('the mixed distribution sums to 1 and never contains NaN', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -30, max: 30, noNaN: true }), { minLength: 10, maxLength: 10 }),
        tokens,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (raw, context, weight) => {
          const index = new NgramIndex();
          index.update(context);
          const prediction = index.predict();
          const mixed = mixIntoLogits(Float32Array.from(raw), prediction, mixingWeight(weight, prediction));
          let sum = 0;
          let max = -Infinity;
          for (const v of mixed) {
            assert.ok(!Number.isNaN(v));
            max = Math.max(max, v);
          }
          for (const v of mixed) sum += Math.exp(v - max);
          const probs = Array.from(mixed, (v) => Math.exp(v - max) / sum);
          assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
        },
      ),
    );
  });

  // The mix as first written (a log-sum-exp, then a fresh copy shifted by log(1 − λ)): the oracle
  // for the in-place mix, which must give the same float32 values, so the same choices.
  const copiedMix = (logits: Float32Array, prediction: CachePrediction, lambda: number): Float32Array => {
    if (lambda <= 0 || prediction.ids.length === 0) return logits;
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    for (const v of logits) sum += Math.exp(v - max);
    const lse = max + Math.log(sum);
    const keep = Math.log(1 - lambda);
    const mixed = new Float32Array(logits.length);
    for (let i = 0; i < logits.length; i++) mixed[i] = logits[i] + keep;
    prediction.ids.forEach((id, j) => {
      mixed[id] = Math.log((1 - lambda) * Math.exp(logits[id] - lse) + lambda * prediction.probs[j]) + lse;
    });
    return mixed;
  };

  it('the in-place mix equals a mixed copy bit for bit, so greedy picks the same token', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -30, max: 30, noNaN: true }), { minLength: 10, maxLength: 200 }),
        tokens,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (raw, context, weight) => {
          const index = new NgramIndex();
          index.update(context);
          const prediction = index.predict();
          const lambda = mixingWeight(weight, prediction);
          const expected = copiedMix(Float32Array.from(raw), prediction, lambda);
          const logits = Float32Array.from(raw);
          const mixed = mixIntoLogits(logits, prediction, lambda);
          assert.equal(mixed, logits);
          assert.deepEqual(mixed, expected);
          assert.equal(argmax(mixed), argmax(expected));
        },
      ),
    );
  });

  it("a generation's mixer adjusts each step as a mixed copy would", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.float({ min: -30, max: 30, noNaN: true }), { minLength: 10, maxLength: 10 }), {
          minLength: 1,
          maxLength: 6,
        }),
        tokens,
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (steps, context, weight) => {
          const mixer = new ContextMixer(new NgramIndex(), weight);
          const oracle = new NgramIndex();
          oracle.update(context);
          mixer.begin(context, context);
          const generated: number[] = [];
          for (const raw of steps) {
            const history = [...context, ...generated];
            const prediction = withRecentCopy(oracle.predict(history), recentContinuation(history, context.length));
            const expected = copiedMix(Float32Array.from(raw), prediction, mixingWeight(weight, prediction));
            const mixed = mixer.adjust(Float32Array.from(raw), generated);
            assert.deepEqual(mixed, expected);
            generated.push(argmax(mixed));
          }
        },
      ),
    );
  });

  it("with weight 0 the logits are the model's own", () => {
    const logits = Float32Array.from([1, 2, 3]);
    assert.equal(
      mixIntoLogits(
        logits,
        { ids: [0], probs: [1], evidence: 5, matched: 3 },
        mixingWeight(0, { evidence: 5, matched: 3 }),
      ),
      logits,
    );
  });

  describe('in the engine', () => {
    let engine: Engine;
    before(async () => {
      engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    });
    after(() => engine.dispose());
    const request = {
      prefix: 'total = compute(a, b)\ntotal = compute(a, b)\ntotal = compute(',
      suffix: '',
      sampling: { temperature: 0, topK: 0, topP: 1 },
      seed: 0,
      maxNewTokens: 6,
      stop: [],
      timeBudgetMs: 60_000,
      contextTokens: 200,
    };

    it('off gives exactly the results of before', async () => {
      const plain = await engine.complete(request);
      const off = await engine.complete({ ...request, contextCacheWeight: 0 });
      assert.equal(off.text, plain.text);
      assert.equal(off.stats.cacheLedTokens, undefined);
    });

    it('on, it copies what the context repeats, even from a random model', async () => {
      const on = await engine.complete({ ...request, contextCacheWeight: 0.9 });
      assert.ok(on.text.startsWith('a, b)'), JSON.stringify(on.text));
      assert.ok((on.stats.cacheLedTokens ?? 0) > 0);
    });
  });
});
