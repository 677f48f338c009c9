import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HEALED_CHARS, healedSpan, startsWithGrammar } from '../../../src/backends/healed-span';

describe('token healing on a server (healed-span.ts)', () => {
  it('gives back the prefix’s last span: whitespace, a word with its space, or symbols with theirs', () => {
    const cases: Array<[string, string]> = [
      ['def f(x):\n    ', '\n    '],
      ['    """\n\n', '\n\n'],
      ['    return sel', ' sel'],
      ['print(my_var', 'my_var'],
      ['x = foo(', '('],
      ['if a <', ' <'],
      ['x = [1, 2, ', ' '],
      ['naïve café', ' café'],
      ['', ''],
    ];
    for (const [prefix, span] of cases) assert.equal(healedSpan(prefix), span, JSON.stringify(prefix));
  });

  it('leaves a span longer than the bound in place', () => {
    assert.equal(healedSpan(`x = ${'a'.repeat(MAX_HEALED_CHARS + 1)}`), '');
    assert.equal(healedSpan(`x = ${'a'.repeat(MAX_HEALED_CHARS - 1)}`), ` ${'a'.repeat(MAX_HEALED_CHARS - 1)}`);
  });

  it('the grammar escapes what GBNF string literals cannot hold as is', () => {
    assert.equal(startsWithGrammar(' ret'), 'root ::= " ret" .*');
    assert.equal(startsWithGrammar('\n\t"\\'), 'root ::= "\\u000a\\u0009\\"\\\\" .*');
    assert.equal(startsWithGrammar('é😀'), 'root ::= "\\u00e9\\U0001f600" .*');
  });
});
