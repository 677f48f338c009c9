// The token view's data from a server's top tokens: raw probabilities as given, the sampling
// settings applied over those tokens with the engine's own filter, the server's counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverTokenView } from '../../../src/backends/server-token-view';

const answer = {
  // Out of order on purpose: the view sorts.
  top: [
    { id: 7, text: 'b', logprob: Math.log(0.2) },
    { id: 3, text: 'a', logprob: Math.log(0.5) },
    { id: 9, text: 'c', logprob: Math.log(0.1) },
  ],
  timings: { promptTokens: 4, cachedTokens: 30, promptMs: 2.5 },
};

describe('serverTokenView', () => {
  it('shows the raw probabilities most likely first, with the server’s counts', () => {
    const view = serverTokenView(answer, { temperature: 1, topK: 0, topP: 1 }, 'llama.cpp at x', 20);
    const c = view.distribution.candidates;
    assert.deepEqual(
      c.map((x) => [x.id, x.text, Number(x.raw.toFixed(6))]),
      [
        [3, 'a', 0.5],
        [7, 'b', 0.2],
        [9, 'c', 0.1],
      ],
    );
    // Temperature 1, no top-k/top-p: all kept, renormalised over the three.
    assert.deepEqual(
      c.map((x) => Number(x.filtered.toFixed(6))),
      [0.625, 0.25, 0.125],
    );
    assert.equal(view.distribution.keptCount, 3);
    assert.equal(Number(view.distribution.keptMass.toFixed(6)), 0.8);
    assert.equal(view.promptTokens, 34);
    assert.equal(view.reusedTokens, 30);
    assert.equal(view.computedTokens, 4);
    assert.equal(view.prefillMs, 2.5);
    assert.deepEqual(view.server, { backend: 'llama.cpp at x', asked: 20 });
  });

  it('greedy keeps the top token only; top-p over the server’s tokens; at most `asked` shown', () => {
    const greedy = serverTokenView(answer, { temperature: 0, topK: 0, topP: 1 }, 'b', 20).distribution;
    assert.deepEqual(
      greedy.candidates.map((x) => [x.excluded, x.filtered]),
      [
        [false, 1],
        [true, 0],
        [true, 0],
      ],
    );
    const nucleus = serverTokenView(answer, { temperature: 1, topK: 0, topP: 0.8 }, 'b', 20).distribution;
    assert.deepEqual(
      nucleus.candidates.map((x) => x.excluded),
      [false, false, true],
    );
    assert.equal(
      serverTokenView(answer, { temperature: 1, topK: 0, topP: 1 }, 'b', 2).distribution.candidates.length,
      2,
    );
  });
});
