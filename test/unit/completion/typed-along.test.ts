import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { placeOf, typedAlong } from '../../../src/completion/typed-along';

describe('typed along', () => {
  const prefix = 'const total = items.reduce(';
  const suffix = ');\n';
  const at = (typed: string, over: { before?: string; documentKey?: string; suffix?: string } = {}) => {
    const before = over.before ?? prefix;
    return {
      documentKey: over.documentKey ?? 'doc',
      offset: before.length + typed.length,
      prefix: before + typed,
      suffix: over.suffix ?? suffix,
    };
  };
  const place = placeOf(at(''));

  it('counts the characters typed that the text begins with, none included', () => {
    assert.equal(typedAlong(place, '(a, b) => a + b', at('')), 0);
    assert.equal(typedAlong(place, '(a, b) => a + b', at('(a')), 2);
    // A generation may go on while the user has typed all it streamed so far.
    assert.equal(typedAlong(place, '(a, b)', at('(a, b)')), 6);
  });

  it('is undefined when the user typed something else or more than the text', () => {
    assert.equal(typedAlong(place, '(a, b) => a + b', at('(x')), undefined);
    assert.equal(typedAlong(place, '(a', at('(a,')), undefined);
  });

  it('is undefined when anything else changed: the document, the text after the cursor, the text before the place, the cursor moved back', () => {
    assert.equal(typedAlong(place, '(a', at('(', { documentKey: 'other' })), undefined);
    assert.equal(typedAlong(place, '(a', at('(', { suffix: ', 0);\n' })), undefined);
    assert.equal(typedAlong(place, '(a', at('(', { before: prefix.replace('total', 'sum') })), undefined);
    assert.equal(
      typedAlong(place, '(a', { ...at(''), offset: prefix.length - 1, prefix: prefix.slice(0, -1) }),
      undefined,
    );
  });
});
