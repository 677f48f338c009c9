// What servers say of themselves, read from their own answers: llama-server's GET /props and GET
// /v1/models (llama.cpp de3ff81's fields), vLLM's GET /v1/models (its ModelCard: max_model_len).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { llamaCppFormat } from '../../../src/backends/llama-cpp-format';
import { openaiFormat } from '../../../src/backends/openai-format';
import { FormatError } from '../../../src/backends/server-format';

const llamaProps = (alias: string, nCtx: number) =>
  JSON.stringify({
    default_generation_settings: { params: { temperature: 0.8 }, n_ctx: nCtx },
    total_slots: 1,
    model_alias: alias,
    model_path: `/models/${alias}`,
    modalities: { vision: false, video: false, audio: false },
    build_info: 'b1-de3ff81',
  });

describe('a server’s description of itself', () => {
  it('llama-server /props: the slot’s context and the model’s name', () => {
    const props = llamaCppFormat.props!;
    assert.equal(props.path, '/props');
    assert.deepEqual(props.parse(llamaProps('wisp-code-small-f16.gguf', 512), ''), {
      contextTokens: 512,
      model: 'wisp-code-small-f16.gguf',
    });
    // started without -a: the path it loaded, of which the file's name is kept
    assert.deepEqual(
      props.parse(llamaProps('/home/me/.cache/wisp/gguf/wisp-code-small-f16.gguf', 512), '').model,
      'wisp-code-small-f16.gguf',
    );
    assert.equal(
      props.parse(llamaProps('ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF', 4096), '').model,
      'ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF',
    );
    // router mode, nothing loaded: its placeholder context 0 is no context
    assert.deepEqual(props.parse(llamaProps('llama-server', 0), ''), { model: 'llama-server' });
    assert.throws(() => props.parse('<html>', ''), FormatError);
  });

  it('/v1/models: the configured model’s entry, or the only one; vLLM’s max_model_len, llama-server’s meta.n_ctx', () => {
    const props = openaiFormat.props!;
    assert.equal(props.path, '/v1/models');
    const vllm = JSON.stringify({
      object: 'list',
      data: [
        { id: 'Qwen/Qwen2.5-Coder-7B', object: 'model', owned_by: 'vllm', max_model_len: 8192 },
        { id: 'lora-a', object: 'model', owned_by: 'vllm', parent: 'Qwen/Qwen2.5-Coder-7B', max_model_len: 4096 },
      ],
    });
    assert.deepEqual(props.parse(vllm, 'lora-a'), { contextTokens: 4096, model: 'lora-a' });
    assert.deepEqual(props.parse(vllm, 'not-served'), {});
    assert.deepEqual(props.parse(vllm, ''), {}, 'two served, none configured: no guess');
    const llama = JSON.stringify({
      object: 'list',
      data: [{ id: 'tiny.gguf', object: 'model', owned_by: 'llamacpp', meta: { n_ctx: 256, n_ctx_train: 512 } }],
    });
    assert.deepEqual(props.parse(llama, ''), { contextTokens: 256, model: 'tiny.gguf' });
    assert.throws(() => props.parse('{"object":"list"}', ''), FormatError);
  });
});
