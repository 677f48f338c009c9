import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editSimilarity, exactMatch, firstLines, levenshtein, previousLineBaseline } from '../eval/scoring';

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
});
