import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Rng, argmax, filterDistribution, sample, sampleCandidates, softmax } from '../../../src/shared/sampler';

const logitsArb = fc
  .array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 2, maxLength: 300 })
  .map((a) => Float32Array.from(a));

describe('sampler', () => {
  it('temperature 0 is argmax, first index on ties', () => {
    fc.assert(
      fc.property(logitsArb, fc.integer(), (logits, seed) => {
        assert.equal(sample(logits, { temperature: 0, topK: 5, topP: 0.5 }, new Rng(seed)), argmax(logits));
      }),
    );
    assert.equal(argmax([1, 3, 3, 2]), 1);
  });

  it('top-k never returns a token outside the k best', () => {
    fc.assert(
      fc.property(logitsArb, fc.integer({ min: 1, max: 20 }), fc.integer(), (logits, k, seed) => {
        const token = sample(logits, { temperature: 1.3, topK: k, topP: 1 }, new Rng(seed));
        const better = Array.from(logits).filter((x) => x > logits[token]).length;
        assert.ok(better < k, `token ranked ${better + 1} with k=${k}`);
      }),
    );
  });

  it('top-p keeps the smallest set reaching p', () => {
    fc.assert(
      fc.property(logitsArb, fc.double({ min: 0.05, max: 0.99, noNaN: true }), (logits, p) => {
        const kept = filterDistribution(logits, { temperature: 1, topK: 0, topP: p });
        const probs = Array.from(softmax(logits)).sort((a, b) => b - a);
        let mass = 0;
        for (let j = 0; j < kept.ids.length; j++) mass += probs[j];
        assert.ok(mass >= p - 1e-9, `kept mass ${mass} < p ${p}`);
        assert.ok(mass - probs[kept.ids.length - 1] < p + 1e-9, 'one fewer token would also have reached p');
        const sum = kept.probs.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-9);
      }),
    );
  });

  it('top-k then top-p: the nucleus is taken within the k best', () => {
    const logits = Float32Array.from([5, 4, 3, 2, 1, 0]);
    const kept = filterDistribution(logits, { temperature: 1, topK: 3, topP: 0.9 });
    assert.deepEqual(Array.from(kept.ids), [0, 1]);
  });

  it('the same seed gives the same tokens', () => {
    const logits = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () => sample(logits, { temperature: 1, topK: 0, topP: 1 }, rng));
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
  });

  it('over 10,000 draws, frequencies match the softmax within 0.015', () => {
    const logits = Float32Array.from([2, 1.5, 1, 0.5, 0, -1, -2, -3]);
    const probs = softmax(logits, 0.8);
    const counts = new Array(logits.length).fill(0);
    const rng = new Rng(123);
    const n = 10_000;
    for (let i = 0; i < n; i++) counts[sample(logits, { temperature: 0.8, topK: 0, topP: 1 }, rng)]++;
    counts.forEach((c, i) => assert.ok(Math.abs(c / n - probs[i]) < 0.015, `token ${i}: ${c / n} vs ${probs[i]}`));
  });

  it('sampleCandidates uses the coin as a cumulative position', () => {
    const candidates = { ids: Int32Array.from([9, 4, 7]), probs: Float64Array.from([0.5, 0.3, 0.2]) };
    assert.equal(sampleCandidates(candidates, 0), 9);
    assert.equal(sampleCandidates(candidates, 0.49), 9);
    assert.equal(sampleCandidates(candidates, 0.5), 4);
    assert.equal(sampleCandidates(candidates, 0.85), 7);
    assert.equal(sampleCandidates(candidates, 0.999999), 7);
  });
});
