// Device choice. Each test creates the condition it is about instead of assuming what the machine
// has: no WebGPU adapter (the Vulkan loader pointed at no driver), only a software adapter (pointed
// at Mesa's lavapipe; skipped where that driver is not installed, see scripts/software-vulkan.sh),
// a provider whose libraries are absent. The engine process is a fresh process, so the Vulkan
// environment set for its start is the one Dawn sees.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { deviceCandidates } from '../../../src/engine/model/device';
import { judgeAccelerator, median, softwareWebgpuAdapter } from '../../../src/engine/model/device-speed';
import { providerErrorReason } from '../../../src/engine/model/provider-messages';
import { EngineClient } from '../../../src/engine/process/engine-client';
import type { EngineOptions } from '../../../src/engine/engine';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const ENGINE = path.join(REPO_ROOT, 'dist', 'engine.js');
const LAVAPIPE = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].find((f) =>
  fs.existsSync(f),
);
const CUDA_LIBRARY = path.join(
  path.dirname(require.resolve('onnxruntime-node/package.json')),
  'bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so',
);
const linux = process.platform === 'linux';
const ESC = '\x1b';

interface Logged {
  info: string[];
  debug: string[];
}

let client: EngineClient | undefined;
afterEach(() => {
  client?.dispose();
  client = undefined;
});

/** An engine process started with the Vulkan loader seeing only `icd` (a missing file = no driver). */
async function loadWithVulkan(icd: string, options: Omit<EngineOptions, 'modelDir'>, logged: Logged) {
  const saved = process.env.VK_ICD_FILENAMES;
  process.env.VK_ICD_FILENAMES = icd;
  try {
    client = new EngineClient({
      enginePath: ENGINE,
      log: (line) => logged.info.push(line),
      debug: (line) => logged.debug.push(line),
    });
    return await client.load({ modelDir: TINY_MODEL, threads: 1, ...options });
  } finally {
    if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
    else process.env.VK_ICD_FILENAMES = saved;
  }
}

