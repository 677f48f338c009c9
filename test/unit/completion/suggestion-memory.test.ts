import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SuggestionMemory } from '../../../src/completion/suggestion-memory';

describe('typing-through', () => {
  const prefix = 'function add(a, b) {\n  return ';
  const suffix = '\n}\n';

  it('answers the rest of the suggestion as the user types it', () => {
    const memory = new SuggestionMemory();
    memory.remember('doc', prefix.length, prefix, suffix, 'a + b;');
    assert.equal(memory.lookup('doc', prefix.length, prefix, suffix), 'a + b;');
    assert.equal(memory.lookup('doc', prefix.length + 1, prefix + 'a', suffix), ' + b;');
    assert.equal(memory.lookup('doc', prefix.length + 3, prefix + 'a +', suffix), ' b;');
  });

  it('does not answer when the user typed something else, or everything', () => {
    const memory = new SuggestionMemory();
    memory.remember('doc', prefix.length, prefix, suffix, 'a + b;');
    assert.equal(memory.lookup('doc', prefix.length + 1, prefix + 'b', suffix), undefined);
    assert.equal(memory.lookup('doc', prefix.length + 6, prefix + 'a + b;', suffix), undefined);
    assert.equal(memory.lookup('other', prefix.length, prefix, suffix), undefined);
    assert.equal(memory.lookup('doc', prefix.length, prefix, suffix + 'x'), undefined);
  });

  it('answers the rests of the candidates offered with it that match what was typed', () => {
    const memory = new SuggestionMemory();
    memory.remember('doc', prefix.length, prefix, suffix, 'a + b;', ['a - b;', 'b + a;']);
    assert.deepEqual(memory.lookupAll('doc', prefix.length, prefix, suffix), ['a + b;', 'a - b;', 'b + a;']);
    assert.deepEqual(memory.lookupAll('doc', prefix.length + 2, prefix + 'a ', suffix), ['+ b;', '- b;']);
    assert.deepEqual(memory.lookupAll('doc', prefix.length + 3, prefix + 'a -', suffix), [' b;']);
    assert.equal(memory.lookup('doc', prefix.length + 3, prefix + 'a -', suffix), ' b;');
    assert.deepEqual(memory.lookupAll('doc', prefix.length + 1, prefix + 'c', suffix), []);
  });

  it('knows a suggestion accepted whole, and nothing else', () => {
    const memory = new SuggestionMemory();
    memory.remember('doc', prefix.length, prefix, suffix, 'a + b;');
    assert.equal(memory.completedAt('doc', prefix.length + 6, prefix + 'a + b;', suffix), true);
    assert.equal(memory.completedAt('doc', prefix.length + 5, prefix + 'a + b', suffix), false);
    assert.equal(memory.completedAt('doc', prefix.length + 6, prefix + 'a - b;', suffix), false);
    assert.equal(memory.completedAt('doc', prefix.length + 6, prefix + 'a + b;', suffix + 'x'), false);
  });

  it('does not answer after an edit before the cursor', () => {
    const memory = new SuggestionMemory();
    memory.remember('doc', prefix.length, prefix, suffix, 'a + b;');
    const edited = prefix.replace('add', 'sum');
    assert.equal(memory.lookup('doc', edited.length + 1, edited + 'a', suffix), undefined);
  });
});
