// What the KV-cache exactness tests compare: logits through the engine's cache against a full
// prefill of the same tokens.
import assert from 'node:assert/strict';
import type { Engine } from '../../../src/engine/engine';

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** The last position's logits of `ids` fed from scratch. */
export async function fullPrefill(engine: Engine, ids: number[]): Promise<Float32Array> {
  const { logits, present } = await engine.session.forward(ids, engine.session.emptyPast());
  present.dispose();
  return logits;
}

/** The same through the cache, which then remembers the sequence as a completion would. */
export async function viaCache(engine: Engine, ids: number[]): Promise<{ logits: Float32Array; reused: number }> {
  const { stepper, logits, reused } = await engine.prefill(ids, true);
  engine.remember(stepper.ids, stepper.past);
  return { logits, reused };
}
