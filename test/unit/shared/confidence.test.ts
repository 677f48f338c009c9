// The confidence of a suggestion: which tokens count, the two measures, and the engine's
// log-probabilities on the fixture model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  confidenceOf,
  fromTokenTexts,
  keptLength,
  keptTokens,
  logSumExp,
  shownConfidence,
} from '../../../src/shared/confidence';
import { CompletionRequest, Engine } from '../../../src/engine/engine';
import { softmax } from '../../../src/shared/sampler';
import { TINY_MODEL } from '../fixture';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

describe('suggestion confidence', () => {
  const tokens = [
    { logprob: Math.log(0.9), end: 4 },
    { logprob: Math.log(0.5), end: 9 },
    { logprob: Math.log(0.1), end: 15 },
  ];

  it('is the geometric mean or the minimum of the token probabilities', () => {
    close(confidenceOf(tokens, 'mean')!, Math.cbrt(0.9 * 0.5 * 0.1));
    close(confidenceOf(tokens, 'min')!, 0.1);
    assert.equal(confidenceOf([]), undefined);
  });

  it('counts only the tokens that wrote the text shown', () => {
    assert.deepEqual(keptTokens(tokens, 9), tokens.slice(0, 2));
    assert.deepEqual(keptTokens(tokens, 5), tokens.slice(0, 2));
    assert.deepEqual(keptTokens(tokens, 4), tokens.slice(0, 1));
    // A filter cut the last token off: the shown text's confidence is that of the first two.
    close(shownConfidence({ text: 'abcd efgh ijklm', logprobs: tokens }, 'abcd efg')!, Math.sqrt(0.9 * 0.5));
  });

  it('maps a rewritten text to the model text by lines', () => {
    assert.equal(keptLength('a = 1\nb = 2\nc = 3', 'a = 1'), 5);
    assert.equal(keptLength('a = 1\n  b = 2\nc = 3', 'a = 1\n\tb = 2'), 13);
    assert.equal(keptLength('a = 1', '  a = 1\r\nb'), 5);
  });

  it("takes a server's tokens and log-probabilities in the same shape", () => {
    const tokens = fromTokenTexts([
      { text: 'return', logprob: Math.log(0.8) },
      { text: ' a', logprob: Math.log(0.5) },
      { text: ' + b', logprob: Math.log(0.2) },
    ]);
    assert.deepEqual(
      tokens.map((t) => t.end),
      [6, 8, 12],
    );
    close(shownConfidence({ text: 'return a + b', logprobs: tokens }, 'return a')!, Math.sqrt(0.8 * 0.5));
    assert.deepEqual(
      fromTokenTexts(
        [
          { text: 'ret', logprob: 0 },
          { text: 'urn', logprob: 0 },
        ],
        4,
      ).map((t) => t.end),
      [0, 2],
    );
  });

  it('is unknown without log-probabilities', () => {
    assert.equal(shownConfidence({ text: 'x' }, 'x'), undefined);
  });

  it('logSumExp is the log of the softmax normaliser, also with -Infinity entries', () => {
    const row = [1, 2, 3, -Infinity];
    close(logSumExp(row), Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)));
    assert.equal(logSumExp([-Infinity]), -Infinity);
  });
});

describe('log-probabilities from the engine', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(() => engine.dispose());

  const request: CompletionRequest = {
    prefix: 'def add(a, b):\n    ',
    suffix: '',
    sampling: { temperature: 0, topK: 0, topP: 1 },
    seed: 0,
    maxNewTokens: 12,
    stop: [],
    timeBudgetMs: 60_000,
    contextTokens: 200,
    tokenHealing: false,
  };

  it('gives one per generated token, ending where its text ends', async () => {
    const r = await engine.complete(request);
    assert.equal(r.logprobs!.length, r.stats.generatedTokens);
    let previous = 0;
    for (const t of r.logprobs!) {
      assert.ok(t.logprob <= 0 && Number.isFinite(t.logprob), `${t.logprob}`);
      assert.ok(t.end >= previous && t.end <= r.text.length);
      previous = t.end;
    }
    assert.equal(previous, r.text.length);
  });

  it("the first is the model's probability of the greedy first token after the prompt", async () => {
    const r = await engine.complete({ ...request, reuseCache: false });
    const { prompt } = engine.fedPromptFor(request);
    const { logits, stepper } = await engine.prefill(prompt.ids, false);
    stepper.past.dispose();
    const probs = softmax(logits);
    const greedy = probs.reduce((best, p) => Math.max(best, p), 0);
    assert.ok(Math.abs(Math.exp(r.logprobs![0].logprob) - greedy) < 1e-4);
  });
});
