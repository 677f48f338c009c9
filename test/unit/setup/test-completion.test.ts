// Wisp: Test Completion's logic against what it reports on: the real engine process (a model that
// loads, one that does not, one without FIM tokens), the real server client against a port nobody
// listens on, and loopback servers answering as llama-server and vLLM do when a model has no FIM
// tokens, when an API key is missing, and with an empty answer.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { EngineClient } from '../../../src/engine/process/engine-client';
import type { CompleteOptions } from '../../../src/engine/process/engine-client';
import type { CompletionRequest } from '../../../src/engine/process/protocol';
import { ServerClient } from '../../../src/backends/server-client';
import { llamaCppFormat } from '../../../src/backends/llama-cpp-format';
import { openaiFormat } from '../../../src/backends/openai-format';
import { freePort } from '../../server/llama-server-fixture';
import { DEFAULT_SETTINGS, WispSettings } from '../../../src/settings';
import { TEST_SNIPPET, TestEngine, explainFailure, testCompletion } from '../../../src/setup/test-completion';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const ENGINE = path.join(REPO_ROOT, 'dist', 'engine.js');
const CODEGEN = path.join(REPO_ROOT, 'test', 'fixtures', 'families', 'codegen');
const local: WispSettings = { ...DEFAULT_SETTINGS, contextCache: false, timeBudgetMs: 60_000 };

/** The real engine, with the requests it was sent kept for the test. */
function recording(engine: EngineClient): TestEngine & { requests: CompletionRequest[] } {
  const requests: CompletionRequest[] = [];
  return {
    requests,
    get state() {
      return engine.state;
    },
    complete(request: CompletionRequest, options?: CompleteOptions) {
      requests.push(request);
      return engine.complete(request, options);
    },
  };
}

/** A loopback HTTP server that answers every request with `status`, `type` and `body`. */
async function answering(status: number, type: string, body: string): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => server.close(),
  };
}

function serverSettings(backend: WispSettings['backend'], url: string, model = ''): WispSettings {
  return { ...local, backend, 'server.url': url, 'server.model': model };
}

