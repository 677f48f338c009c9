// Extension host. OpenAI-compatible completions (vLLM, TGI, LM Studio, llama-server's /v1): POST
// /v1/completions. These servers reject `suffix`, so the fill-in-the-middle prompt is built here
// from the model's FIM template. Streamed as server-sent events of {choices: [{text,
// finish_reason, logprobs}]}, then `[DONE]`; usage, where the server gives it, in the last chunk.
import type { CompletionRequest } from '../engine/process/protocol';
import { fimPrompt, fimTemplateFor } from './fim-template';
import {
  FormatError,
  FormatOptions,
  ServerDistribution,
  ServerFormat,
  ServerFrame,
  ServerProps,
  ServerRequest,
  jsonErrorText,
  num,
  parseJsonObject,
  topTokenList,
} from './server-format';
import type { StreamedToken } from './streamed-logprobs';

/**
 * The chosen tokens in a choice's `logprobs`: OpenAI's completions format (vLLM, TGI) has parallel
 * `tokens` and `token_logprobs`; llama-server's /v1/completions answers in the chat format,
 * `content: [{token, logprob}]`. Undefined where there are none, or one is missing (OpenAI gives
 * null for a token it has no figure for): a partial list would misstate the confidence.
 */
function chosenTokens(value: unknown): StreamedToken[] | undefined {
  const logprobs = value as { tokens?: unknown; token_logprobs?: unknown; content?: unknown } | null | undefined;
  if (Array.isArray(logprobs?.tokens) && Array.isArray(logprobs.token_logprobs)) {
    const texts = logprobs.tokens as unknown[];
    const figures = logprobs.token_logprobs as unknown[];
    if (texts.length !== figures.length) return undefined;
    const tokens = texts.flatMap((text, i) => {
      const logprob = num(figures[i]);
      return typeof text === 'string' && logprob !== undefined ? [{ text, logprob }] : [];
    });
    return tokens.length === texts.length && tokens.length > 0 ? tokens : undefined;
  }
  if (Array.isArray(logprobs?.content)) {
    const tokens = topTokenList(logprobs.content);
    return tokens.length === logprobs.content.length && tokens.length > 0 ? tokens : undefined;
  }
  return undefined;
}

export const openaiFormat: ServerFormat = {
  kind: 'openai',
  framing: 'sse',

  request(request: CompletionRequest, options: FormatOptions): ServerRequest {
    const template = fimTemplateFor(options.fimTemplate, options.model);
    return {
      path: '/v1/completions',
      body: {
        model: options.model,
        prompt: fimPrompt(template, request.prefix, request.suffix),
        max_tokens: request.maxNewTokens,
        temperature: request.sampling.temperature,
        top_p: request.sampling.topP,
        // Not in OpenAI's own API; vLLM and llama-server take it.
        top_k: request.sampling.topK,
        seed: request.seed,
        ...(request.stop.length > 0 ? { stop: request.stop.slice(0, 4) } : {}),
        stream: true,
        stream_options: { include_usage: true },
        // The chosen tokens' log-probabilities with each chunk, for wisp.minConfidence; 1 is the
        // fewest top tokens that brings them.
        logprobs: 1,
      },
    };
  },

  promptKind(options: FormatOptions): string {
    return `/v1/completions with the ${fimTemplateFor(options.fimTemplate, options.model)} FIM prompt`;
  },

  props: {
    path: '/v1/models',
    // The configured model's entry, or the only one where none is configured. vLLM gives
    // max_model_len; llama-server gives its slot's context as meta.n_ctx.
    parse(body: string, model: string): ServerProps {
      const list = parseJsonObject(body, 'OpenAI /v1/models').data;
      if (!Array.isArray(list)) throw new FormatError(`OpenAI /v1/models: no "data" in ${body.slice(0, 120)}`);
      const entries = list as Array<{ id?: unknown; max_model_len?: unknown; meta?: { n_ctx?: unknown } } | null>;
      const entry = model ? entries.find((e) => e?.id === model) : entries.length === 1 ? entries[0] : undefined;
      if (!entry) return {};
      const contextTokens = num(entry.max_model_len) ?? num(entry.meta?.n_ctx);
      return {
        ...(contextTokens ? { contextTokens } : {}),
        ...(typeof entry.id === 'string' ? { model: entry.id } : {}),
      };
    },
  },

  parse(data: string): ServerFrame {
    if (data.trim() === '[DONE]') return { text: '', end: true };
    const frame = parseJsonObject(data, 'OpenAI stream');
    if (frame.error !== undefined) return { text: '', error: jsonErrorText(data) };
    if (!Array.isArray(frame.choices)) throw new FormatError(`OpenAI stream: no "choices" in ${data.slice(0, 120)}`);
    const usage = frame.usage as Record<string, unknown> | undefined | null;
    const timings = usage
      ? { promptTokens: num(usage.prompt_tokens), predictedTokens: num(usage.completion_tokens) }
      : undefined;
    const choice = frame.choices[0] as { text?: unknown; finish_reason?: unknown; logprobs?: unknown } | undefined;
    // The usage chunk has no choices.
    if (!choice) return { text: '', timings };
    if (typeof choice.text !== 'string') throw new FormatError(`OpenAI stream: a choice without "text"`);
    const reason = choice.finish_reason;
    // finish_reason ends the text, but the usage chunk and [DONE] may follow: the stream is read to [DONE].
    const finish = reason === 'length' ? 'length' : reason === 'stop' ? 'eos' : undefined;
    const tokens = chosenTokens(choice.logprobs);
    return { text: choice.text, timings, ...(finish ? { finish } : {}), ...(tokens ? { tokens } : {}) };
  },

  distributionRequest(request: CompletionRequest, options: FormatOptions, count: number): ServerRequest {
    const { path, body } = openaiFormat.request(request, options);
    // stream_options is refused without stream (vLLM checks).
    const rest = { ...body };
    delete rest.stream_options;
    return { path, body: { ...rest, max_tokens: 1, logprobs: count, stream: false } };
  },

  parseDistribution(body: string): ServerDistribution {
    const answer = parseJsonObject(body, 'OpenAI answer');
    if (!Array.isArray(answer.choices)) throw new FormatError(`OpenAI answer: no "choices" in ${body.slice(0, 120)}`);
    const usage = answer.usage as Record<string, unknown> | undefined | null;
    const timings = usage
      ? { promptTokens: num(usage.prompt_tokens), predictedTokens: num(usage.completion_tokens) }
      : undefined;
    const logprobs = (answer.choices[0] as { logprobs?: unknown } | undefined)?.logprobs as
      { top_logprobs?: unknown; content?: Array<{ top_logprobs?: unknown }> } | null | undefined;
    // OpenAI's completions format (vLLM, TGI): one {token: logprob} object per generated token.
    if (Array.isArray(logprobs?.top_logprobs)) {
      const first = (logprobs.top_logprobs[0] ?? {}) as Record<string, unknown>;
      const top = Object.entries(first)
        .filter((e): e is [string, number] => num(e[1]) !== undefined)
        .map(([text, logprob]) => ({ id: -1, text, logprob }))
        .sort((a, b) => b.logprob - a.logprob);
      return { top, timings };
    }
    // llama-server's /v1/completions answers in the chat format: content[i].top_logprobs.
    return { top: topTokenList(logprobs?.content?.[0]?.top_logprobs), timings };
  },

  errorText: jsonErrorText,
};
