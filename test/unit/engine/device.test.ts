// Device choice on a machine without a GPU: auto lands on the CPU and says what it tried; an
// explicitly chosen device that cannot start is an error naming it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceCandidates } from '../../../src/engine/model/device';
import { Engine } from '../../../src/engine/engine';
import { TINY_MODEL } from '../fixture';

describe('device choice', () => {
  it('auto tries the platform accelerator, then WebGPU, then the CPU; an explicit device alone', () => {
    assert.deepEqual(deviceCandidates('auto', 'linux', false), ['webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('auto', 'linux', true), ['cuda', 'webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('auto', 'win32', false), ['dml', 'webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('auto', 'darwin', false), ['coreml', 'webgpu', 'cpu']);
    assert.deepEqual(deviceCandidates('cuda', 'linux', false), ['cuda']);
  });

  it('auto lands on the CPU here, with one line saying why', async () => {
    const engine = await Engine.load({ modelDir: TINY_MODEL, device: 'auto', threads: 1 });
    try {
      const info = engine.info();
      assert.deepEqual(info.providers, ['cpu']);
      assert.match(info.fallbackReason ?? '', /^device auto: webgpu \(.+\) not available, running on cpu$/);
    } finally {
      await engine.dispose();
    }
  });

  for (const device of ['cuda', 'webgpu'] as const) {
    it(`an explicit ${device} that cannot start fails clearly`, async () => {
      await assert.rejects(
        Engine.load({ modelDir: TINY_MODEL, device, threads: 1 }),
        new RegExp(
          `wisp\\.device is "${device}" but that execution provider could not start: .+ Set wisp\\.device to "auto" or "cpu"\\.`,
        ),
      );
    });
  }
});
