// Beam search (decode/beam-search.ts): on a small language written out as next-token tables, where
// each answer can be worked out by hand, then on the real engine with the fixture model, where the
// chosen beam's KV state must be what a fresh prefill of the same tokens gives.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { BeamSearchOptions, BeamStepper, beamSearch, chooseBeam, topIds } from '../../../src/engine/decode/beam-search';
import { CompletionRequest, Engine } from '../../../src/engine/engine';
import { TINY_MODEL } from '../fixture';

/** Tokens: 0 end of text, then one character each. */
const VOCAB = ['<eot>', 'a', 'b', 'x', 'y', 'z', '\n'];
const id = (c: string) => VOCAB.indexOf(c);
const decoder = { decode: (ids: number[]) => ids.map((i) => VOCAB[i]).join('') };

/**
 * After nothing: 'a' 0.55, 'b' 0.45. After 'a': 'x', 'y', 'z' a third each. After 'b': 'x' almost
 * surely. Then a newline, then the end of text. Greedy takes 'a' and a 1-in-3 guess; the line "bx"
 * is the likelier whole (0.45 × 0.98 against 0.55 / 3).
 */
function nextProbs(seq: readonly number[]): number[] {
  const p = new Array<number>(VOCAB.length).fill(1e-6);
  const text = decoder.decode(seq.slice());
  if (text === '') Object.assign(p, { [id('a')]: 0.55, [id('b')]: 0.45 });
  else if (text === 'a') Object.assign(p, { [id('x')]: 0.333, [id('y')]: 0.333, [id('z')]: 0.333 });
  else if (text === 'b') Object.assign(p, { [id('x')]: 0.98 });
  else if (text.endsWith('\n')) p[id('<eot>')] = 0.99;
  else Object.assign(p, { [id('\n')]: 0.99 });
  return p;
}

class TableStepper implements BeamStepper {
  static live = 0;
  static steps = 0;
  private disposed = false;
  constructor(public seq: number[]) {
    TableStepper.live++;
  }
  async feed(ids: number[]): Promise<Float32Array> {
    TableStepper.steps++;
    this.seq = this.seq.concat(ids);
    return logitsAfter(this.seq);
  }
  fork(): TableStepper {
    return new TableStepper(this.seq);
  }
  dispose(): void {
    assert.ok(!this.disposed, 'disposed twice');
    this.disposed = true;
    TableStepper.live--;
  }
}

function logitsAfter(seq: readonly number[]): Float32Array {
  return Float32Array.from(nextProbs(seq), Math.log);
}

function options(over: Partial<BeamSearchOptions> = {}): BeamSearchOptions {
  return {
    width: 4,
    maxNewTokens: 10,
    stop: [],
    maxLines: 1,
    stopIds: new Set([0]),
    timeBudgetMs: 60_000,
    startedAt: performance.now(),
    roomLeft: 100,
    isCancelled: () => false,
    ...over,
  };
}

async function search(over: Partial<BeamSearchOptions> = {}) {
  TableStepper.live = 0;
  TableStepper.steps = 0;
  const root = new TableStepper([]);
  const result = await beamSearch(root, decoder, logitsAfter([]), options(over));
  return result;
}

describe('beam search on a written-out language', () => {
  it('finds the likelier line that greedy decoding misses', async () => {
    const greedy = await search({ width: 1 });
    assert.match(greedy.text, /^a[xyz]$/);
    const beams = await search({ width: 2 });
    // The one-line limit ends the text before its newline, which was chosen and scored.
    assert.equal(beams.text, 'bx');
    assert.equal(beams.stopReason, 'stop');
    assert.deepEqual(beams.tokens, [id('b'), id('x'), id('\n')]);
    // Log-probabilities of the distribution each token was chosen from (the tables, normalised).
    assert.ok(Math.abs(beams.logprobs[0].logprob - Math.log(0.45)) < 1e-4, `${beams.logprobs[0].logprob}`);
    assert.ok(Math.abs(beams.logprobs[1].logprob) < 1e-4, `${beams.logprobs[1].logprob}`);
    assert.deepEqual(
      beams.logprobs.map((t) => t.end),
      [1, 2, 2],
    );
  });

  it('leaves only the chosen beam’s stepper held, positioned before its last token', async () => {
    const r = await search({ width: 3 });
    assert.equal(TableStepper.live, 1);
    assert.deepEqual((r.stepper as TableStepper).seq, r.tokens.slice(0, -1));
    assert.equal(r.modelSteps, TableStepper.steps);
    r.stepper.dispose();
  });

  it('passes over a rejected line while another finished one is left', async () => {
    const r = await search({ width: 2, rejects: (text) => text.startsWith('b') });
    assert.match(r.text, /^a[xyz]$/);
    const all = await search({ width: 2, rejects: () => true });
    assert.equal(all.text, 'bx', 'with every line rejected, the best is still shown');
  });

  it('stops at the token budget, with the time budget and on cancellation', async () => {
    const short = await search({ maxNewTokens: 1 });
    assert.equal(short.stopReason, 'length');
    assert.equal(short.tokens.length, 1);
    const late = await search({ startedAt: performance.now() - 120_000 });
    assert.equal(late.stopReason, 'time');
    assert.equal(TableStepper.live, 1);
    const cancelled = await search({ isCancelled: () => true });
    assert.equal(cancelled.stopReason, 'cancelled');
    assert.equal(TableStepper.live, 1);
  });

  it('frees every beam’s state, the root’s included, when a model step fails', async () => {
    TableStepper.live = 0;
    const root = new TableStepper([]);
    const feed = TableStepper.prototype.feed;
    let steps = 0;
    TableStepper.prototype.feed = async function (ids) {
      if (++steps === 3) throw new Error('engine crashed');
      return feed.call(this, ids);
    };
    try {
      await assert.rejects(beamSearch(root, decoder, logitsAfter([]), options({ width: 2 })), /engine crashed/);
    } finally {
      TableStepper.prototype.feed = feed;
    }
    assert.equal(TableStepper.live, 0);
  });

  it('ends a beam at an end token, scored but not part of the text', async () => {
    const r = await search({ width: 2, maxLines: undefined });
    assert.equal(r.text, 'bx\n');
    assert.equal(r.stopReason, 'eos');
    assert.equal(r.tokens.length, 3);
    assert.equal(r.logprobs.length, 3);
  });
});