describe('test completion', () => {
  const clients: Array<{ dispose(): void }> = [];
  after(() => clients.forEach((c) => c.dispose()));

  it('asks the loaded model about the snippet, with the cursor after "return ", and shows its answer', async () => {
    const client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    clients.push(client);
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    const engine = recording(client);
    // The random-weight fixture is never confident: the threshold is the next test's.
    const outcome = await testCompletion(engine, { ...local, minConfidence: 0 });
    assert.equal(outcome.level, 'ok', outcome.message);
    assert.ok(outcome.text.length > 0);
    assert.equal(engine.requests.length, 1);
    const [request] = engine.requests;
    assert.ok(request!.prefix.endsWith('    if n < 2:\n        return n\n    return '), request!.prefix);
    assert.ok(request!.suffix.startsWith('\n\n\nprint(fibonacci(10))'), request!.suffix);
    assert.equal(request!.prefix + request!.suffix, TEST_SNIPPET.replace('\u2038', ''));
    assert.match(outcome.message, /^the local engine \(tiny-gpt, model\.onnx, cpu\) completed "return ▌" with /);
    assert.ok(outcome.message.includes(JSON.stringify(outcome.text)), outcome.message);
    assert.match(outcome.message, / in \d+ ms$/);
  });

  it('shows an answer below wisp.minConfidence, as a warning that typing would not show it', async () => {
    const client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    clients.push(client);
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    const outcome = await testCompletion(client, { ...local, minConfidence: 0.99 });
    assert.equal(outcome.level, 'warning', outcome.message);
    assert.ok(outcome.text.length > 0);
    assert.match(
      outcome.message,
      /completed "return ▌" with .*; but its confidence 0\.\d\d is below wisp\.minConfidence 0\.99/,
    );
  });

  it('says the model is not loaded, with the engine’s own reason and what to do', async () => {
    const client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    clients.push(client);
    await assert.rejects(client.load({ modelDir: '/nonexistent/model', device: 'cpu' }));
    const outcome = await testCompletion(client, { ...local, model: '/nonexistent/model' });
    assert.equal(outcome.level, 'error');
    assert.match(outcome.message, /^the local engine \(wisp\.model \/nonexistent\/model\) has no model loaded: /);
    assert.match(outcome.message, /does not exist: \/nonexistent\/model/);
    assert.match(outcome.message, /Wisp: Select Model/);
  });

  it('warns when the model has no fill-in-the-middle tokens', async () => {
    const client = new EngineClient({ enginePath: ENGINE, log: () => {} });
    clients.push(client);
    const info = await client.load({ modelDir: CODEGEN, device: 'cpu', threads: 1 });
    assert.equal(info.fim, false);
    const outcome = await testCompletion(client, local);
    assert.equal(outcome.level, 'warning', outcome.message);
    assert.match(outcome.message, /no fill-in-the-middle tokens, so it never sees the code after the cursor/);
  });

  it('names the URL and the refused connection when no server listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const settings = serverSettings('llama.cpp', url);
    const client = new ServerClient({ format: llamaCppFormat, url, model: '', fimTemplate: 'auto', log: () => {} });
    clients.push(client);
    const outcome = await testCompletion(client, settings);
    assert.equal(outcome.level, 'error');
    assert.ok(
      outcome.message.startsWith(`llama.cpp at ${url} /infill: cannot connect (ECONNREFUSED)`),
      outcome.message,
    );
    assert.ok(
      outcome.message.endsWith(`Nothing accepts connections at ${url}: start the server, or correct wisp.server.url`),
    );
  });

  it("passes on llama-server's own words for a model without FIM tokens", async () => {
    // llama-server's answer to /infill when the vocabulary lacks FIM tokens (server-context.cpp).
    const server = await answering(
      501,
      'application/json',
      JSON.stringify({
        error: {
          code: 501,
          message:
            'Infill is not supported by this model: prefix token is missing. suffix token is missing. middle token is missing. ',
          type: 'not_supported_error',
        },
      }),
    );
    try {
      const client = new ServerClient({
        format: llamaCppFormat,
        url: server.url,
        model: '',
        fimTemplate: 'auto',
        log: () => {},
      });
      clients.push(client);
      const outcome = await testCompletion(client, serverSettings('llama.cpp', server.url));
      assert.equal(outcome.level, 'error');
      assert.match(outcome.message, /HTTP 501: Infill is not supported by this model: prefix token is missing/);
      assert.match(outcome.message, /The served model has no fill-in-the-middle tokens/);
    } finally {
      server.close();
    }
  });

  it('points to Set Server API Key on a 401', async () => {
    const server = await answering(401, 'application/json', JSON.stringify({ error: 'Unauthorized' }));
    try {
      const client = new ServerClient({
        format: openaiFormat,
        url: server.url,
        model: 'm',
        fimTemplate: 'auto',
        log: () => {},
      });
      clients.push(client);
      const outcome = await testCompletion(client, serverSettings('openai', server.url, 'm'));
      assert.equal(outcome.level, 'error');
      assert.match(
        outcome.message,
        /^openai at http:\/\/127\.0\.0\.1:\d+ \(m\) \/v1\/completions: HTTP 401: Unauthorized/,
      );
      assert.match(outcome.message, /Wisp: Set Server API Key/);
    } finally {
      server.close();
    }
  });

  it('says the answer was empty when the server streams no text', async () => {
    const chunk = JSON.stringify({
      id: 'c',
      object: 'text_completion',
      choices: [{ index: 0, text: '', finish_reason: 'stop' }],
    });
    const server = await answering(200, 'text/event-stream', `data: ${chunk}\n\ndata: [DONE]\n\n`);
    try {
      const client = new ServerClient({
        format: openaiFormat,
        url: server.url,
        model: 'm',
        fimTemplate: 'auto',
        log: () => {},
      });
      clients.push(client);
      const outcome = await testCompletion(client, serverSettings('openai', server.url, 'm'));
      assert.equal(outcome.level, 'error');
      assert.match(outcome.message, /answered in \d+ ms, but there is nothing to show: the model's answer was empty$/);
    } finally {
      server.close();
    }
  });

  it('explains the other server failures', () => {
    const s = serverSettings('openai', 'https://llm.example.com', 'Qwen/Qwen2.5-Coder-7B');
    const ready = { status: 'ready' as const };
    const cases: Array<[string, RegExp]> = [
      ['openai at https://llm.example.com /v1/completions: cannot connect (ENOTFOUND)', /does not resolve/],
      [
        'openai at https://llm.example.com /v1/completions: HTTP 404: The model `x` does not exist.',
        /wisp\.server\.model names a model it serves/,
      ],
      [
        "openai at https://llm.example.com /v1/completions: HTTP 400: This model's maximum context length is 2048 tokens",
        /lower wisp\.contextTokens/,
      ],
      [
        'openai at https://llm.example.com /v1/completions: cannot connect (self-signed certificate)',
        /TLS certificate/,
      ],
      ['openai at https://llm.example.com /v1/completions: no answer within 10000 ms', /too slow or stuck/],
    ];
    for (const [error, hint] of cases) assert.match(explainFailure(s, ready, error), hint, error);
    assert.equal(explainFailure(s, ready, 'something new'), 'something new');
  });
});
