// The wait before a request: from the typing rhythm, the response time and where the cursor is.
// Times are given explicitly (the completer passes its clock's), so no test waits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveDebounce, MIN_DEBOUNCE_MS, cursorPlace } from '../../../src/completion/adaptive-debounce';

/** A debouncer that has seen keystrokes `intervalMs` apart and responses of `responseMs`. */
function learnt(intervalMs: number, responseMs: number): AdaptiveDebounce {
  const d = new AdaptiveDebounce();
  for (let i = 0; i < 20; i++) d.keystroke(1000 + i * intervalMs);
  d.response(responseMs);
  return d;
}

describe('adaptive debounce', () => {
  it('waits the full bound until it has learnt the rhythm and the response time', () => {
    const d = new AdaptiveDebounce();
    assert.equal(d.delay('mid-word', 75), 75);
    d.keystroke(0);
    d.keystroke(100);
    assert.equal(d.delay('mid-word', 75), 75);
    d.response(200);
    assert.ok(d.delay('mid-word', 500) < 500);
  });

  it('learns the typing interval, ignoring pauses', () => {
    const d = learnt(120, 50);
    assert.equal(d.rhythm.intervalMs, 120);
    d.keystroke(1000 + 19 * 120 + 5000);
    assert.equal(d.rhythm.intervalMs, 120, 'a 5 s pause is not a keystroke interval');
    d.keystroke(1000 + 19 * 120 + 5000 + 60);
    assert.ok(d.rhythm.intervalMs! < 120 && d.rhythm.intervalMs! > 60);
  });

  it('asks at once when the user types more slowly than the model answers', () => {
    assert.equal(learnt(300, 80).delay('mid-word', 500), MIN_DEBOUNCE_MS);
    assert.equal(learnt(300, 80).delay('other', 500), MIN_DEBOUNCE_MS);
  });

  it('waits longer mid-word than elsewhere when the user types faster than the model answers', () => {
    const midWord = learnt(100, 400).delay('mid-word', 1000);
    const other = learnt(100, 400).delay('other', 1000);
    assert.equal(midWord, 200);
    assert.equal(other, 125);
    assert.ok(midWord > other);
  });

  it('follows a change of rhythm and of response time', () => {
    const d = learnt(100, 400);
    const fast = d.delay('mid-word', 1000);
    for (let i = 0; i < 20; i++) d.keystroke(10_000 + i * 180);
    assert.ok(d.delay('mid-word', 1000) > fast, 'slower typing, still faster than the model: a longer wait');
    for (let i = 0; i < 20; i++) d.response(100);
    assert.equal(d.delay('mid-word', 1000), MIN_DEBOUNCE_MS, 'the model now answers between keystrokes');
  });

  it('waits the shortest at a line end, and once after an accept', () => {
    const d = learnt(100, 400);
    assert.equal(d.delay('line-end', 1000), MIN_DEBOUNCE_MS);
    d.accept();
    assert.equal(d.delay('mid-word', 1000), MIN_DEBOUNCE_MS);
    assert.equal(d.delay('mid-word', 1000), 200, 'only the request right after the accept');
  });

  it('stays within its bounds', () => {
    assert.equal(learnt(100, 400).delay('mid-word', 75), 75);
    assert.equal(learnt(100, 400).delay('line-end', 0), 0);
    assert.equal(learnt(2, 400).delay('other', 1000), MIN_DEBOUNCE_MS);
  });

  it('tells where the cursor is from its line', () => {
    assert.equal(cursorPlace('  const fo', ''), 'mid-word');
    assert.equal(cursorPlace('  x = ném', ')'), 'mid-word');
    assert.equal(cursorPlace('  if (x) {', ''), 'line-end');
    assert.equal(cursorPlace('    ', '  '), 'line-end');
    assert.equal(cursorPlace('  foo(', ')'), 'other');
  });
});
