import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamedLogprobs } from '../../../src/backends/streamed-logprobs';
import { shownConfidence } from '../../../src/shared/confidence';

const ln = Math.log;

describe('StreamedLogprobs', () => {
  it('frames whose tokens spell their text: each token ends where its text does', () => {
    const gathered = new StreamedLogprobs();
    gathered.add('return', [{ text: 'return', logprob: ln(0.9) }]);
    gathered.add(' a + b', [
      { text: ' a', logprob: ln(0.8) },
      { text: ' +', logprob: ln(0.7) },
      { text: ' b', logprob: ln(0.6) },
    ]);
    assert.deepEqual(
      gathered.result('return a + b')?.map((t) => t.end),
      [6, 8, 10, 12],
    );
  });

  it('text held back, then sent with a later token (llama-server near a stop string): the tokens end with the text', () => {
    const gathered = new StreamedLogprobs();
    gathered.add('a', [{ text: 'a', logprob: ln(0.5) }]);
    gathered.add('', [{ text: 'fo', logprob: ln(0.4) }]);
    gathered.add('foo', [{ text: 'o', logprob: ln(0.3) }]);
    assert.deepEqual(gathered.result('afoo'), [
      { logprob: ln(0.5), end: 1 },
      { logprob: ln(0.4), end: 1 },
      { logprob: ln(0.3), end: 4 },
    ]);
  });

  it('a character whose first token is not reported: the token that completes it ends after it', () => {
    const gathered = new StreamedLogprobs();
    gathered.add('x', [{ text: 'x', logprob: ln(0.5) }]);
    // llama-server gives the completing token's own piece, not the character.
    gathered.add('é', [{ text: '\uFFFD', logprob: ln(0.25) }]);
    gathered.add('', [{ text: '', logprob: ln(0.1) }]);
    assert.deepEqual(
      gathered.result('xé')?.map((t) => t.end),
      [1, 2, 2],
    );
  });

  it('the end rules cut the text: no token ends past it', () => {
    const gathered = new StreamedLogprobs();
    gathered.add('return a', [
      { text: 'return', logprob: ln(0.9) },
      { text: ' a', logprob: ln(0.8) },
    ]);
    gathered.add('\nprint', [{ text: '\nprint', logprob: ln(0.01) }]);
    const result = { text: 'return a\np', logprobs: gathered.result('return a\np') };
    assert.deepEqual(
      result.logprobs?.map((t) => t.end),
      [6, 8, 10],
    );
    // The shown text is the first line: the last token does not count.
    assert.ok(Math.abs(shownConfidence(result, 'return a')! - Math.sqrt(0.9 * 0.8)) < 1e-12);
  });

  it('the end-of-text token after the text does not count toward the confidence of all of it', () => {
    const gathered = new StreamedLogprobs();
    gathered.add('ab', [
      { text: 'a', logprob: ln(0.5) },
      { text: 'b', logprob: ln(0.5) },
    ]);
    gathered.add('', [{ text: '', logprob: ln(0.001) }]);
    const result = { text: 'ab', logprobs: gathered.result('ab') };
    assert.ok(Math.abs(shownConfidence(result, 'ab')! - 0.5) < 1e-12);
  });

  it('a frame with text and no log-probabilities makes the confidence unknown; frames with neither change nothing', () => {
    const gathered = new StreamedLogprobs();
    gathered.add('', undefined);
    gathered.add('a', [{ text: 'a', logprob: ln(0.5) }]);
    assert.deepEqual(gathered.result('a'), [{ logprob: ln(0.5), end: 1 }]);
    gathered.add('b', []);
    assert.equal(gathered.result('ab'), undefined);
    assert.equal(shownConfidence({ text: 'ab', logprobs: gathered.result('ab') }, 'ab'), undefined);
  });
});
