import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveModelDir } from '../../src/model-location';
import { DEFAULT_SETTINGS, isEnabledFor, normalizeSettings } from '../../src/settings';

describe('settings', () => {
  it('clamps out-of-range values and ignores wrong types', () => {
    const s = normalizeSettings({ temperature: 9, topK: -3, topP: 'x', maxNewTokens: 10.6, device: 'tpu' });
    assert.equal(s.temperature, 2);
    assert.equal(s.topK, 0);
    assert.equal(s.topP, DEFAULT_SETTINGS.topP);
    assert.equal(s.maxNewTokens, 11);
    assert.equal(s.device, 'auto');
  });

  it('enables per language with "*" as the default', () => {
    const s = normalizeSettings({ enable: { '*': true, markdown: false, bogus: 'yes' } });
    assert.equal(isEnabledFor(s, 'typescript'), true);
    assert.equal(isEnabledFor(s, 'markdown'), false);
    assert.equal(isEnabledFor(normalizeSettings({ enable: { '*': false, python: true } }), 'python'), true);
  });

  it('resolves bundled ids under the extension and keeps absolute folders', () => {
    assert.equal(resolveModelDir('wisp-code-small', '/ext'), '/ext/models/wisp-code-small');
    assert.equal(resolveModelDir('/opt/models/qwen', '/ext'), '/opt/models/qwen');
  });
});
