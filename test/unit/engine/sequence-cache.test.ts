// The sequence cache's ownership of its states: what it evicts or supersedes it disposes (device
// memory under WebGPU), what match() hands out is the caller's own, and the byte budget holds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KvState, SequenceCache } from '../../../src/engine/sequence-cache';

/** A state of `length` positions at 10 bytes each that records its disposal and its views. */
class CountedState implements KvState {
  disposed = 0;
  views: CountedState[] = [];
  constructor(readonly length: number) {}

  get bytes(): number {
    return this.length * 10;
  }

  truncate(keep: number): CountedState {
    const view = new CountedState(Math.min(keep, this.length));
    this.views.push(view);
    return view;
  }

  dispose(): void {
    this.disposed++;
  }
}

const seq = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('sequence cache', () => {
  it('disposes what it evicts by count, once', () => {
    const cache = new SequenceCache<CountedState>(2, 1e9);
    const states = [new CountedState(4), new CountedState(4), new CountedState(4)];
    cache.put(seq(0, 4), states[0]);
    cache.put(seq(100, 4), states[1]);
    cache.put(seq(200, 4), states[2]);
    assert.equal(cache.size, 2);
    assert.deepEqual(
      states.map((s) => s.disposed),
      [1, 0, 0],
    );
  });

  it('disposes a superseded version of the same document, and everything on clear', () => {
    const cache = new SequenceCache<CountedState>(4, 1e9);
    const before = new CountedState(6);
    const after = new CountedState(7);
    cache.put(seq(0, 6), before);
    cache.put(seq(0, 7), after);
    assert.equal(before.disposed, 1);
    assert.equal(cache.size, 1);
    cache.clear();
    assert.equal(after.disposed, 1);
  });

  it('keeps within its byte budget, disposing what does not fit', () => {
    const cache = new SequenceCache<CountedState>(4, 100);
    const a = new CountedState(6);
    const b = new CountedState(6);
    cache.put(seq(0, 6), a);
    cache.put(seq(100, 6), b);
    assert.equal(cache.bytes, 60);
    assert.equal(a.disposed, 1);
    const huge = new CountedState(20);
    cache.put(seq(300, 20), huge);
    assert.equal(cache.size, 0);
    assert.equal(huge.disposed, 1);
  });

  it('hands out a view of its own to the caller, for a shorter prefix and for the whole', () => {
    const cache = new SequenceCache<CountedState>(4, 1e9);
    const held = new CountedState(8);
    cache.put(seq(0, 8), held);
    const shorter = cache.match(seq(0, 5).concat([99]));
    assert.equal(shorter.reused, 5);
    assert.equal(shorter.state, held.views[0]);
    const whole = cache.match(seq(0, 9));
    assert.equal(whole.reused, 8);
    assert.equal(whole.state, held.views[1]);
    assert.equal(held.disposed, 0);
  });
});
