// Every model family fixture (test/fixtures/families, made by recipe/make_family_fixtures.py,
// plus tiny-gpt for GPT-2) through the engine: the layout read from the graph, KV reuse as exact as
// a full prefill, greedy generation the same with and without reuse, the family's FIM sentinels in
// the prompt, and torch's own outputs reproduced.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import { fullPrefill, maxAbsDiff, viaCache } from './kv-checks';
import { KvCacheKind, readModelLayout } from '../../../src/engine/model/model-layout';
import { buildPrompt } from '../../../src/engine/prompt-format';
import { GREEDY } from '../../../src/shared/sampler';
import { ModelTokenizer } from '../../../src/engine/model/tokenizer';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const FAMILIES = path.join(REPO_ROOT, 'test', 'fixtures', 'families');

interface FamilyCase {
  name: string;
  dir: string;
  variant?: string;
  /** Max |logit difference| between cached and full prefill. */
  tolerance: number;
  /** Max |logit difference| from torch's float32 logits; undefined where the weights are quantized. */
  torchTolerance?: number;
  /** reference.json key of torch's greedy continuation for this variant (none for quantized weights). */
  greedyKey?: string;
  /** [prefix, suffix, middle] sentinels, or undefined for a prefix-only family. */
  fim?: [string, string, string];
  /** Tokens that must end a generation: config.json's EOS first, then the family's other stops. */
  stops: string[];
  expect: { kvCache: KvCacheKind; kvHeads: number; kvDtype: string; positionIds: boolean; useCacheBranch: boolean };
}

const FP32 = { tolerance: 1e-4, torchTolerance: 1e-3, greedyKey: 'greedy_next_8' };
const STARCODER_FIM: [string, string, string] = ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'];

const CASES: FamilyCase[] = [
  {
    name: 'gpt2 (tiny-gpt)',
    dir: TINY_MODEL,
    ...FP32,
    fim: STARCODER_FIM,
    stops: ['<|endoftext|>'],
    expect: { kvCache: 'split', kvHeads: 4, kvDtype: 'float32', positionIds: true, useCacheBranch: false },
  },
  {
    name: 'gpt2, merged decoder',
    dir: path.join(FAMILIES, 'gpt2-merged'),
    variant: 'decoder_model_merged',
    ...FP32,
    fim: STARCODER_FIM,
    stops: ['<|endoftext|>'],
    expect: { kvCache: 'split', kvHeads: 4, kvDtype: 'float32', positionIds: false, useCacheBranch: true },
  },
  {
    name: 'gpt_bigcode (StarCoder)',
    dir: path.join(FAMILIES, 'gpt_bigcode'),
    ...FP32,
    fim: STARCODER_FIM,
    stops: ['<|endoftext|>'],
    expect: { kvCache: 'fused', kvHeads: 1, kvDtype: 'float32', positionIds: true, useCacheBranch: false },
  },
  {
    name: 'qwen2 (Qwen2.5-Coder)',
    dir: path.join(FAMILIES, 'qwen2'),
    ...FP32,
    fim: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
    stops: ['<|endoftext|>', '<|file_sep|>'],
    expect: { kvCache: 'split', kvHeads: 2, kvDtype: 'float32', positionIds: true, useCacheBranch: false },
  },
  {
    // The float16 cache is rounded where a prefill is split and the logits come back as float16,
    // so cached and full logits differ by float16 rounding (one ulp, 9.8e-4, seen), not float32's.
    name: 'qwen2, model_fp16',
    dir: path.join(FAMILIES, 'qwen2'),
    variant: 'model_fp16',
    tolerance: 1e-2,
    torchTolerance: 1e-2,
    greedyKey: 'greedy_next_8_fp16',
    fim: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
    stops: ['<|endoftext|>', '<|file_sep|>'],
    expect: { kvCache: 'split', kvHeads: 2, kvDtype: 'float16', positionIds: true, useCacheBranch: false },
  },
  ...['model_q4', 'model_q4_acc4'].map((variant) => ({
    // Weight-only 4-bit (MatMulNBits; _acc4 quantizes activations to int8 per row and block inside
    // the kernel): every row is computed on its own, so reuse keeps float32's tolerance. The weights
    // differ from torch's by the quantization, so its logits and greedy continuation do not apply.
    name: `qwen2, ${variant}`,
    dir: path.join(FAMILIES, 'qwen2'),
    variant,
    tolerance: FP32.tolerance,
    fim: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'] as [string, string, string],
    stops: ['<|endoftext|>', '<|file_sep|>'],
    expect: {
      kvCache: 'split' as const,
      kvHeads: 2,
      kvDtype: 'float32',
      positionIds: true,
      useCacheBranch: false,
    },
  })),
  {
    name: 'llama (CodeLlama tokens)',
    dir: path.join(FAMILIES, 'llama'),
    ...FP32,
    fim: ['<PRE>', '<SUF>', '<MID>'],
    stops: ['</s>', '<EOT>'],
    expect: { kvCache: 'split', kvHeads: 2, kvDtype: 'float32', positionIds: true, useCacheBranch: false },
  },
  {
    name: 'codegen',
    dir: path.join(FAMILIES, 'codegen'),
    ...FP32,
    stops: ['<|endoftext|>'],
    expect: { kvCache: 'split', kvHeads: 4, kvDtype: 'float32', positionIds: true, useCacheBranch: false },
  },
];

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
  return best;
}

