// Several suggestions for the editor's cycling (wisp.candidates): what the host makes of the
// engine's other candidates, and the completer's answer with the real engine on the fixture model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InlineCompleter } from '../../../src/completion/inline-completer';
import { alternativesShown, prepareInline } from '../../../src/completion/inline-request';
import { Engine } from '../../../src/engine/engine';
import { cancelledResult } from '../../../src/engine/process/protocol';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../../src/settings';
import { TINY_MODEL } from '../fixture';

const STYLE = { eol: '\n' as const, insertSpaces: true, tabSize: 4 };
const TEXT = 'def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    ';
const input = { slice: (s: number, e: number) => TEXT.slice(s, e), documentLength: TEXT.length, cursor: TEXT.length };

describe('candidates shown', () => {
  const settings = normalizeSettings({ ...DEFAULT_SETTINGS, temperature: 0.8, candidates: 4, minConfidence: 0 });
  const prepared = prepareInline(input, settings);
  const sure = (text: string) => [{ logprob: Math.log(0.9), end: text.length }];

  it('asks the engine for wisp.candidates', () => {
    assert.equal(prepared.request.candidates, 4);
    assert.equal(prepareInline(input, { ...settings, candidates: 1 }).request.candidates, undefined);
  });

  it('merges candidates the filters made the same as the first or as each other', () => {
    const result = {
      ...cancelledResult(),
      text: 'return a * b',
      alternatives: [
        { text: 'return a * b   \n\n', logprobs: sure('return a * b   \n\n') },
        { text: 'return b * a', logprobs: sure('return b * a') },
        { text: 'return b * a  ', logprobs: sure('return b * a  ') },
        { text: 'return a + b', logprobs: sure('return a + b') },
      ],
    };
    assert.deepEqual(alternativesShown(prepared, result, STYLE, 'return a * b', 0), ['return b * a', 'return a + b']);
  });

  it('leaves out candidates below wisp.minConfidence and those the filters drop', () => {
    const result = {
      ...cancelledResult(),
      text: 'return a * b',
      alternatives: [
        { text: 'return a ** b', logprobs: [{ logprob: Math.log(0.1), end: 13 }] },
        { text: '   ', logprobs: sure('   ') },
        { text: 'return b * a', logprobs: sure('return b * a') },
      ],
    };
    assert.deepEqual(alternativesShown(prepared, result, STYLE, 'return a * b', 0.5), ['return b * a']);
  });
});

describe('candidates from the completer', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(() => engine.dispose());

  it('answers several different suggestions at temperature > 0, one at temperature 0', async () => {
    const completer = new InlineCompleter({ complete: (request) => engine.complete(request) });
    const query = (key: string) => ({
      ...input,
      documentKey: key,
      paths: { relative: `${key}.py`, absolute: `/work/${key}.py` },
      style: STYLE,
      signal: new AbortController().signal,
    });
    // A time budget no starved machine runs out of: the test is about the candidates, not the time.
    const base = {
      ...DEFAULT_SETTINGS,
      debounceMs: 0,
      maxNewTokens: 6,
      minConfidence: 0,
      multiline: 'never' as const,
      timeBudgetMs: 60_000,
    };
    const sampled = await completer.complete(
      query('a'),
      normalizeSettings({ ...base, temperature: 1.5, topK: 0, candidates: 5 }),
    );
    assert.ok(sampled.text);
    assert.ok(sampled.alternatives!.length >= 1, JSON.stringify(sampled));
    const all = [sampled.text, ...sampled.alternatives!];
    assert.equal(new Set(all).size, all.length);
    const greedy = await completer.complete(query('b'), normalizeSettings({ ...base, temperature: 0, candidates: 5 }));
    assert.deepEqual(greedy.alternatives, []);
  });
});
