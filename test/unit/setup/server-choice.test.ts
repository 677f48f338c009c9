import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SETTINGS, MACHINE_ONLY_SETTINGS } from '../../../src/settings';
import { SERVER_KINDS, serverSettingsFor, serverUrlProblem } from '../../../src/setup/server-choice';

describe('Use a Model Server… answers', () => {
  it('accepts http and https base URLs and says what is wrong with the others', () => {
    for (const ok of [
      'http://127.0.0.1:8080',
      'https://llm.example.com',
      'http://gpu-box:8000/',
      ' http://[::1]:11434 ',
    ])
      assert.equal(serverUrlProblem(ok), undefined, ok);
    assert.match(serverUrlProblem('127.0.0.1:8080')!, /not a URL|use http/);
    assert.match(serverUrlProblem('localhost')!, /is not a URL/);
    assert.match(serverUrlProblem('ftp://host')!, /use http:\/\/ or https:\/\/, not ftp:/);
    assert.match(serverUrlProblem('https://user:sk-secret@llm.example.com')!, /Wisp: Set Server API Key/);
    assert.match(serverUrlProblem('http://host:8080/?key=1')!, /without \? or #/);
  });

  it('writes only what changes, the backend last, and only machine-scoped settings', () => {
    const writes = serverSettingsFor(
      { backend: 'openai', url: 'https://llm.example.com/', model: ' Qwen/Qwen2.5-Coder-7B ' },
      DEFAULT_SETTINGS,
    );
    assert.deepEqual(writes, [
      ['server.url', 'https://llm.example.com'],
      ['server.model', 'Qwen/Qwen2.5-Coder-7B'],
      ['backend', 'openai'],
    ]);
    for (const [key] of writes) assert.ok(MACHINE_ONLY_SETTINGS.has(key), key);
    assert.deepEqual(serverSettingsFor({ backend: 'local' }, { ...DEFAULT_SETTINGS, backend: 'ollama' }), [
      ['backend', 'local'],
    ]);
    assert.deepEqual(
      serverSettingsFor({ backend: 'llama.cpp', url: DEFAULT_SETTINGS['server.url'] }, DEFAULT_SETTINGS),
      [['backend', 'llama.cpp']],
    );
  });

  it('offers every backend the settings know, each server kind with a URL that passes its own check', () => {
    assert.deepEqual(SERVER_KINDS.map((k) => k.backend).sort(), ['llama.cpp', 'local', 'ollama', 'openai']);
    for (const kind of SERVER_KINDS.filter((k) => k.backend !== 'local')) {
      assert.equal(serverUrlProblem(kind.defaultUrl!), undefined, kind.backend);
      if (kind.needsModel) assert.ok(kind.modelExample, kind.backend);
    }
  });
});
