import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { excludingGlob } from '../../../src/completion/excluded-files';
import { DEFAULT_SETTINGS } from '../../../src/settings';

const excluded = (relative?: string, absolute?: string) =>
  excludingGlob({ relative, absolute }, DEFAULT_SETTINGS.exclude) !== undefined;

describe('wisp.exclude', () => {
  it('by default covers .env files, keys and certificates, and secrets.*, at any depth', () => {
    for (const path of ['.env', '.env.local', 'app/.env.production', 'certs/server.key', 'tls.pem', 'ca.crt']) {
      assert.ok(excluded(path), path);
    }
    assert.ok(excluded('keystore.p12'));
    assert.ok(excluded(undefined, '/home/u/.ssh/id_ed25519'));
    assert.ok(excluded('config/secrets.yaml'));
    assert.ok(excluded('config\\secrets.json'), 'Windows separators');
  });

  it('leaves ordinary code alone', () => {
    for (const path of ['src/env.ts', 'environment.py', 'src/keys.ts', 'docs/secrets-management.md', 'a.pem.ts']) {
      assert.ok(!excluded(path, `/work/${path}`), path);
    }
    assert.ok(!excluded(undefined, undefined), 'an untitled document has no path to match');
  });

  it('names the glob that matched, for the log', () => {
    assert.equal(excludingGlob({ relative: 'gen/out.ts' }, ['**/*.py', 'gen/**']), 'gen/**');
    assert.equal(excludingGlob({ relative: 'gen/out.ts' }, []), undefined);
  });
});
