import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SuggestionMemory } from '../../../src/completion/suggestion-memory';

describe('typing-through', () => {
  const prefix = 'function add(a, b) {\n  return ';
  const suffix = '\n}\n';
  const at = (typed: string, before = prefix, documentKey = 'doc', after = suffix) => ({
    documentKey,
    offset: before.length + typed.length,
    prefix: before + typed,
    suffix: after,
  });
  const text = (memory: SuggestionMemory, typed: string, before = prefix) => memory.lookup(at(typed, before))?.text;

  it('answers the rest of the suggestion as the user types it', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;');
    assert.equal(text(memory, ''), 'a + b;');
    assert.equal(text(memory, 'a'), ' + b;');
    assert.equal(text(memory, 'a +'), ' b;');
  });

  it('does not answer when the user typed something else, or everything', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;');
    assert.equal(text(memory, 'b'), undefined);
    assert.equal(text(memory, 'a + b;'), undefined);
    assert.equal(memory.lookup(at('', prefix, 'other')), undefined);
    assert.equal(memory.lookup(at('', prefix, 'doc', suffix + 'x')), undefined);
  });

  it('does not answer after an edit before the cursor', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;');
    assert.equal(text(memory, 'a', prefix.replace('add', 'sum')), undefined);
  });

  it('says once that a suggestion came from a kept generation or the prefetch, then that it was shown', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;', 'prefetch');
    assert.deepEqual(memory.lookup(at('a')), { text: ' + b;', origin: 'prefetch' });
    assert.deepEqual(memory.lookup(at('a ')), { text: '+ b;', origin: 'shown' });
  });
});
