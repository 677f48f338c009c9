import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contextOverflow } from '../../../src/backends/context-overflow';

describe('a server saying the prompt does not fit its context', () => {
  it('llama-server: the prompt’s tokens and the context’s, from either of its messages', () => {
    assert.deepEqual(
      contextOverflow(
        'http://127.0.0.1:8080 /completion: HTTP 400: request (981 tokens) exceeds the available context size (512 tokens), try increasing it',
      ),
      { promptTokens: 981, contextTokens: 512 },
    );
    assert.deepEqual(
      contextOverflow('input (4100 tokens) is larger than the max context size (4096 tokens). skipping'),
      { promptTokens: 4100, contextTokens: 4096 },
    );
  });

  it('vLLM: the input tokens, not the total with the completion', () => {
    assert.deepEqual(
      contextOverflow(
        "This model's maximum context length is 1536 tokens. However, your request has 4176 input tokens. Please reduce the length of the input messages.",
      ),
      { promptTokens: 4176, contextTokens: 1536 },
    );
    assert.deepEqual(
      contextOverflow(
        "This model's maximum context length is 2048 tokens. However, you requested 2148 tokens (2048 in the messages, 100 in the completion). Please reduce the length of the messages or completion.",
      ),
      { promptTokens: 2048, contextTokens: 2048 },
    );
    assert.deepEqual(
      contextOverflow(
        "'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is 4096 tokens and your request has 2778 input tokens (8000 > 4096 - 2778).",
      ),
      { promptTokens: 2778, contextTokens: 4096 },
    );
  });

  it('any other error is not one', () => {
    assert.equal(contextOverflow('HTTP 500: model not loaded'), undefined);
    assert.equal(contextOverflow("This model's maximum context length is 2048 tokens."), undefined);
    assert.equal(contextOverflow('the stream stalled (no data for 15000 ms)'), undefined);
  });
});
