import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WINDOW_CHUNK, windowAroundCursor } from '../../../src/completion/context-window';
import { editorContext, maxLinesFor } from '../../../src/completion/inline-request';

const limits = { prefixChars: 4000, suffixChars: 1000 };

describe('context window', () => {
  it('takes everything from a small document', () => {
    const text = 'a = 1\nb = 2\n';
    const w = windowAroundCursor((s, e) => text.slice(s, e), text.length, 6, limits);
    assert.deepEqual(w, { prefix: 'a = 1\n', suffix: 'b = 2\n', prefixStart: 0 });
  });

  it('stays bounded on a 5 MB single-line file', () => {
    const text = 'x'.repeat(5_000_000);
    const w = windowAroundCursor((s, e) => text.slice(s, e), text.length, 2_500_000, limits);
    assert.ok(w.prefix.length <= limits.prefixChars);
    assert.ok(w.suffix.length <= limits.suffixChars);
  });

  it('the start stays put while typing, moving at most once per chunk', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000 }), (cursor) => {
        const text = 'line of code\n'.repeat(5000);
        const slice = (s: number, e: number) => text.slice(s, e);
        const a = windowAroundCursor(slice, text.length, cursor, limits);
        const b = windowAroundCursor(slice, text.length, cursor + 1, limits);
        assert.ok(a.prefix.length <= limits.prefixChars && b.prefix.length <= limits.prefixChars);
        if (a.prefixStart !== b.prefixStart) {
          assert.ok(b.prefixStart - a.prefixStart <= 2 * WINDOW_CHUNK);
        }
        if (a.prefixStart > 0) assert.equal(text[a.prefixStart - 1], '\n');
      }),
    );
  });

  it('single line mid-line or after content; several lines after a block opener', () => {
    assert.equal(maxLinesFor(editorContext('def f(x):', '\n')), 8);
    assert.equal(maxLinesFor(editorContext('    ', '\n')), 8);
    assert.equal(maxLinesFor(editorContext('x = foo', '\n')), 1);
    assert.equal(maxLinesFor(editorContext('foo(', 'bar)\n')), 1);
    assert.equal(maxLinesFor(editorContext('foo(', ')\n')), 8);
    // wisp.multiline: `never` and `always` ignore where the cursor is.
    assert.equal(maxLinesFor(editorContext('def f(x):', '\n'), 'never'), 1);
    assert.equal(maxLinesFor(editorContext('foo(', 'bar)\n'), 'always'), 8);
    assert.equal(maxLinesFor(editorContext('x = foo', '\n'), 'auto'), 1);
  });
});
