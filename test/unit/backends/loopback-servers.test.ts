// The Ollama and OpenAI-compatible backends against loopback HTTP servers that speak each one's
// documented wire format (Ollama: NDJSON from /api/generate; OpenAI: server-sent events from
// /v1/completions ending in [DONE]), and that play the failures: an error status with a body, a
// stream cut in the middle, an answer not in the format, a slow first byte that the caller cancels.
// The OpenAI one describes itself as vLLM does (GET /v1/models with max_model_len).
// Neither is a real Ollama or vLLM (see README.md, "Using a model server").
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CompletionRequest } from '../../../src/engine/process/protocol';
import { ServerClient, ServerError } from '../../../src/backends/server-client';
import { ollamaFormat } from '../../../src/backends/ollama-format';
import { openaiFormat } from '../../../src/backends/openai-format';
import { llamaCppFormat } from '../../../src/backends/llama-cpp-format';
import type { ServerFormat } from '../../../src/backends/server-format';
import { belowConfidence } from '../../../src/completion/inline-request';
import { shownConfidence } from '../../../src/shared/confidence';

type Scenario = 'ok' | 'dedent' | 'error' | 'cut' | 'garbage' | 'slow' | 'no-logprobs' | 'echo-key' | 'vllm-context';

/** The loopback vLLM's context, and its stand-in tokenizer's characters per token. */
const VLLM_CONTEXT = 256;
const VLLM_CHARS_PER_TOKEN = 3;
/** The model the loopback OpenAI server serves. */
const SERVED = 'qwen2.5-coder:1.5b-base';

const request: CompletionRequest = {
  prefix: 'def add(a, b):\n    ',
  suffix: '\n\nprint(add(1, 2))\n',
  sampling: { temperature: 0.2, topK: 40, topP: 0.95 },
  seed: 7,
  maxNewTokens: 32,
  stop: ['\n\n\n'],
  maxLines: 8,
  timeBudgetMs: 30_000,
  contextTokens: 1024,
};

const API_KEY = 'sk-test-4f1c9e0b7d';
const PIECES = ['return', ' a', ' +', ' b'];
/** An answer that goes on past the end of the cursor's block. */
const DEDENT_PIECES = ['return', ' a + b', '\n', 'print', '(add', '(1, 2))', '\n', 'print', '(3)'];

interface Seen {
  path: string;
  body: Record<string, unknown>;
  authorization?: string;
  closedEarly: boolean;
}

function ollamaFrames(pieces = PIECES): string[] {
  const frames = pieces.map((p) => JSON.stringify({ model: 'm', created_at: 't', response: p, done: false }));
  frames.push(
    JSON.stringify({
      model: 'm',
      response: '',
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 21,
      prompt_eval_duration: 12_000_000,
      eval_count: 4,
      eval_duration: 8_000_000,
    }),
  );
  return frames.map((f) => `${f}\n`);
}

/** The probability the loopback OpenAI server gives each token: ' b' is the unlikely one. */
const tokenProbability = (token: string) => (token === ' b' ? 0.2 : 0.8);

/**
 * OpenAI's streamed completions with `logprobs`: each chunk's `logprobs` has its tokens (a chunk may
 * carry several: ' a + b' is three) and their log-probabilities, in parallel lists.
 */
function openaiFrames(pieces = PIECES, withLogprobs = true, promptTokens = 19): string[] {
  const logprobs = (text: string) => {
    const tokens = text.match(/\s*[^\s]+|\s+/g) ?? [];
    return {
      tokens,
      token_logprobs: tokens.map((t) => Math.log(tokenProbability(t))),
      top_logprobs: tokens.map((t) => ({ [t]: Math.log(tokenProbability(t)) })),
      text_offset: tokens.map(() => 0),
    };
  };
  const chunk = (text: string, finish: string | null) =>
    JSON.stringify({
      id: 'c',
      object: 'text_completion',
      choices: [{ index: 0, text, finish_reason: finish, logprobs: withLogprobs ? logprobs(text) : null }],
    });
  const frames = pieces.map((p, i) => chunk(p, i === pieces.length - 1 ? 'stop' : null));
  frames.push(JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: 4 } }));
  frames.push('[DONE]');
  return frames.map((f) => `data: ${f}\n\n`);
}