for (const c of CASES) {
  describe(`model family: ${c.name}`, () => {
    let engine: Engine;
    const reference = JSON.parse(fs.readFileSync(path.join(c.dir, 'reference.json'), 'utf8'));
    const promptIds: number[] = reference.prompt_ids;

    before(async () => {
      engine = await Engine.load({ modelDir: c.dir, variant: c.variant, device: 'cpu', threads: 1 });
    });
    after(async () => engine.dispose());

    it('reads the family layout from the graph', () => {
      const { layout } = engine.session;
      assert.equal(layout.kvCache, c.expect.kvCache);
      assert.equal(layout.kvHeads, c.expect.kvHeads);
      assert.equal(layout.kvDtype, c.expect.kvDtype);
      assert.equal(layout.hasPositionIds, c.expect.positionIds);
      assert.equal(layout.useCacheBranchInput !== undefined, c.expect.useCacheBranch);
    });

    it('tokenizes the prompt as torch did and matches its logits', async () => {
      assert.deepEqual(engine.tokenizer.encode(reference.prompt), promptIds);
      const logits = await fullPrefill(engine, promptIds);
      const { torchTolerance } = c;
      if (torchTolerance === undefined) return;
      reference.last_logits_first8.forEach((v: number, i: number) =>
        assert.ok(Math.abs(logits[i] - v) <= torchTolerance, `logit ${i}: ${logits[i]} vs torch ${v}`),
      );
    });

    it('appending 1, 2 and 3 tokens feeds only those and matches a full prefill', async () => {
      engine.clearCache();
      await viaCache(engine, promptIds.slice(0, 20));
      let n = 20;
      for (const step of [1, 2, 3]) {
        n += step;
        const ids = promptIds.slice(0, n);
        const { logits, reused } = await viaCache(engine, ids);
        assert.equal(reused, n - step);
        const d = maxAbsDiff(logits, await fullPrefill(engine, ids));
        assert.ok(d <= c.tolerance, `append ${step}: max |diff| ${d}`);
      }
    });

    it('backspace truncates the cache and stays exact', async () => {
      engine.clearCache();
      await viaCache(engine, promptIds);
      const shorter = promptIds.slice(0, promptIds.length - 2);
      const { logits, reused } = await viaCache(engine, shorter);
      assert.equal(reused, shorter.length - 1);
      const d = maxAbsDiff(logits, await fullPrefill(engine, shorter));
      assert.ok(d <= c.tolerance, `max |diff| ${d}`);
    });

    it('an edit in the middle reuses only the common prefix and stays exact', async () => {
      engine.clearCache();
      await viaCache(engine, promptIds);
      const edited = promptIds.slice();
      edited[15] = promptIds.find((t) => t !== promptIds[15])!;
      const { logits, reused } = await viaCache(engine, edited);
      assert.equal(reused, 15);
      const d = maxAbsDiff(logits, await fullPrefill(engine, edited));
      assert.ok(d <= c.tolerance, `max |diff| ${d}`);
    });

    it('greedy generation with reuse equals generation without it, token for token', async () => {
      engine.clearCache();
      const prefix = reference.prompt as string;
      const request = {
        suffix: '',
        sampling: GREEDY,
        seed: 0,
        maxNewTokens: 12,
        stop: [],
        timeBudgetMs: 60_000,
        contextTokens: 200,
      };
      let reusedSome = false;
      for (let cut = prefix.length - 6; cut <= prefix.length; cut += 2) {
        const withReuse = await engine.complete({ ...request, prefix: prefix.slice(0, cut) });
        const without = await engine.complete({ ...request, prefix: prefix.slice(0, cut), reuseCache: false });
        assert.equal(withReuse.text, without.text, `prefix cut at ${cut}`);
        assert.equal(without.stats.reusedTokens, 0);
        reusedSome ||= withReuse.stats.reusedTokens > 0;
      }
      assert.ok(reusedSome, 'no request reused the cache');
    });

    it("stops at config.json's EOS and the family's stop tokens", () => {
      const { tokenizer } = engine;
      assert.equal(tokenizer.eosId, tokenizer.specialTokens.get(c.stops[0]));
      for (const stop of c.stops) assert.ok(tokenizer.stopIds.has(tokenizer.specialTokens.get(stop)!), stop);
    });

    it(
      c.fim ? 'builds the FIM prompt with the family sentinels' : 'builds a prefix-only prompt (no FIM tokens)',
      () => {
        const prompt = buildPrompt(engine.tokenizer, reference.fim_prefix, reference.fim_suffix, {
          contextTokens: 200,
          suffixShare: 0.25,
        });
        const text = engine.tokenizer.decode(prompt.ids);
        if (c.fim) {
          const [p, s, m] = c.fim;
          assert.equal(text, `${p}${reference.fim_prefix}${s}${reference.fim_suffix}${m}`);
          assert.deepEqual(prompt.ids, reference.fim_prompt_ids);
        } else {
          assert.equal(prompt.fim, false);
          assert.equal(text, reference.fim_prefix);
        }
      },
    );

    const { greedyKey } = c;
    if (greedyKey) {
      it('reproduces the greedy continuation torch computed', async () => {
        engine.clearCache();
        const { stepper, logits } = await engine.prefill(promptIds, false);
        const expected: number[] = reference[greedyKey];
        const out: number[] = [];
        let l = logits;
        for (let i = 0; i < expected.length; i++) {
          out.push(argmax(l));
          l = await stepper.feed([out[i]]);
        }
        assert.deepEqual(out, expected);
      });
    }
  });
}

