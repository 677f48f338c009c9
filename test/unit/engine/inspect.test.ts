// The token view's data comes from the completion engine and its cache, and says what a full
// forward pass and the sampler would say: same probabilities, same filtering, same draws.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import {
  InspectRequest,
  SHOWN_CANDIDATES,
  SHOWN_PROMPT_TOKENS,
  MIN_SHOWN_PROBABILITY,
  describeDistribution,
  inspect,
  pieceTexts,
} from '../../../src/engine/inspect';
import { buildPrompt, promptBudget } from '../../../src/engine/prompt-format';
import { restrictTo } from '../../../src/engine/decode/token-healing';
import { Rng, SamplingParams, argmax, filterDistribution, sample, softmax } from '../../../src/shared/sampler';
import { DEFAULT_REPEAT_PENALTY, applyRepeatPenalty } from '../../../src/shared/repeat-penalty';
import { readModelFolder } from '../../../src/shared/model-folder';
import { ModelTokenizer } from '../../../src/engine/model/tokenizer';
import { TINY_MODEL } from '../fixture';

const TOLERANCE = 1e-5;

const SETTINGS: SamplingParams[] = [
  { temperature: 0, topK: 40, topP: 0.95 },
  { temperature: 0.8, topK: 5, topP: 1 },
  { temperature: 1.3, topK: 0, topP: 0.5 },
  { temperature: 1, topK: 12, topP: 0.3 },
];

const base: InspectRequest = {
  prefix: 'import os\n\ndef read_config(path):\n    with open(path) as f:\n        return ',
  suffix: '\n\ndef main():\n    print(read_config("x"))\n',
  sampling: SETTINGS[1],
  contextTokens: 200,
  maxNewTokens: 16,
  drawn: [],
  suggestion: '',
  // The raw distribution at the prompt's end; token healing has its own test below.
  tokenHealing: false,
};

describe('describeDistribution (pure)', () => {
  it('gives log2(n) bits for a uniform distribution and keeps what top-k keeps', () => {
    const logits = new Float32Array(8);
    const d = describeDistribution(logits, { temperature: 1, topK: 3, topP: 1 }, 5);
    assert.ok(Math.abs(d.entropyBits - 3) < 1e-12);
    assert.equal(d.candidates.length, 5);
    assert.equal(d.keptCount, 3);
    assert.ok(Math.abs(d.keptMass - 3 / 8) < 1e-12);
    assert.deepEqual(
      d.candidates.map((c) => c.excluded),
      [false, false, false, true, true],
    );
    for (const c of d.candidates) assert.ok(Math.abs(c.filtered - (c.excluded ? 0 : 1 / 3)) < 1e-12);
  });

  it('ranks by raw probability and marks everything but the argmax excluded at temperature 0', () => {
    const logits = Float32Array.of(0, 3, 1, 2);
    const d = describeDistribution(logits, { temperature: 0, topK: 0, topP: 1 }, 4);
    assert.deepEqual(
      d.candidates.map((c) => c.id),
      [1, 3, 2, 0],
    );
    assert.deepEqual(
      d.candidates.map((c) => c.excluded),
      [false, true, true, true],
    );
    assert.equal(d.candidates[0].filtered, 1);
    assert.ok(Math.abs(d.keptMass - softmax(logits)[1]) < 1e-12);
  });

  it('leaves out candidates that carry no probability worth showing, but always the most likely', () => {
    // Two likely tokens and a tail of tokens the model rules out (control tokens: -inf or far below).
    const logits = new Float32Array(50).fill(-30);
    logits[7] = 2;
    logits[9] = 1;
    logits[11] = -Infinity;
    const d = describeDistribution(logits, { temperature: 1, topK: 0, topP: 1 }, 20);
    assert.deepEqual(
      d.candidates.map((c) => c.id),
      [7, 9],
    );
    for (const c of d.candidates) assert.ok(c.raw >= MIN_SHOWN_PROBABILITY);
    const flat = describeDistribution(new Float32Array(100_000), { temperature: 1, topK: 0, topP: 1 }, 20);
    assert.equal(flat.candidates.length, 1);
  });
});

