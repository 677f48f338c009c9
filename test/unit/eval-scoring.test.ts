import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bestShare,
  confidenceCurve,
  editSimilarity,
  exactMatch,
  firstLines,
  levenshtein,
  previousLineBaseline,
} from '../eval/scoring';

describe('evaluation scoring', () => {
  it('exact match compares whitespace-trimmed lines', () => {
    assert.equal(exactMatch('  return x\n', '        return x\n'), true);
    assert.equal(exactMatch('return y\n', 'return x\n'), false);
  });

  it('edit similarity is 1 − distance / longer length', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(editSimilarity('abcd', 'abcd'), 1);
    assert.equal(editSimilarity('abcd', 'abce'), 0.75);
  });

  it('takes the first lines of content, and the previous line as the baseline', () => {
    assert.equal(firstLines('\n    a = 1\n    b = 2\n', 1), '    a = 1\n');
    assert.equal(previousLineBaseline('def f():\n    x = 1\n\n'), '    x = 1\n');
  });

  it('the confidence curve: coverage over all holes, quality over those shown', () => {
    const samples = [
      { confidence: 0.9, exactMatch: 1, editSimilarity: 1 },
      { confidence: 0.5, exactMatch: 0, editSimilarity: 0.5 },
      { confidence: 0.2, exactMatch: 0, editSimilarity: 0 },
      { confidence: undefined, exactMatch: 0, editSimilarity: 0 },
    ];
    const [all, half] = confidenceCurve(samples, [0, 0.5]);
    assert.deepEqual(all, { at: 0, coverage: 0.75, exactMatch: 1 / 3, editSimilarity: 0.5 });
    assert.deepEqual(half, { at: 0.5, coverage: 0.5, exactMatch: 0.5, editSimilarity: 0.75 });
    assert.deepEqual(bestShare(samples, 0.25), { at: 0.25, coverage: 0.25, exactMatch: 1, editSimilarity: 1 });
  });
});
