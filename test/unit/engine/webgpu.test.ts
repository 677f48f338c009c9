// The WebGPU path, with the KV cache on the device: incremental logits as exact as a full prefill,
// a shorter common prefix (backspace) served by slicing on the device, greedy text the same with
// and without reuse, and the same as on the CPU for every fixture family and the bundled model.
// Runs wherever WebGPU finds an adapter — on a machine without a GPU, Mesa's lavapipe (see
// scripts/software-vulkan.sh), where a step takes ~100 ms: the prompts and generations are short.
// Skipped, saying why, where no adapter exists.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CompletionRequest, Engine } from '../../../src/engine/engine';
import { GREEDY } from '../../../src/shared/sampler';
import { fullPrefill, maxAbsDiff, viaCache } from './kv-checks';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

/** Max |logit difference| between the device-resident cache and a full prefill, and WebGPU and the CPU (float32). */
const TOLERANCE = 1e-4;
const FAMILIES = path.join(REPO_ROOT, 'test', 'fixtures', 'families');
const BUNDLED = path.join(REPO_ROOT, 'models', 'wisp-code-small');

const MODELS: { name: string; dir: string; variant?: string }[] = [
  { name: 'tiny-gpt (GPT-2)', dir: TINY_MODEL },
  { name: 'gpt2-merged', dir: path.join(FAMILIES, 'gpt2-merged'), variant: 'decoder_model_merged' },
  { name: 'gpt_bigcode', dir: path.join(FAMILIES, 'gpt_bigcode') },
  { name: 'qwen2', dir: path.join(FAMILIES, 'qwen2') },
  { name: 'qwen2 fp16', dir: path.join(FAMILIES, 'qwen2'), variant: 'model_fp16' },
  { name: 'llama', dir: path.join(FAMILIES, 'llama') },
  { name: 'codegen', dir: path.join(FAMILIES, 'codegen') },
  ...(fs.existsSync(path.join(BUNDLED, 'config.json')) ? [{ name: 'bundled wisp-code-small', dir: BUNDLED }] : []),
];

function request(prefix: string, reuseCache: boolean, maxNewTokens = 4): CompletionRequest {
  return {
    prefix,
    suffix: '',
    sampling: GREEDY,
    seed: 0,
    maxNewTokens,
    stop: [],
    timeBudgetMs: 600_000,
    contextTokens: 64,
    reuseCache,
    promptLookup: false,
  };
}

let gpu: Engine | undefined;
let unavailable: string | undefined;

before(async () => {
  try {
    gpu = await Engine.load({ modelDir: TINY_MODEL, device: 'webgpu', threads: 1 });
  } catch (err) {
    unavailable = `no WebGPU adapter here (${(err as Error).message})`;
  }
});

after(async () => {
  await gpu?.dispose();
});

describe('WebGPU with the KV cache on the device', () => {
  it('keeps the keys/values on the device, and each step matches a full prefill', async (t) => {
    if (!gpu) return t.skip(unavailable);
    const ids = gpu.tokenizer.encode('def fibonacci(n):\n    if n < 2:\n        return n\n');
    const split = ids.length - 4;
    let { present: past } = await gpu.session.forward(ids.slice(0, split), gpu.session.emptyPast());
    assert.ok(past.onDevice, 'present.* stay on the device');
    let worst = 0;
    for (let i = split; i < ids.length; i++) {
      const step = await gpu.session.forward([ids[i]], past);
      past.dispose();
      past = step.present;
      assert.ok(past.onDevice);
      worst = Math.max(worst, maxAbsDiff(step.logits, await fullPrefill(gpu, ids.slice(0, i + 1))));
    }
    past.dispose();
    t.diagnostic(`max |incremental − full prefill| = ${worst.toExponential(1)}`);
    assert.ok(worst <= TOLERANCE, `max |incremental − full prefill| = ${worst}`);
  });

  it('serves a shorter common prefix (backspace, an edit) by slicing on the device, exactly', async (t) => {
    if (!gpu) return t.skip(unavailable);
    gpu.clearCache();
    const typed = gpu.tokenizer.encode('for (let i = 0; i < items.length; i++) {\n  total += items[i];');
    const edited = typed.slice(0, typed.length - 6).concat(gpu.tokenizer.encode(' count'));
    await viaCache(gpu, typed);
    const again = await viaCache(gpu, edited);
    assert.equal(again.reused, typed.length - 6);
    const diff = maxAbsDiff(again.logits, await fullPrefill(gpu, edited));
    t.diagnostic(`max |sliced cache − full prefill| = ${diff.toExponential(1)}`);
    assert.ok(diff <= TOLERANCE, `max |sliced cache − full prefill| = ${diff}`);
    assert.ok(gpu.cachedBytes > 0);
  });

  it('generates the same greedy text with reuse as without, keystroke after keystroke', async (t) => {
    if (!gpu) return t.skip(unavailable);
    gpu.clearCache();
    const keystrokes = [
      'def add(a, b):\n    ret',
      'def add(a, b):\n    retu',
      'def add(a, b):\n    ret',
      'def add(a, b):\n    r',
    ];
    for (const prefix of keystrokes) {
      const reused = await gpu.complete(request(prefix, true));
      const fresh = await gpu.complete(request(prefix, false));
      assert.equal(reused.text, fresh.text, JSON.stringify(prefix));
    }
    assert.ok((await gpu.complete(request(keystrokes[0], true))).stats.reusedTokens > 0);
  });

  it('bounds the device cache by bytes', async (t) => {
    if (!gpu) return t.skip(unavailable);
    const small = await Engine.load({ modelDir: TINY_MODEL, device: 'webgpu', threads: 1, cacheBytes: 1 });
    try {
      await small.complete(request('x = 1\n', true, 2));
      assert.equal(small.cachedSequences, 0);
      assert.equal(small.cachedBytes, 0);
    } finally {
      await small.dispose();
    }
  });
});

describe('WebGPU text equals CPU text', () => {
  for (const model of MODELS) {
    it(model.name, async (t) => {
      if (!gpu) return t.skip(unavailable);
      const options = { modelDir: model.dir, variant: model.variant, threads: 1 };
      const onGpu = await Engine.load({ ...options, device: 'webgpu' });
      const onCpu = await Engine.load({ ...options, device: 'cpu' });
      try {
        const prefix = 'def greet(name):\n    return "Hello, " +';
        const [a, b] = [await onGpu.complete(request(prefix, true)), await onCpu.complete(request(prefix, true))];
        assert.equal(a.text, b.text);
        const ids = onCpu.tokenizer.encode(prefix);
        const diff = maxAbsDiff(await fullPrefill(onGpu, ids), await fullPrefill(onCpu, ids));
        t.diagnostic(`max |WebGPU − CPU| = ${diff.toExponential(1)}`);
        const tolerance = model.variant === 'model_fp16' ? 5e-2 : model.dir === BUNDLED ? 1e-3 : TOLERANCE;
        assert.ok(diff <= tolerance, `max |WebGPU − CPU| = ${diff} (tolerance ${tolerance})`);
      } finally {
        await onGpu.dispose();
        await onCpu.dispose();
      }
    });
  }
});