/** The engine's output lines reach the log once the stream has been read; give them a moment. */
async function settled(logged: Logged, done: (l: Logged) => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(logged); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('device choice', () => {
  it('auto tries the platform accelerator, then WebGPU, then the CPU; an explicit device alone', () => {
    assert.deepEqual(deviceCandidates('auto', 'linux', false), ['webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('auto', 'linux', true), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('auto', 'win32', false), ['dml', 'webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('auto', 'darwin', false), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('cuda', 'linux', false), ['cuda']);
  });

  it('an accelerator is used only when it is a real one and measured faster than the CPU', () => {
    assert.deepEqual(judgeAccelerator(2, 5, false), { use: true });
    assert.match(judgeAccelerator(5, 5, false).reason!, /^slower than the cpu, 5\.00 ms\/step vs cpu 5\.00 ms\/step$/);
    assert.match(judgeAccelerator(1, 5, true).reason!, /^software adapter, /);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
  });

  it('a software WebGPU adapter: the loader pinned to lavapipe or SwiftShader, or no GPU device node', () => {
    const dirs = (entries: Record<string, string[]>) => (dir: string) => entries[dir] ?? [];
    const withGpu = dirs({ '/dev/dri': ['card0', 'renderD128'] });
    const withNvidia = dirs({ '/dev': ['null', 'nvidia0', 'nvidiactl'] });
    const none = dirs({ '/dev': ['null', 'nvidiactl'] });
    assert.equal(softwareWebgpuAdapter('linux', {}, withGpu), false);
    assert.equal(softwareWebgpuAdapter('linux', {}, withNvidia), false);
    assert.equal(softwareWebgpuAdapter('linux', {}, none), true);
    assert.equal(softwareWebgpuAdapter('linux', { VK_ICD_FILENAMES: '/x/lvp_icd.json' }, withGpu), true);
    assert.equal(softwareWebgpuAdapter('linux', { VK_DRIVER_FILES: '/x/vk_swiftshader_icd.json' }, withGpu), true);
    assert.equal(
      softwareWebgpuAdapter('linux', { VK_ICD_FILENAMES: '/x/lvp.json:/x/nvidia_icd.json' }, withGpu),
      false,
    );
    assert.equal(softwareWebgpuAdapter('win32', {}, none), false);
  });

  it("a provider's error reads without its C++ location, and is cut at a word", () => {
    const noAdapter =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::' +
      'Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == ' +
      'wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
    assert.equal(providerErrorReason(noAdapter), 'Failed to get a WebGPU adapter: No supported adapters');
    assert.equal(providerErrorReason('one two three four', 12), 'one two …');
    assert.equal(providerErrorReason('first line\nsecond'), 'first line');
  });

  it(
    'no WebGPU adapter: auto lands on the CPU, with one whole line saying why, and no escape codes',
    {
      skip: !linux ? 'the Vulkan loader is Linux-only here' : fs.existsSync(CUDA_LIBRARY) && 'CUDA comes first here',
    },
    async () => {
      const logged: Logged = { info: [], debug: [] };
      const info = await loadWithVulkan('/nonexistent/no_icd.json', { device: 'auto' }, logged);
      assert.deepEqual(info.providers, ['cpu']);
      assert.equal(
        info.fallbackReason,
        'device auto: webgpu (Failed to get a WebGPU adapter: No supported adapters) not available; running on cpu',
      );
      await settled(logged, (l) => l.debug.length > 0);
      const folded = logged.debug.filter((l) => l.startsWith('[engine] provider messages: '));
      assert.equal(folded.length, 1, logged.debug.join('\n'));
      // With the Vulkan loader installed, Dawn finds no driver; without it (no libvulkan1), no loader.
      assert.match(
        folded[0],
        /Dawn\/Vulkan: (vkCreateInstance: Found no drivers!|Couldn't load Vulkan: libvulkan\.so\.1: cannot open)/,
      );
      for (const line of [...logged.info, ...logged.debug]) assert.ok(!line.includes(ESC), JSON.stringify(line));
    },
  );

  it('no WebGPU adapter: an explicit webgpu fails clearly', { skip: !linux }, async () => {
    await assert.rejects(
      loadWithVulkan('/nonexistent/no_icd.json', { device: 'webgpu' }, { info: [], debug: [] }),
      /wisp\.device is "webgpu" but that execution provider could not start: Failed to get a WebGPU adapter: No supported adapters\. Set wisp\.device to "auto" or "cpu"\./,
    );
  });

  it(
    'an explicit cuda without its provider libraries fails clearly',
    {
      skip: fs.existsSync(CUDA_LIBRARY) && 'the CUDA provider is installed here',
    },
    async () => {
      await assert.rejects(
        loadWithVulkan('/nonexistent/no_icd.json', { device: 'cuda' }, { info: [], debug: [] }),
        /wisp\.device is "cuda" but that execution provider could not start: .+ Set wisp\.device to "auto" or "cpu"\./,
      );
    },
  );

  describe('only a software adapter (lavapipe)', { skip: !LAVAPIPE && 'Mesa lavapipe is not installed' }, () => {
    it(
      'auto measures it, passes it over for the CPU, and keeps the measurement',
      {
        skip: fs.existsSync(CUDA_LIBRARY) && 'CUDA comes first here',
      },
      async (t) => {
        const logged: Logged = { info: [], debug: [] };
        const info = await loadWithVulkan(LAVAPIPE!, { device: 'auto' }, logged);
        t.diagnostic(info.fallbackReason ?? '');
        assert.deepEqual(info.providers, ['cpu']);
        assert.match(
          info.fallbackReason ?? '',
          /^device auto: webgpu not used \(software adapter, [\d.]+ ms\/step vs cpu [\d.]+ ms\/step\); running on cpu$/,
        );
        const keys = Object.keys(info.deviceSpeeds ?? {});
        assert.equal(keys.length, 2);
        assert.ok(keys.some((k) => k.includes('|webgpu|onnxruntime ')));
        assert.ok(keys.some((k) => k.includes('|cpu|onnxruntime ')));
        client!.dispose();

        // Loaded again with what was measured: the same choice, and nothing measured anew.
        const again = await loadWithVulkan(LAVAPIPE!, { device: 'auto', deviceSpeeds: info.deviceSpeeds }, logged);
        assert.deepEqual(again.providers, ['cpu']);
        assert.deepEqual(again.deviceSpeeds, info.deviceSpeeds);
        assert.equal(again.fallbackReason, info.fallbackReason);
      },
    );

    it('an explicit webgpu runs on it, with one warning', async () => {
      const info = await loadWithVulkan(LAVAPIPE!, { device: 'webgpu' }, { info: [], debug: [] });
      assert.deepEqual(info.providers, ['webgpu']);
      assert.match(info.deviceWarning ?? '', /^wisp\.device is "webgpu" on a software adapter/);
      assert.equal(info.fallbackReason, undefined);
      const result = await client!.complete({
        prefix: 'def add(a, b):\n    return',
        suffix: '\n',
        sampling: { temperature: 0, topK: 0, topP: 1 },
        seed: 0,
        maxNewTokens: 3,
        stop: [],
        timeBudgetMs: 60_000,
        contextTokens: 64,
      });
      assert.ok(result && result.stats.generatedTokens > 0);
    });
  });
});
