// Several sampled candidates for one prompt (CompletionRequest.candidates): one prefill shared by
// all of them, identical ones merged, and only one at temperature 0. The real engine on the fixture
// model; the session's forward passes are counted, not replaced.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CompletionRequest, Engine, distinctCandidates } from '../../../src/engine/engine';
import { TINY_MODEL } from '../fixture';

const base: CompletionRequest = {
  prefix: 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        ',
  suffix: '',
  sampling: { temperature: 1.2, topK: 0, topP: 1 },
  seed: 7,
  maxNewTokens: 4,
  stop: [],
  timeBudgetMs: 60_000,
  contextTokens: 200,
  reuseCache: false,
  tokenHealing: false,
};

describe('several candidates', () => {
  let engine: Engine;
  let fed = 0;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    // Every pass of the model goes through forward or forwardAll (neither calls the other).
    const session = engine.session;
    const forward = session.forward.bind(session);
    const forwardAll = session.forwardAll.bind(session);
    session.forward = (ids, past) => {
      fed += ids.length;
      return forward(ids, past);
    };
    session.forwardAll = (ids, past) => {
      fed += ids.length;
      return forwardAll(ids, past);
    };
  });
  beforeEach(() => {
    fed = 0;
  });
  after(() => engine.dispose());

  it('share one prefill of the prompt: each further candidate feeds only its own tokens', async () => {
    const r = await engine.complete({ ...base, candidates: 5 });
    const prompt = r.stats.promptTokens;
    assert.equal(r.stats.prefilledTokens, prompt);
    assert.ok(r.alternatives && r.alternatives.length >= 1, 'at temperature 1.2 the candidates differ');
    // A candidate feeds each token it generated, except possibly its last: never the prompt again.
    assert.ok(
      fed <= prompt + r.stats.generatedTokens,
      `fed ${fed}, prompt ${prompt}, generated ${r.stats.generatedTokens}`,
    );
    assert.ok(fed >= prompt + r.stats.generatedTokens - 5, `fed ${fed}`);
    assert.ok(fed < 2 * prompt);
  });

  it('offers each text once, none the same as the first', async () => {
    const r = await engine.complete({ ...base, candidates: 5 });
    const texts = [r.text, ...r.alternatives!.map((c) => c.text)];
    assert.equal(new Set(texts).size, texts.length);
    for (const c of r.alternatives!) assert.ok(c.text.trim() !== '' && c.logprobs && c.logprobs.length > 0);
  });

  it('merges identical candidates: sampling from the top token alone gives the first text alone', async () => {
    const r = await engine.complete({ ...base, sampling: { temperature: 1, topK: 1, topP: 1 }, candidates: 5 });
    assert.deepEqual(r.alternatives, []);
    assert.ok(fed > r.stats.promptTokens + r.stats.generatedTokens / 5, 'all five were generated');
  });

  it("with the context cache on, each candidate mixes the prompt's own logits once", async () => {
    // The mix is written over the logits it is given: a candidate handed the first one's mixed
    // logits would mix them again and could choose another first token.
    const cached = { ...base, contextCacheWeight: 0.9, sampling: { temperature: 1, topK: 1, topP: 1 } };
    for (let seed = 0; seed < 6; seed++) {
      const r = await engine.complete({ ...cached, seed, candidates: 5 });
      assert.deepEqual(r.alternatives, [], `seed ${seed}: ${JSON.stringify(r.alternatives?.map((c) => c.text))}`);
    }
  });

  it('keeps the first candidate as a single request would give it', async () => {
    const single = await engine.complete(base);
    const several = await engine.complete({ ...base, candidates: 3 });
    assert.equal(several.text, single.text);
    assert.equal(single.alternatives, undefined);
  });

  it('generates one candidate at temperature 0', async () => {
    const r = await engine.complete({ ...base, sampling: { temperature: 0, topK: 0, topP: 1 }, candidates: 5 });
    assert.equal(r.alternatives, undefined);
    assert.ok(fed <= r.stats.promptTokens + r.stats.generatedTokens);
  });

  it('distinctCandidates drops blanks and repeats, keeping the order', () => {
    const kept = distinctCandidates({ text: 'a' }, [
      { text: 'b' },
      { text: 'a' },
      { text: '  ' },
      { text: 'b' },
      { text: 'c' },
    ]);
    assert.deepEqual(
      kept.map((c) => c.text),
      ['b', 'c'],
    );
  });
});
