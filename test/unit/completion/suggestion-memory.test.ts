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

  it('answers the rests of the candidates offered with it that match what was typed', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;', 'shown', ['a - b;', 'b + a;']);
    const rests = (typed: string) => {
      const found = memory.lookup(at(typed));
      return found ? [found.text, ...found.alternatives] : [];
    };
    assert.deepEqual(rests(''), ['a + b;', 'a - b;', 'b + a;']);
    assert.deepEqual(rests('a '), ['+ b;', '- b;']);
    assert.deepEqual(rests('a -'), [' b;']);
    assert.deepEqual(rests('c'), []);
  });

  it('knows a suggestion accepted whole, and nothing else', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;');
    assert.equal(memory.completedAt(at('a + b;')), true);
    assert.equal(memory.completedAt(at('a + b')), false);
    assert.equal(memory.completedAt(at('a - b;')), false);
    assert.equal(memory.completedAt(at('a + b;', prefix, 'doc', suffix + 'x')), false);
  });

  it('does not answer after an edit before the cursor', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;');
    assert.equal(text(memory, 'a', prefix.replace('add', 'sum')), undefined);
  });

  it('says once that a suggestion came from a kept generation or the prefetch, then that it was shown', () => {
    const memory = new SuggestionMemory();
    memory.remember(at(''), 'a + b;', 'prefetch');
    assert.deepEqual(memory.lookup(at('a')), { text: ' + b;', origin: 'prefetch', alternatives: [] });
    assert.deepEqual(memory.lookup(at('a ')), { text: '+ b;', origin: 'shown', alternatives: [] });
  });
});
