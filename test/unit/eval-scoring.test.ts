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
import { pairedDifference, problemOf } from '../eval/paired-difference';

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

describe('two runs compared hole by hole', () => {
  const run = (values: number[]) => values.map((value, i) => ({ taskId: `Set/P${i % 10}/L${i}`, value }));

  it('the problem is the task id without the hole', () => {
    assert.equal(problemOf('SingleLineInfilling/HumanEval/12/L3'), 'SingleLineInfilling/HumanEval/12');
    assert.equal(problemOf('heldout/py/pkg/mod.py/L211'), 'heldout/py/pkg/mod.py');
  });

  it('the same run: no difference, and an interval of zero width', () => {
    const a = run(Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? 1 : 0)));
    const d = pairedDifference(a, a);
    assert.equal(d.difference, 0);
    assert.equal(d.low, 0);
    assert.equal(d.high, 0);
    assert.equal(d.problems, 10);
  });

  it('B better on every problem: an interval above zero; one problem alone: wide', () => {
    const a = run(Array.from({ length: 100 }, () => 0));
    const everywhere = pairedDifference(
      a,
      run(Array.from({ length: 100 }, (_, i) => (Math.floor(i / 10) % 5 === 0 ? 1 : 0))),
    );
    assert.ok(Math.abs(everywhere.difference - 0.2) < 1e-12);
    assert.ok(everywhere.low > 0, `${everywhere.low}`);
    const oneProblem = pairedDifference(
      a,
      run(Array.from({ length: 100 }, (_, i) => (i % 10 === 0 && i < 50 ? 1 : 0))),
    );
    assert.ok(Math.abs(oneProblem.difference - 0.05) < 1e-12);
    assert.equal(oneProblem.low, 0, 'a gain from one problem of ten is not told apart from none');
  });

  it('refuses runs of different holes', () => {
    assert.throws(() => pairedDifference(run([1, 0]), run([1])), /the same holes/);
  });
});