/** OpenAI's completions answer with `logprobs` (one token): top_logprobs holds {token: logprob}. */
function openaiLogprobsAnswer(withLogprobs: boolean) {
  const top = { return: Math.log(0.6), pass: Math.log(0.25), '\n': Math.log(0.1), ' ': Math.log(0.05) };
  return {
    id: 'c',
    object: 'text_completion',
    choices: [
      {
        index: 0,
        text: 'return',
        finish_reason: 'length',
        logprobs: withLogprobs
          ? { tokens: ['return'], token_logprobs: [top.return], top_logprobs: [top], text_offset: [0] }
          : null,
      },
    ],
    usage: { prompt_tokens: 19, completion_tokens: 1 },
  };
}

/** A loopback server for one format; `scenario` decides how it answers the next request. */
function loopback(format: 'ollama' | 'openai') {
  const state: { scenario: Scenario; seen: Seen[]; described: number } = { scenario: 'ok', seen: [], described: 0 };
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      // vLLM's model list; Ollama's GET routes are not what the client asks
      state.described++;
      if (state.scenario === 'echo-key') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `invalid credentials: ${req.headers.authorization}` } }));
      } else if (format === 'openai' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const model = { id: SERVED, object: 'model', owned_by: 'vllm', root: SERVED, max_model_len: VLLM_CONTEXT };
        res.end(JSON.stringify({ object: 'list', data: [model] }));
      } else {
        res.writeHead(404).end();
      }
      return;
    }
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const seen: Seen = {
        path: req.url ?? '',
        body: JSON.parse(raw) as Record<string, unknown>,
        authorization: req.headers.authorization,
        closedEarly: false,
      };
      state.seen.push(seen);
      res.on('close', () => (seen.closedEarly = !res.writableEnded));
      if (state.scenario === 'echo-key') {
        // A server (or a proxy in front of it) that repeats the credentials it refused.
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `invalid credentials: ${req.headers.authorization}` } }));
        return;
      }
      const promptTokens = Math.ceil(String(seen.body.prompt).length / VLLM_CHARS_PER_TOKEN);
      if (state.scenario === 'vllm-context' && promptTokens + Number(seen.body.max_tokens) > VLLM_CONTEXT) {
        // vLLM's answer to a prompt its max_model_len cannot hold (its own wording).
        res.writeHead(400, { 'content-type': 'application/json' });
        const message = `This model's maximum context length is ${VLLM_CONTEXT} tokens. However, you requested ${promptTokens + Number(seen.body.max_tokens)} tokens (${promptTokens} in the messages, ${String(seen.body.max_tokens)} in the completion). Please reduce the length of the messages or completion.`;
        res.end(JSON.stringify({ object: 'error', message, type: 'BadRequestError', param: null, code: 400 }));
        return;
      }
      if (format === 'openai' && seen.body.stream === false) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(openaiLogprobsAnswer(state.scenario !== 'no-logprobs')));
        return;
      }
      const pieces = state.scenario === 'dedent' ? DEDENT_PIECES : PIECES;
      const frames =
        format === 'ollama'
          ? ollamaFrames(pieces)
          : openaiFrames(
              pieces,
              state.scenario !== 'no-logprobs',
              state.scenario === 'vllm-context' ? promptTokens : undefined,
            );
      const type = format === 'ollama' ? 'application/x-ndjson' : 'text/event-stream';
      switch (state.scenario) {
        case 'ok':
        case 'dedent':
        case 'no-logprobs':
        case 'vllm-context':
          res.writeHead(200, { 'content-type': type });
          for (const f of frames) res.write(f);
          res.end();
          break;
        case 'error':
          res.writeHead(format === 'ollama' ? 404 : 500, { 'content-type': 'application/json' });
          res.end(
            format === 'ollama'
              ? JSON.stringify({ error: "model 'm' not found, try pulling it first" })
              : JSON.stringify({ error: { message: 'CUDA out of memory', type: 'server_error', code: 500 } }),
          );
          break;
        case 'cut':
          res.writeHead(200, { 'content-type': type });
          res.write(frames[0]!);
          res.write(frames[1]!, () => setTimeout(() => res.destroy(), 20));
          break;
        case 'garbage':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html><body>Welcome to nginx</body></html>\n');
          break;
        case 'slow':
          // Headers come only after a long time: the caller's cancel must not wait for them.
          setTimeout(() => res.destroyed || res.end(), 60_000).unref();
          break;
      }
    });
  });
  return { server, state };
}

