// The repeat penalty: which tokens it finds continuing a repeat, how much it takes off, and that
// greedy decoding leaves a loop with it where it stayed in the loop without it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_REPEAT_PENALTY, applyRepeatPenalty, repeatLengths } from '../../../src/shared/repeat-penalty';
import { generate } from '../../../src/engine/decode/generate';
import { GREEDY } from '../../../src/shared/sampler';

const VOCAB = 8;

function logitsFavouring(ranking: number[]): Float32Array {
  const logits = new Float32Array(VOCAB).fill(-10);
  ranking.forEach((id, i) => (logits[id] = 5 - i));
  return logits;
}

describe('repeat penalty', () => {
  it('finds the longest repeat each token would continue', () => {
    // 1 2 3 1 2 | next: 3 continues "1 2" (length 2); 1 continues nothing before it
    const lengths = repeatLengths([1, 2, 3, 1, 2]);
    assert.equal(lengths.get(3), 2);
    assert.equal(lengths.has(1), false);
    // after "1 2 3 1 2 3": the 1 at index 3 follows "1 2 3", the generation's last three tokens
    assert.equal(repeatLengths([1, 2, 3, 1, 2, 3]).get(1), 3);
  });

  it('penalises only from the allowed length on, growing by the base', () => {
    const generated = [4, 5, 6, 7, 4, 5, 6];
    const logits = logitsFavouring([7, 1]);
    const out = applyRepeatPenalty(logits, generated, DEFAULT_REPEAT_PENALTY);
    const { multiplier, base, allowedLength } = DEFAULT_REPEAT_PENALTY;
    assert.ok(Math.abs(logits[7] - out[7] - multiplier * base ** (3 - allowedLength)) < 1e-5);
    assert.equal(out[1], logits[1]);
    assert.equal(logits[7], 5, 'the input row is not written to');
  });

  it('is off at multiplier 0 and for a generation with no repeat: the same row back', () => {
    const logits = logitsFavouring([1]);
    assert.equal(applyRepeatPenalty(logits, [1, 2, 1, 2, 1, 2], { ...DEFAULT_REPEAT_PENALTY, multiplier: 0 }), logits);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: VOCAB - 1 }), { maxLength: VOCAB }), (ids) => {
        assert.equal(applyRepeatPenalty(logits, ids, DEFAULT_REPEAT_PENALTY), logits);
      }),
    );
  });

  it('only ever lowers tokens the generation already holds', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: VOCAB - 1 }), { maxLength: 60 }), (ids) => {
        const logits = logitsFavouring([0, 1, 2, 3, 4, 5, 6, 7]);
        const out = applyRepeatPenalty(logits, ids, DEFAULT_REPEAT_PENALTY);
        for (let t = 0; t < VOCAB; t++) {
          assert.ok(out[t] <= logits[t]);
          if (!ids.includes(t)) assert.equal(out[t], logits[t]);
          assert.ok(Number.isFinite(out[t]));
        }
      }),
    );
  });

  it('greedy decoding leaves a loop the model would never leave by itself', async () => {
    // A model that always prefers the token after the last one in the cycle 1 2 3, and next the end token.
    const END = 0;
    const run = (penalty?: typeof DEFAULT_REPEAT_PENALTY) => {
      let last = 3;
      const stepper = {
        feed: async (ids: number[]) => {
          last = ids[ids.length - 1];
          return logitsFavouring([(last % 3) + 1, END]);
        },
      };
      return generate(stepper, { decode: (ids) => ids.map((id) => `t${id} `).join('') }, logitsFavouring([1, END]), {
        sampling: GREEDY,
        seed: 0,
        maxNewTokens: 40,
        stop: [],
        stopIds: new Set([END]),
        timeBudgetMs: 60_000,
        startedAt: performance.now(),
        roomLeft: 1000,
        isCancelled: () => false,
        repeatPenalty: penalty,
      });
    };
    const looping = await run();
    assert.equal(looping.stopReason, 'loop');
    const penalised = await run(DEFAULT_REPEAT_PENALTY);
    assert.equal(penalised.stopReason, 'eos');
    assert.ok(penalised.tokens.length < 10, penalised.text);
  });
});
