import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { SettleTimer } from '../../../src/completion/settle-timer';

/** A SettleTimer on mocked timers, with a clock that moves with them. */
function settleTimer(t: TestContext, settleMs: number, maxWaitMs: number) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let clock = 0;
  let runs = 0;
  const timer = new SettleTimer(
    () => runs++,
    settleMs,
    maxWaitMs,
    () => clock,
  );
  const advance = (ms: number) => {
    clock += ms;
    t.mock.timers.tick(ms);
  };
  return { timer, advance, runs: () => runs };
}

describe('settle timer for the open-editor watcher', () => {
  it('runs once, the settle time after the last of a burst of changes', (t) => {
    const { timer, advance, runs } = settleTimer(t, 500, 2_000);
    timer.schedule();
    advance(300);
    timer.schedule();
    advance(499);
    assert.equal(runs(), 0);
    advance(1);
    assert.equal(runs(), 1);
    advance(5_000);
    assert.equal(runs(), 1);
  });

  it('a steady stream of changes faster than the settle time still runs by the longest wait', (t) => {
    const { timer, advance, runs } = settleTimer(t, 500, 2_000);
    for (let elapsed = 0; elapsed < 1_900; elapsed += 100) {
      timer.schedule();
      advance(100);
    }
    assert.equal(runs(), 0);
    timer.schedule();
    advance(100);
    assert.equal(runs(), 1, 'ran 2,000 ms after the first change, though changes kept coming');
    // The next burst is measured from its own first change.
    timer.schedule();
    advance(499);
    assert.equal(runs(), 1);
    advance(1);
    assert.equal(runs(), 2);
  });

  it('runNow runs at once and drops the pending wait; cancel drops it without running', (t) => {
    const { timer, advance, runs } = settleTimer(t, 500, 2_000);
    timer.schedule();
    timer.runNow();
    assert.equal(runs(), 1);
    advance(1_000);
    assert.equal(runs(), 1);
    timer.schedule();
    timer.cancel();
    advance(3_000);
    assert.equal(runs(), 1);
  });
});
