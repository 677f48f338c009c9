// Extension host. Ollama (docs/api.md, "Generate a completion"): POST /api/generate with `prompt`
// and `suffix` (Ollama fills the model's FIM template), `options` and `keep_alive`. Streamed as
// NDJSON: {response, done}, the last one with done_reason and counts; durations in nanoseconds.
import type { CompletionRequest } from '../engine/process/protocol';
import {
  FormatError,
  FormatOptions,
  ServerFormat,
  ServerFrame,
  ServerRequest,
  jsonErrorText,
  num,
  parseJsonObject,
} from './server-format';

/** Keep the model loaded between keystrokes (Ollama's default unloads it after 5 minutes). */
const KEEP_ALIVE = '30m';

const ms = (ns: unknown) => {
  const n = num(ns);
  return n === undefined ? undefined : n / 1e6;
};

export const ollamaFormat: ServerFormat = {
  kind: 'ollama',
  framing: 'ndjson',

  request(request: CompletionRequest, options: FormatOptions): ServerRequest {
    return {
      path: '/api/generate',
      body: {
        model: options.model,
        prompt: request.prefix,
        suffix: request.suffix,
        stream: true,
        keep_alive: KEEP_ALIVE,
        options: {
          temperature: request.sampling.temperature,
          top_k: request.sampling.topK,
          top_p: request.sampling.topP,
          seed: request.seed,
          num_predict: request.maxNewTokens,
          stop: request.stop,
        },
      },
    };
  },

  promptKind(): string {
    return "/api/generate (Ollama builds the model's FIM prompt from the suffix)";
  },

  parse(data: string): ServerFrame {
    const frame = parseJsonObject(data, 'Ollama stream');
    if (frame.error !== undefined) return { text: '', error: jsonErrorText(data) };
    if (typeof frame.response !== 'string')
      throw new FormatError(`Ollama stream: no "response" in ${data.slice(0, 120)}`);
    if (frame.done !== true) return { text: frame.response };
    return {
      text: frame.response,
      finish: frame.done_reason === 'length' ? 'length' : 'eos',
      end: true,
      timings: {
        promptTokens: num(frame.prompt_eval_count),
        predictedTokens: num(frame.eval_count),
        promptMs: ms(frame.prompt_eval_duration),
        predictedMs: ms(frame.eval_duration),
      },
    };
  },

  errorText: jsonErrorText,
};