describe('inspect (tiny-gpt fixture, fp32)', () => {
  let engine: Engine;

  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(async () => engine.dispose());

  function builtPrompt(request: InspectRequest) {
    const budget = promptBudget(engine.session.layout.maxPositions, request.maxNewTokens, request.contextTokens);
    return buildPrompt(engine.tokenizer, request.prefix, request.suffix, { contextTokens: budget, suffixShare: 0.25 });
  }
  const promptIds = (request: InspectRequest) => builtPrompt(request).ids;

  async function fullPassLogits(ids: number[]): Promise<Float32Array> {
    return (await engine.session.forward(ids, engine.session.emptyPast())).logits;
  }

  it('shows softmax of a full forward pass on the same context, and the prompt tokens before the cursor', async () => {
    engine.clearCache();
    const view = await inspect(engine, base);
    const prompt = builtPrompt(base);
    const ids = prompt.ids;
    const raw = softmax(await fullPassLogits(ids));
    const top = Array.from(raw.keys())
      .sort((a, b) => raw[b] - raw[a])
      .slice(0, SHOWN_CANDIDATES);
    assert.deepEqual(
      view.distribution.candidates.map((c) => c.id),
      top,
    );
    for (const c of view.distribution.candidates) assert.ok(Math.abs(c.raw - raw[c.id]) <= TOLERANCE, `token ${c.id}`);
    let entropy = 0;
    for (const p of raw) if (p > 0) entropy -= p * Math.log2(p);
    assert.ok(Math.abs(view.distribution.entropyBits - entropy) <= TOLERANCE);
    assert.equal(view.promptTokens, ids.length);
    // The fixture's prompts are PSM: <fim_prefix> prefix <fim_suffix> suffix <fim_middle>.
    const cursor = 1 + prompt.prefixTokens;
    assert.deepEqual(
      view.tokens.map((t) => t.id),
      ids.slice(Math.max(0, cursor - SHOWN_PROMPT_TOKENS), cursor),
    );
    assert.equal(
      view.tokens
        .map((t) => t.text)
        .join('')
        .slice(-20),
      base.prefix.slice(-20),
    );
    assert.equal(view.tokensAfterCursor, ids.length - cursor);
    assert.equal(view.reusedTokens, 0);
    assert.ok(view.tokens.every((t) => !t.reused));
  });

  it('filters exactly as the sampler does, for each setting', async () => {
    const ids = promptIds(base);
    const logits = await fullPassLogits(ids);
    for (const sampling of SETTINGS) {
      const view = await inspect(engine, { ...base, sampling });
      const kept = filterDistribution(logits, sampling);
      const keptProb = new Map(Array.from(kept.ids, (id, j) => [id, kept.probs[j]] as const));
      assert.equal(view.distribution.keptCount, kept.ids.length, JSON.stringify(sampling));
      for (const c of view.distribution.candidates) {
        assert.equal(c.excluded, !keptProb.has(c.id), `${JSON.stringify(sampling)} token ${c.id}`);
        assert.ok(
          Math.abs(c.filtered - (keptProb.get(c.id) ?? 0)) <= TOLERANCE,
          `${JSON.stringify(sampling)} token ${c.id}`,
        );
      }
    }
  });

  it('a second inspection of the same context reuses the cache, and so does the completion after it', async () => {
    engine.clearCache();
    const first = await inspect(engine, base);
    const second = await inspect(engine, base);
    assert.equal(first.computedTokens, first.promptTokens);
    assert.ok(second.computedTokens <= 1, `computed ${second.computedTokens}`);
    assert.equal(second.reusedTokens, second.promptTokens - second.computedTokens);
    assert.ok(
      second.tokens.every((t) => t.reused),
      'only the last prompt token, <fim_middle>, is computed',
    );

    const completion = await engine.complete({ ...base, seed: 0, stop: [], timeBudgetMs: 30_000 });
    assert.equal(completion.stats.promptTokens, second.promptTokens);
    assert.equal(completion.stats.reusedTokens, second.promptTokens - 1);
  });

  it("a sampled token is the sampler's draw, and the distribution moves past the drawn tokens", async () => {
    const sampling: SamplingParams = { temperature: 1.2, topK: 0, topP: 0.9 };
    const ids = promptIds(base);
    const first = await inspect(engine, { ...base, sampling, drawSeed: 7 });
    assert.ok(first.draw);
    assert.equal(first.draw.id, sample(await fullPassLogits(ids), sampling, new Rng(7)));
    assert.deepEqual(
      first.drawn.map((t) => t.id),
      [first.draw.id],
    );

    const next = await inspect(engine, { ...base, sampling, drawn: [first.draw.id], drawSeed: 8 });
    const logits = await fullPassLogits([...ids, first.draw.id]);
    const raw = softmax(logits);
    for (const c of next.distribution.candidates) assert.ok(Math.abs(c.raw - raw[c.id]) <= TOLERANCE);
    assert.equal(next.draw?.id, sample(logits, sampling, new Rng(8)));
    assert.deepEqual(
      next.drawn.map((t) => t.id),
      [first.draw.id, next.draw?.id],
    );
  });

  it('after drawn tokens, the distribution is the repeat-penalised one a generation draws from', async () => {
    const ids = promptIds(base);
    // c, the model's top token after "a b", drawn after a second "a b": a repeat it may lengthen
    const [a, b] = engine.tokenizer.encode('value = ');
    const c = argmax(await fullPassLogits([...ids, a, b]));
    const drawn = [a, b, c, a, b];
    const penalty = { ...DEFAULT_REPEAT_PENALTY, multiplier: 3 };
    const view = await inspect(engine, { ...base, drawn, repeatPenalty: penalty });
    const expected = softmax(applyRepeatPenalty(await fullPassLogits([...ids, ...drawn]), drawn, penalty));
    for (const cand of view.distribution.candidates) assert.ok(Math.abs(cand.raw - expected[cand.id]) <= TOLERANCE);
    const plain = await inspect(engine, { ...base, drawn });
    const rawOf = (v: typeof view, id: number) => v.distribution.candidates.find((x) => x.id === id)?.raw ?? 0;
    assert.ok(rawOf(plain, c) > 0.001, `c is among the shown candidates: p=${rawOf(plain, c)}`);
    assert.ok(rawOf(view, c) < rawOf(plain, c) / 2, 'the token that lengthens the repeat loses');
  });

  it('scores the suggestion token by token as a full forward pass does', async () => {
    const suggestion = 'json.load(f)';
    const view = await inspect(engine, { ...base, suggestion });
    const ids = promptIds(base);
    const suggestionIds = engine.tokenizer.encode(suggestion);
    assert.deepEqual(
      view.suggestion.map((t) => t.id),
      suggestionIds,
    );
    assert.equal(view.suggestion.map((t) => t.text).join(''), suggestion);
    const vocab = engine.session.layout.vocabSize;
    const all = (await engine.session.forwardAll([...ids, ...suggestionIds], engine.session.emptyPast())).logits;
    suggestionIds.forEach((id, i) => {
      const row = all.subarray((ids.length - 1 + i) * vocab, (ids.length + i) * vocab);
      assert.ok(Math.abs(view.suggestion[i].prob - softmax(row)[id]) <= TOLERANCE, `suggestion token ${i}`);
    });
  });
});

