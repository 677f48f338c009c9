import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { resolveModelDir } from '../../src/shared/model-location';
import { REPO_ROOT } from './fixture';
import { DEFAULT_SETTINGS, MACHINE_ONLY_SETTINGS, isEnabledFor, normalizeSettings } from '../../src/settings';

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

  it('takes wisp.multiline from its three modes and wisp.exclude as a list of globs', () => {
    assert.equal(normalizeSettings({ multiline: 'never' }).multiline, 'never');
    assert.equal(normalizeSettings({ multiline: 'sometimes' }).multiline, 'auto');
    assert.deepEqual(normalizeSettings({ exclude: ['**/*.secret', 3, ' '] }).exclude, ['**/*.secret']);
    assert.deepEqual(normalizeSettings({ exclude: 'nope' }).exclude, DEFAULT_SETTINGS.exclude);
    assert.ok(MACHINE_ONLY_SETTINGS.has('exclude'), 'a workspace cannot un-exclude a file');
  });

  it('resolves bundled ids under the extension and keeps absolute folders', () => {
    assert.equal(resolveModelDir('wisp-code-small', '/ext'), '/ext/models/wisp-code-small');
    assert.equal(resolveModelDir('/opt/models/qwen', '/ext'), '/opt/models/qwen');
  });

  it('package.json contributes every setting, with the same default and machine scope where only the user may set it', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const properties: Record<string, { default?: unknown; scope?: string }> =
      manifest.contributes.configuration.properties;
    const contributed = Object.keys(properties)
      .map((key) => key.replace(/^wisp\./, ''))
      .sort();
    assert.deepEqual(contributed, Object.keys(DEFAULT_SETTINGS).sort());
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      assert.deepEqual(properties[`wisp.${key}`].default, value, `default of wisp.${key}`);
      assert.equal(
        properties[`wisp.${key}`].scope === 'machine',
        MACHINE_ONLY_SETTINGS.has(key as keyof typeof DEFAULT_SETTINGS),
        `scope of wisp.${key}`,
      );
    }
  });

  it('no setting can hold the server API key (it lives in secret storage only)', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const names = [...Object.keys(manifest.contributes.configuration.properties), ...Object.keys(DEFAULT_SETTINGS)];
    assert.deepEqual(
      names.filter((name) => /key|token|secret|password|auth|credential/i.test(name.replace(/Tokens$/, ''))),
      [],
    );
  });
});