for (const [kind, format, path] of [
  ['ollama', ollamaFormat, '/api/generate'],
  ['openai', openaiFormat, '/v1/completions'],
] as const) {
  describe(`${kind} backend against a loopback server speaking its wire format`, () => {
    const { server, state } = loopback(kind);
    let url = '';
    const logs: string[] = [];
    const client = (backoffMs = 10) =>
      new ServerClient({
        format: format as ServerFormat,
        url,
        model: SERVED,
        fimTemplate: 'auto',
        apiKey: () => Promise.resolve(API_KEY),
        log: (l) => logs.push(l),
        backoffMs,
      });

    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    it('sends the documented request and streams the answer, with the server’s counts', async () => {
      state.scenario = 'ok';
      const partials: string[] = [];
      const result = await client().complete(request, { onPartial: (t) => partials.push(t) });
      assert.equal(result?.text, 'return a + b');
      assert.deepEqual(partials, ['return', 'return a', 'return a +', 'return a + b']);
      const seen = state.seen.at(-1)!;
      assert.equal(seen.path, path);
      assert.equal(seen.authorization, `Bearer ${API_KEY}`);
      assert.equal(seen.body.stream, true);
      assert.equal(seen.body.model, SERVED);
      if (kind === 'ollama') {
        assert.equal(seen.body.prompt, request.prefix);
        assert.equal(seen.body.suffix, request.suffix);
        assert.equal(seen.body.keep_alive, '30m');
        assert.deepEqual(seen.body.options, {
          temperature: 0.2,
          top_k: 40,
          top_p: 0.95,
          seed: 7,
          num_predict: 32,
          stop: ['\n\n\n'],
        });
        assert.equal(result?.stats.prefilledTokens, 21);
        assert.equal(result?.stats.prefillMs, 12);
        assert.equal(result?.stats.decodeMs, 8);
      } else {
        // The model name says Qwen: its FIM spelling, since these servers take no suffix.
        assert.equal(seen.body.prompt, `<|fim_prefix|>${request.prefix}<|fim_suffix|>${request.suffix}<|fim_middle|>`);
        assert.equal(seen.body.suffix, undefined);
        assert.equal(seen.body.max_tokens, 32);
        assert.equal(seen.body.logprobs, 1);
        assert.equal(result?.stats.prefilledTokens, 19);
      }
      assert.equal(result?.stats.generatedTokens, 4);
    });

    it(
      kind === 'openai'
        ? 'the streamed `logprobs` become the suggestion’s confidence, and wisp.minConfidence applies'
        : 'Ollama streams no log-probabilities: the confidence is unknown, the threshold does not apply, the log says so once',
      async () => {
        state.scenario = 'ok';
        const c = client();
        const before = logs.length;
        const result = await c.complete(request);
        assert.ok(result);
        if (kind === 'ollama') {
          assert.equal(result.logprobs, undefined);
          assert.equal(belowConfidence(result, result.text, 0.99), undefined);
          await c.complete(request);
          const said = logs
            .slice(before)
            .filter((l) => /returns no token log-probabilities: wisp\.minConfidence does not apply/.test(l));
          assert.equal(said.length, 1);
          assert.match(said[0]!, /^ollama at http:\/\/127\.0\.0\.1:\d+/);
          return;
        }
        assert.deepEqual(
          result.logprobs?.map((t) => t.end),
          [6, 8, 10, 12],
        );
        // 'return', ' a', ' +' at 0.8 and ' b' at 0.2: the geometric mean (0.8³ × 0.2)^¼.
        const all = (0.8 ** 3 * 0.2) ** 0.25;
        assert.ok(Math.abs(shownConfidence(result, result.text)! - all) < 1e-12);
        assert.ok(Math.abs(belowConfidence(result, result.text, 0.6)! - all) < 1e-12);
        assert.equal(belowConfidence(result, result.text, 0.5), undefined);
        // Shown cut before ' b' (a filter's cut): the tokens that wrote what is shown.
        assert.ok(Math.abs(shownConfidence(result, 'return a +')! - 0.8) < 1e-12);
      },
    );

    if (kind === 'openai')
      it('a server that streams no `logprobs`: the confidence is unknown, and the log says so once', async () => {
        state.scenario = 'no-logprobs';
        const c = client();
        const before = logs.length;
        const result = await c.complete(request);
        assert.equal(result?.text, 'return a + b');
        assert.equal(result?.logprobs, undefined);
        await c.complete(request);
        const said = logs.slice(before).filter((l) => /returns no token log-probabilities/.test(l));
        assert.equal(said.length, 1);
      });

    it('stops reading where the filters would cut the rest (the end of the cursor’s block)', async () => {
      state.scenario = 'dedent';
      const full = await client().complete(request);
      assert.equal(full?.text, DEDENT_PIECES.join(''));
      const editor = { linePrefix: '    ', lineSuffix: '', nextLines: ['', 'print(add(1, 2))'] };
      const result = await client().complete({ ...request, editor });
      // Ended on the dedented line's first character, which the scope-end filter then cuts.
      assert.equal(result?.text, 'return a + b\np');
      assert.equal(result?.stats.stopReason, 'filter');
    });

    it('an error status gives the server’s own error text; requests are held off, then tried again', async () => {
      state.scenario = 'error';
      const c = client(200);
      const expected = kind === 'ollama' ? /HTTP 404: model 'm' not found/ : /HTTP 500: CUDA out of memory/;
      await assert.rejects(c.complete(request), expected);
      const status = () => c.state.status;
      assert.equal(status(), 'error');
      const count = state.seen.length;
      await assert.rejects(c.complete(request), expected);
      assert.equal(state.seen.length, count, 'held off: no request sent');
      state.scenario = 'ok';
      for (let i = 0; i < 200 && status() !== 'ready'; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal((await c.complete(request))?.text, 'return a + b');
      assert.equal(status(), 'ready');
    });

    if (kind === 'openai')
      it('vLLM’s “maximum context length” answer: the prompt is cut to fit and sent again, and so are later ones', async () => {
        state.scenario = 'vllm-context';
        const c = client();
        const before = state.seen.length;
        const long = {
          ...request,
          prefix: 'def f(x):\n    return x\n\n'.repeat(60) + request.prefix,
          suffix: request.suffix + '\nprint(2)\n'.repeat(60),
        };
        assert.equal((await c.complete(long))?.text, 'return a + b');
        assert.equal((await c.complete({ ...long, prefix: long.prefix + 'r' }))?.text, 'return a + b');
        const prompts = state.seen.slice(before).map((seen) => String(seen.body.prompt));
        assert.equal(prompts.length, 3, 'refused once, then two that fit');
        assert.ok(prompts[0]!.length > VLLM_CONTEXT * VLLM_CHARS_PER_TOKEN);
        for (const prompt of prompts.slice(1)) {
          assert.ok(prompt.length / VLLM_CHARS_PER_TOKEN + request.maxNewTokens <= VLLM_CONTEXT, `${prompt.length}`);
          assert.ok(
            prompt.endsWith(`<|fim_middle|>`) && prompt.includes(request.prefix + (prompt === prompts[2] ? 'r' : '')),
          );
        }
        assert.ok(
          logs.some((l) => /a prompt of \d+ tokens does not fit the server's context of 256; prompts are cut/.test(l)),
        );
        assert.equal(c.state.status, 'ready');
      });

    if (kind === 'openai')
      it('the context /v1/models gives: once the server has counted a prompt, a longer one is cut before it is sent', async () => {
        state.scenario = 'vllm-context';
        const own: string[] = [];
        const c = new ServerClient({
          format: openaiFormat,
          url,
          model: SERVED,
          fimTemplate: 'auto',
          log: (l) => own.push(l),
        });
        const described = state.described;
        const before = state.seen.length;
        const lines = (n: number) => 'def f(x):\n    return x\n\n'.repeat(n);
        const counted = { ...request, prefix: lines(10) + request.prefix };
        const long = {
          ...request,
          prefix: lines(60) + request.prefix,
          suffix: request.suffix + '\nprint(2)\n'.repeat(60),
        };
        assert.equal((await c.complete(counted))?.text, 'return a + b');
        assert.equal((await c.complete(long))?.text, 'return a + b');
        assert.equal(state.described, described + 1, 'asked once');
        const prompts = state.seen.slice(before).map((seen) => String(seen.body.prompt));
        assert.equal(prompts.length, 2, 'no refusal');
        assert.ok(
          prompts[1]!.length / VLLM_CHARS_PER_TOKEN + request.maxNewTokens <= VLLM_CONTEXT,
          `${prompts[1]!.length}`,
        );
        assert.ok(
          prompts[1]!.length > (VLLM_CONTEXT - request.maxNewTokens) * VLLM_CHARS_PER_TOKEN * 0.6,
          'most of the room used',
        );
        assert.deepEqual(
          own.map((l) => l.replace(/:\d+/, ':PORT')),
          [
            `openai at http://127.0.0.1:PORT (${SERVED}): the server says it serves "${SERVED}", with a context of 256 tokens; ` +
              'prompts go to /v1/completions with the qwen FIM prompt',
          ],
        );
        const sent = state.seen.length;
        await assert.rejects(
          c.complete({ ...request, maxNewTokens: 240 }),
          /holds 256 tokens: too few for a prompt and 240 new tokens/,
        );
        assert.equal(state.seen.length, sent, 'nothing sent');
      });

    if (kind === 'openai')
      it('no model configured: the one the server serves is sent, and its name picks the FIM prompt', async () => {
        state.scenario = 'ok';
        const c = new ServerClient({ format: openaiFormat, url, model: '', fimTemplate: 'auto', log: () => {} });
        assert.equal((await c.complete(request))?.text, 'return a + b');
        const seen = state.seen.at(-1)!;
        assert.equal(seen.body.model, SERVED);
        assert.equal(seen.body.prompt, `<|fim_prefix|>${request.prefix}<|fim_suffix|>${request.suffix}<|fim_middle|>`);
        assert.match(c.describe(), new RegExp(`\\(${SERVED.replace(/[.]/g, '\\.')}\\)$`));
      });

    it('a stream cut in the middle is an error, not a short suggestion', async () => {
      state.scenario = 'cut';
      await assert.rejects(client().complete(request), (err: Error) => {
        assert.ok(err instanceof ServerError);
        assert.match(err.message, new RegExp(`${kind} at .*${path}: (the stream broke off|the stream ended before)`));
        return true;
      });
    });

    it('an answer that is not the format says so', async () => {
      state.scenario = 'garbage';
      const expected = kind === 'ollama' ? /not JSON: "<html>/ : /not an event stream \(text\/html\): "<html>/;
      await assert.rejects(client().complete(request), expected);
    });

    it('cancelling while the first byte is awaited resolves undefined and closes the connection', async () => {
      state.scenario = 'slow';
      const abort = new AbortController();
      const count = state.seen.length;
      const pending = client().complete(request, { signal: abort.signal });
      for (let i = 0; i < 400 && state.seen.length === count; i++) await new Promise((r) => setTimeout(r, 10));
      abort.abort();
      assert.equal(await pending, undefined);
      const seen = state.seen.at(-1)!;
      for (let i = 0; i < 400 && !seen.closedEarly; i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(seen.closedEarly, 'the server saw the request end');
    });

    it('a refused connection gives a clear error', async () => {
      const probe = http.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise((resolve) => probe.close(resolve));
      const c = new ServerClient({
        format: format as ServerFormat,
        url: `http://127.0.0.1:${port}`,
        model: 'm',
        fimTemplate: 'auto',
        log: () => {},
      });
      await assert.rejects(c.complete(request), /cannot connect \(ECONNREFUSED\)/);
    });

    it(
      kind === 'openai'
        ? 'the token view gets the top tokens from `logprobs`, or says the server gave none'
        : 'the token view says the backend gives no distribution',
      async () => {
        state.scenario = 'ok';
        const count = state.seen.length;
        const answer = await client().inspect({
          prefix: request.prefix,
          suffix: request.suffix,
          sampling: { temperature: 1, topK: 2, topP: 1 },
          contextTokens: 1024,
          maxNewTokens: 32,
          drawn: [],
          suggestion: '',
        });
        if (kind === 'ollama') {
          assert.equal(answer.status, 'failed');
          assert.match(answer.status === 'failed' ? answer.message : '', /ollama backend gives no token distribution/);
          assert.equal(state.seen.length, count, 'nothing sent');
          return;
        }
        const seen = state.seen.at(-1)!;
        assert.equal(seen.body.logprobs, 20);
        assert.equal(seen.body.max_tokens, 1);
        assert.equal(seen.body.stream, false);
        assert.equal(seen.body.stream_options, undefined);
        assert.equal(seen.authorization, `Bearer ${API_KEY}`);
        assert.equal(answer.status, 'done');
        const view = answer.status === 'done' ? answer.view : undefined;
        assert.deepEqual(
          view?.distribution.candidates.map((c) => [c.text, Number(c.raw.toFixed(6))]),
          [
            ['return', 0.6],
            ['pass', 0.25],
            ['\n', 0.1],
            [' ', 0.05],
          ],
        );
        // Top-k 2 over the server's tokens: the first two, renormalised.
        assert.deepEqual(
          view?.distribution.candidates.map((c) => Number(c.filtered.toFixed(6))),
          [0.705882, 0.294118, 0, 0],
        );
        assert.equal(view?.distribution.keptCount, 2);
        assert.equal(view?.promptTokens, 19);
        assert.match(view?.server?.backend ?? '', /^openai at http:\/\/127\.0\.0\.1:\d+ /);

        state.scenario = 'no-logprobs';
        const none = await client().inspect({
          prefix: request.prefix,
          suffix: request.suffix,
          sampling: { temperature: 0, topK: 0, topP: 1 },
          contextTokens: 1024,
          maxNewTokens: 32,
          drawn: [],
          suggestion: '',
        });
        assert.equal(none.status, 'failed');
        assert.match(none.status === 'failed' ? none.message : '', /gave no token distribution/);
      },
    );

    it('an error text that repeats the API key shows it nowhere: error, state, log, token view', async () => {
      state.scenario = 'echo-key';
      const c = client();
      await assert.rejects(c.complete(request), (err: Error) => {
        assert.match(err.message, /HTTP 401: invalid credentials: Bearer \[API key\]/);
        assert.ok(!err.message.includes(API_KEY));
        return true;
      });
      assert.ok(!(c.state.message ?? '').includes(API_KEY));
      assert.match(c.state.message ?? '', /\[API key\]/);
      if (kind === 'openai') {
        // After the back-off, so that the view's own request is sent.
        for (let i = 0; i < 200 && c.state.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 25));
        const answer = await c.inspect({
          prefix: request.prefix,
          suffix: request.suffix,
          sampling: { temperature: 0, topK: 0, topP: 1 },
          contextTokens: 1024,
          maxNewTokens: 32,
          drawn: [],
          suggestion: '',
        });
        assert.equal(answer.status, 'failed');
        assert.match(answer.status === 'failed' ? answer.message : '', /Bearer \[API key\]/);
      }
    });

    it('the API key never reaches the log', () => {
      assert.ok(logs.length > 0);
      assert.ok(!logs.some((l) => l.includes(API_KEY)));
    });
  });
}

describe('llama.cpp request', () => {
  it('/infill with the other files as input_extra and the server-side settings', () => {
    const { path, body } = llamaCppFormat.request(
      { ...request, tokenHealing: false },
      {
        model: '',
        fimTemplate: 'auto',
        contextFiles: [
          { key: 'a', version: 1, path: 'src/util.py', weight: 1, text: 'def sub(a, b):\n    return a - b\n' },
          { key: 'b', version: 1, path: 'held.py', weight: 1 },
        ],
      },
    );
    assert.equal(path, '/infill');
    assert.equal(body.input_prefix, request.prefix);
    assert.equal(body.input_suffix, request.suffix);
    assert.deepEqual(body.input_extra, [{ filename: 'src/util.py', text: 'def sub(a, b):\n    return a - b\n' }]);
    assert.equal(body.cache_prompt, true);
    assert.equal(body.t_max_predict_ms, 30_000);
    assert.equal(body.n_predict, 32);
    assert.equal(body.repeat_penalty, 1);
    assert.equal(body.timings_per_token, true);
    // The chosen token's log-probability in each frame, for wisp.minConfidence, and the runner-up,
    // for the model's second choice: the top 2.
    assert.equal(body.n_probs, 2);
    assert.equal(body.post_sampling_probs, false);
  });

  it('a streamed frame’s completion_probabilities become its tokens', () => {
    const frame = llamaCppFormat.parse(
      JSON.stringify({
        index: 0,
        content: 'L',
        tokens: [80],
        stop: false,
        completion_probabilities: [
          { id: 80, token: 'L', bytes: [76], logprob: -4.6, top_logprobs: [{ id: 80, token: 'L', logprob: -4.6 }] },
        ],
      }),
    );
    assert.deepEqual(frame, { text: 'L', tokens: [{ id: 80, text: 'L', logprob: -4.6 }] });
  });

  it('a frame’s drawn token: its id, its own bytes (not the text the frame releases) and the runner-up', () => {
    const frame = llamaCppFormat.parse(
      JSON.stringify({
        content: '',
        tokens: [198],
        stop: false,
        tokens_predicted: 3,
        completion_probabilities: [
          {
            id: 198,
            token: '',
            bytes: [],
            logprob: -0.5,
            top_logprobs: [
              { id: 198, token: '\n', bytes: [10], logprob: -0.5 },
              { id: 220, token: ' ', bytes: [32], logprob: -1.5 },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(frame.drawn, {
      id: 198,
      bytes: [10],
      logprob: -0.5,
      step: 2,
      runnerUp: { id: 220, bytes: [32], logprob: -1.5 },
    });
  });

  it('no drawn token where the token drawn is not among the top ones (sampled at a temperature)', () => {
    const frame = llamaCppFormat.parse(
      JSON.stringify({
        content: 'x',
        stop: false,
        tokens_predicted: 1,
        completion_probabilities: [
          {
            id: 87,
            token: 'x',
            bytes: [120],
            logprob: -6,
            top_logprobs: [{ id: 1, token: 'a', bytes: [97], logprob: -1 }],
          },
        ],
      }),
    );
    assert.equal(frame.drawn, undefined);
    assert.equal(frame.text, 'x');
  });

  it('a continuation forces token ids after the FIM middle (/completion) or at the prefix’s end (/infill)', () => {
    const options = { model: '', fimTemplate: 'deepseek' as const, contextFiles: [] };
    const plain = { ...request, tokenHealing: false };
    const completion = llamaCppFormat.continuationRequest!(plain, options, [198, 220], '');
    assert.equal(completion.path, '/completion');
    assert.deepEqual(completion.body.prompt, [llamaCppFormat.request(plain, options).body.prompt, 198, 220]);
    const infill = llamaCppFormat.continuationRequest!(plain, { ...options, fimTemplate: 'auto' }, [198], '');
    assert.equal(infill.path, '/infill');
    assert.deepEqual(infill.body.input_prefix, [plain.prefix, 198]);
    assert.equal(infill.body.input_suffix, plain.suffix);
    assert.equal(infill.body.grammar, undefined);
  });

  it('token healing: the prefix gives back its last span, which a grammar makes the answer restore', () => {
    const healed = { ...request, prefix: 'def f(x):\n    ret', tokenHealing: true };
    const infill = llamaCppFormat.request(healed, { model: '', fimTemplate: 'auto', contextFiles: [] });
    assert.equal(infill.body.input_prefix, 'def f(x):\n   ');
    assert.equal(infill.restores, ' ret');
    assert.equal(infill.body.grammar, 'root ::= " ret" .*');
    assert.deepEqual(infill.body.stop, []);
    const completion = llamaCppFormat.request(healed, { model: '', fimTemplate: 'deepseek', contextFiles: [] });
    assert.equal(completion.restores, ' ret');
    assert.ok((completion.body.prompt as string).includes('def f(x):\n   <｜fim▁hole｜>'));
    // the retry keeps the cut and restores what its forced tokens leave
    const retry = llamaCppFormat.continuationRequest!(
      healed,
      { model: '', fimTemplate: 'auto', contextFiles: [] },
      [7],
      't',
    );
    assert.deepEqual(retry.body.input_prefix, ['def f(x):\n   ', 7]);
    assert.equal(retry.body.grammar, 'root ::= "t" .*');
    assert.equal(retry.restores, ' ret');
    const off = llamaCppFormat.request(
      { ...healed, tokenHealing: false },
      { model: '', fimTemplate: 'auto', contextFiles: [] },
    );
    assert.equal(off.body.input_prefix, healed.prefix);
    assert.equal(off.body.grammar, undefined);
    assert.equal(off.restores, '');
  });

  it('/completion with the prompt Wisp builds when a template is set', () => {
    const { path, body } = llamaCppFormat.request(
      { ...request, tokenHealing: false },
      { model: '', fimTemplate: 'deepseek', contextFiles: [] },
    );
    assert.equal(path, '/completion');
    assert.equal(body.prompt, `<｜fim▁begin｜>${request.prefix}<｜fim▁hole｜>${request.suffix}<｜fim▁end｜>`);
  });
});

describe('llama.cpp backend against loopback servers without the healing grammar', () => {
  let url = '';
  const seen: Array<Record<string, unknown>> = [];
  const scenario = { refuse: false };
  // llama-server's frames, whatever the request asked: a server (or fork) that drops `grammar`, or,
  // refusing, one too old to parse it
  const server = http.createServer((req, res) => {
    // An older server: no /props
    if (req.method === 'GET') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('File Not Found');
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      seen.push(body);
      if (scenario.refuse && body.grammar) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 400, message: 'Failed to parse grammar', type: 'invalid_request_error' } }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const content of ['urn', ' a', ' + b'])
        res.write(`data: ${JSON.stringify({ content, stop: false, tokens_predicted: 1 })}\n\n`);
      res.end(`data: ${JSON.stringify({ content: '', stop: true, stop_type: 'eos' })}\n\n`);
    });
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('a server that does not answer GET /props: the first request goes on after the wait, and the log says so', async () => {
    const quiet = http.createServer((req, res) => {
      if (req.method === 'GET') return; // never answered
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ content: 'a + b', stop: true, stop_type: 'eos' })}\n\n`);
      });
    });
    await new Promise<void>((resolve) => quiet.listen(0, '127.0.0.1', resolve));
    try {
      const logs: string[] = [];
      const client = new ServerClient({
        format: llamaCppFormat,
        url: `http://127.0.0.1:${(quiet.address() as AddressInfo).port}`,
        model: '',
        fimTemplate: 'auto',
        log: (l) => logs.push(l),
        connectTimeoutMs: 300,
      });
      assert.equal((await client.complete({ ...request, tokenHealing: false }))?.text, 'a + b');
      assert.ok(
        logs.some((l) => /\/props: no answer within 300 ms; the context is learnt when a prompt does not fit/.test(l)),
        logs.join('\n'),
      );
      assert.equal((await client.complete({ ...request, tokenHealing: false }))?.text, 'a + b', 'not asked again');
      assert.equal(logs.filter((l) => l.includes('/props')).length, 1, logs.join('\n'));
    } finally {
      quiet.closeAllConnections();
      quiet.close();
    }
  });

  for (const [name, refuse, said] of [
    ['an answer that does not restore the text taken back', false, /the server ignores `grammar`/],
    ['an error status about the grammar', true, /HTTP 400: Failed to parse grammar/],
  ] as const) {
    it(`${name}: asked again without healing, which stays off for that server, and the log says why`, async () => {
      seen.length = 0;
      scenario.refuse = refuse;
      const logs: string[] = [];
      const client = new ServerClient({
        format: llamaCppFormat,
        url,
        model: '',
        fimTemplate: 'auto',
        log: (l) => logs.push(l),
      });
      const healed = { ...request, prefix: 'def f(a, b):\n    ret', tokenHealing: true };
      const result = await client.complete(healed);
      assert.equal(result?.text, 'urn a + b');
      assert.equal(seen[0]?.grammar, 'root ::= " ret" .*');
      assert.equal(seen[0]?.input_prefix, 'def f(a, b):\n   ');
      assert.equal(seen[1]?.grammar, undefined);
      assert.equal(seen[1]?.input_prefix, healed.prefix);
      assert.equal(logs.filter((l) => said.test(l) && l.includes('token healing is off for this server')).length, 1);
      assert.ok(
        logs.some((l) =>
          /\/props: HTTP 404: File Not Found; the context is learnt when a prompt does not fit, the FIM prompt is the setting's$/.test(
            l,
          ),
        ),
        logs.join('\n'),
      );
      assert.equal(client.state.status, 'ready');
      await client.complete(healed);
      assert.equal(seen.length, 3);
      assert.equal(seen[2]?.grammar, undefined);
    });
  }
});