describe('choosing a beam', () => {
  it('takes the best mean log-probability per token, not the best sum', () => {
    const short = { text: 'a', score: -1, scored: 1 };
    const long = { text: 'abcd', score: -2, scored: 4 };
    assert.equal(chooseBeam([short, long]), long);
    assert.equal(chooseBeam([]), undefined);
  });
});

describe('topIds', () => {
  it('gives the k largest finite values, largest first', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.float({ noNaN: true, min: -10, max: 10 }), fc.constant(-Infinity)), { maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        (values, k) => {
          const array = Float32Array.from(values);
          const got = topIds(array, k).map((i) => array[i]);
          const want = Array.from(array)
            .filter((v) => v !== -Infinity)
            .sort((a, b) => b - a)
            .slice(0, k);
          assert.deepEqual(got, want);
        },
      ),
    );
  });
});

describe('beam search in the engine (fixture model)', () => {
  let engine: Engine;
  const base: CompletionRequest = {
    prefix: 'class Stack:\n    def push(self, item):\n        self.',
    suffix: '\n    def pop(self):\n        return self.items.pop()\n',
    sampling: { temperature: 0, topK: 0, topP: 1 },
    seed: 0,
    maxNewTokens: 12,
    maxLines: 1,
    stop: [],
    timeBudgetMs: 60_000,
    contextTokens: 200,
  };
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(() => engine.dispose());

  it('is greedy decoding at width 1, and only applies to one-line requests at temperature 0', async () => {
    engine.clearCache();
    const greedy = await engine.complete({ ...base, reuseCache: false });
    const one = await engine.complete({ ...base, reuseCache: false, beamWidth: 1 });
    assert.equal(one.text, greedy.text);
    assert.equal(one.stats.beamSteps, undefined);
    const multi = await engine.complete({ ...base, reuseCache: false, beamWidth: 4, maxLines: 2 });
    assert.equal(multi.stats.beamSteps, undefined);
    const sampled = await engine.complete({
      ...base,
      reuseCache: false,
      beamWidth: 4,
      sampling: { temperature: 1, topK: 0, topP: 1 },
    });
    assert.equal(sampled.stats.beamSteps, undefined);
    const beams = await engine.complete({ ...base, reuseCache: false, beamWidth: 4 });
    assert.ok(beams.stats.beamSteps! > 0);
    assert.ok(!beams.text.includes('\n'));
    assert.equal(beams.logprobs!.length, beams.stats.generatedTokens);
  });

  it('keeps the chosen beam’s KV state in the cache, exactly what a fresh prefill of its tokens gives', async () => {
    engine.clearCache();
    const request = { ...base, beamWidth: 4, tokenHealing: false, contextCacheWeight: 0.5 };
    const r = await engine.complete(request);
    assert.ok(r.logprobs!.length > 1, `the fixture wrote "${r.text}"`);
    const prompt = engine.fedPromptFor(request).prompt.ids;
    const ids = prompt.concat(engine.tokenizer.encode(r.text));
    // The cache holds the prompt and the chosen beam's tokens but its last (never fed): a prefill
    // of prompt + text reuses past the prompt, not only the prompt a discarded beam started from.
    const reused = await engine.prefill(ids, true);
    assert.ok(reused.reused > prompt.length, `${reused.reused} reused of ${ids.length}, prompt ${prompt.length}`);
    const fresh = await engine.prefill(ids, false);
    const gap = Math.max(...reused.logits.map((v, i) => Math.abs(v - fresh.logits[i])));
    assert.ok(gap < 1e-4, `largest logit difference ${gap}`);
    reused.stepper.dispose();
    fresh.stepper.dispose();
  });
});