describe('inspect with token healing (tiny-gpt fixture)', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(async () => engine.dispose());
  const healed = { ...base, tokenHealing: true, sampling: SETTINGS[2] };

  it('shows the distribution completions draw from: only tokens that restore the text taken back', async () => {
    const { prompt, healing } = engine.fedPromptFor(healed);
    assert.ok(healing);
    const view = await inspect(engine, healed);
    assert.equal(view.healed, healing.text);
    assert.equal(view.promptTokens, prompt.ids.length);
    assert.equal(view.promptTokens, engine.promptFor(healed).ids.length - 1);
    const logits = restrictTo(
      (await engine.session.forward(prompt.ids, engine.session.emptyPast())).logits,
      healing.allowedFor(healing.text),
    );
    const raw = softmax(logits);
    for (const c of view.distribution.candidates) {
      if (raw[c.id] > 0)
        assert.ok(c.text.startsWith(healing.text) || healing.text.startsWith(c.text), JSON.stringify(c.text));
      assert.ok(Math.abs(c.raw - raw[c.id]) <= TOLERANCE);
    }
    const kept = filterDistribution(logits, healed.sampling);
    assert.equal(view.distribution.keptCount, kept.ids.length);
  });

  it("the first token a completion generates is one the view allows, and the suggestion's pieces join to the suggestion", async () => {
    const completion = await engine.complete({
      ...healed,
      sampling: { temperature: 0, topK: 0, topP: 1 },
      seed: 0,
      stop: [],
      timeBudgetMs: 30_000,
      maxNewTokens: 4,
    });
    const view = await inspect(engine, { ...healed, suggestion: completion.text });
    if (completion.text) assert.equal(view.suggestion.map((t) => t.text).join(''), completion.text);
    assert.equal(completion.stats.promptTokens, view.promptTokens);
  });
});

describe('suggestion pieces', () => {
  it('join to exactly the decoded text, even when a character spans two tokens', () => {
    const folder = readModelFolder(TINY_MODEL);
    const tokenizer = new ModelTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
    const text = 'name = "héllo 日本語"\n';
    const ids = tokenizer.encode(text);
    const pieces = pieceTexts(tokenizer, ids);
    assert.equal(pieces.join(''), text);
    assert.ok(pieces.every((p) => !p.includes('\uFFFD')));
  });
});