describe("CodeLlama's own tokenizer.json spelling", () => {
  it('finds ▁<PRE> ▁<SUF> ▁<MID> and stops at ▁<EOT> when they are vocabulary pieces, not added tokens', () => {
    const dir = path.join(FAMILIES, 'llama');
    const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    const tokenizerJson = read('tokenizer.json');
    const vocab: Record<string, number> = tokenizerJson.model.vocab;
    const ids: Record<string, number> = {};
    for (const t of ['<PRE>', '<SUF>', '<MID>', '<EOT>']) {
      ids[t] = vocab[t];
      delete vocab[t];
      vocab[`▁${t}`] = ids[t];
    }
    tokenizerJson.added_tokens = tokenizerJson.added_tokens.filter((a: { content: string }) => !(a.content in ids));
    const tokenizer = new ModelTokenizer(tokenizerJson, {}, read('config.json'), read('generation_config.json'));
    assert.deepEqual(tokenizer.fim, { prefix: ids['<PRE>'], suffix: ids['<SUF>'], middle: ids['<MID>'] });
    assert.ok(tokenizer.stopIds.has(ids['<EOT>']));
    assert.ok(tokenizer.stopIds.has(read('config.json').eos_token_id));
  });
});

describe('model families the engine cannot run', () => {
  const ids = { name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] };
  const logits = { name: 'logits', type: 'float32', shape: ['batch_size', 'sequence_length', 250880] };

  it("Bloom's [batch × heads, head_dim, past] keys are refused with the shape and model_type", () => {
    const inputs = [
      ids,
      { name: 'past_key_values.0.key', type: 'float32', shape: ['batch_size*num_heads', 64, 'past_sequence_length'] },
      { name: 'past_key_values.0.value', type: 'float32', shape: ['batch_size*num_heads', 'past_sequence_length', 64] },
    ];
    const outputs = [
      logits,
      { name: 'present.0.key', type: 'float32', shape: [] },
      { name: 'present.0.value', type: 'float32', shape: [] },
    ];
    assert.throws(
      () =>
        readModelLayout(inputs, outputs, {
          model_type: 'bloom',
          n_layer: 1,
          n_head: 16,
          hidden_size: 1024,
          vocab_size: 250880,
        }),
      {
        message:
          "unsupported KV cache shape [batch_size*num_heads, 64, past_sequence_length] for 'past_key_values.0.key' " +
          "(model_type 'bloom'; Wisp reads [batch, heads, past, head_dim])",
      },
    );
  });

  it('an encoder-decoder model is refused as such', () => {
    const inputs = [
      ids,
      { name: 'encoder_hidden_states', type: 'float32', shape: ['batch_size', 'encoder_sequence_length', 512] },
    ];
    assert.throws(() => readModelLayout(inputs, [logits], { model_type: 't5', is_encoder_decoder: true }), {
      message: "'t5' is an encoder-decoder model; Wisp runs decoder-only models",
    });
  });
});
