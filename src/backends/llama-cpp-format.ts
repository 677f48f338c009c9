// Extension host. llama.cpp's llama-server (tools/server/README.md in llama.cpp): POST /infill
// with input_prefix / input_suffix / input_extra, the server building the FIM prompt from the
// model's own FIM tokens; or, when a FIM template is set, POST /completion with the prompt Wisp
// builds. Streamed as server-sent events of {content, stop, timings, completion_probabilities}.
import type { CompletionRequest } from '../engine/process/protocol';
import { completionTemplateFor, fimPrompt } from './fim-template';
import { healedSpan, startsWithGrammar } from './healed-span';
import {
  FormatError,
  FormatOptions,
  ServerDistribution,
  ServerFormat,
  ServerFrame,
  ServerProps,
  ServerRequest,
  DrawnToken,
  TokenPiece,
  ServerTimings,
  jsonErrorText,
  num,
  parseJsonObject,
  topTokenList,
} from './server-format';

/** Other files sent as input_extra: the most relevant few, each cut to this many characters. */
const EXTRA_FILES = 3;
const EXTRA_CHARS = 2048;

function timingsOf(t: Record<string, unknown> | undefined): ServerTimings | undefined {
  return t
    ? {
        promptTokens: num(t.prompt_n),
        cachedTokens: num(t.cache_n),
        predictedTokens: num(t.predicted_n),
        promptMs: num(t.prompt_ms),
        predictedMs: num(t.predicted_ms),
      }
    : undefined;
}

function sampling(request: CompletionRequest): Record<string, unknown> {
  return {
    n_predict: request.maxNewTokens,
    temperature: request.sampling.temperature,
    top_k: request.sampling.topK,
    top_p: request.sampling.topP,
    seed: request.seed,
    stop: request.stop,
    // The server's default repeat penalty (1.1) would make its answers differ from the local engine's.
    repeat_penalty: 1,
    // The previous keystroke's prompt stays in the server's KV cache: only the new tokens are evaluated.
    cache_prompt: true,
    t_max_predict_ms: request.timeBudgetMs,
    stream: true,
    // The server's counts in every frame, not only the last: Wisp often stops reading before the
    // last (the line limit, a stop rule), and the log and the bench still get what the server did.
    timings_per_token: true,
    // Each frame carries its token's log-probability (of the raw logits, as the local engine's
    // confidence), for wisp.minConfidence, and the two most likely tokens with their ids, for the
    // model's second choice (second-choice.ts). The server sorts no more of the vocabulary than asked.
    n_probs: 2,
    post_sampling_probs: false,
  };
}

function pieceOf(value: unknown): TokenPiece | undefined {
  const entry = value as { id?: unknown; bytes?: unknown; logprob?: unknown } | undefined;
  const logprob = num(entry?.logprob);
  const bytes = entry?.bytes;
  if (!Number.isInteger(entry?.id) || logprob === undefined || !Array.isArray(bytes)) return undefined;
  if (!bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) return undefined;
  return { id: entry!.id as number, bytes: bytes as number[], logprob };
}

/**
 * The frame's token with its own bytes, which only its entry among the top tokens has (the frame's
 * text may hold back or release other tokens' text), and the runner-up. Undefined where the drawn
 * token is not among the top two (sampling at a temperature).
 */
function drawnOf(frame: Record<string, unknown>): DrawnToken | undefined {
  const entry = (frame.completion_probabilities as Array<{ id?: unknown; top_logprobs?: unknown }> | undefined)?.[0];
  const decoded = num(frame.tokens_predicted);
  const top = Array.isArray(entry?.top_logprobs) ? entry.top_logprobs.map(pieceOf) : [];
  const token = top.find((t) => t?.id === entry?.id);
  if (!token || decoded === undefined) return undefined;
  const runnerUp = top.find((t) => t !== undefined && t.id !== token.id);
  return { ...token, step: decoded - 1, ...(runnerUp ? { runnerUp } : {}) };
}

export const llamaCppFormat: ServerFormat = {
  kind: 'llama.cpp',
  framing: 'sse',

  request(request: CompletionRequest, options: FormatOptions): ServerRequest {
    const restores = request.tokenHealing === false ? '' : healedSpan(request.prefix);
    const prefix = request.prefix.slice(0, request.prefix.length - restores.length);
    // The server's stop strings would see the restored text too; Wisp's end rules cut the stream at them anyway.
    const healing = restores ? { grammar: startsWithGrammar(restores), stop: [] } : {};
    const template = completionTemplateFor(options.fimTemplate, options.model);
    if (template) {
      return {
        path: '/completion',
        body: { prompt: fimPrompt(template, prefix, request.suffix), ...sampling(request), ...healing },
        restores,
      };
    }
    const extra = options.contextFiles
      .filter((f) => f.text)
      .slice(0, EXTRA_FILES)
      .map((f) => ({ filename: f.path, text: (f.text ?? '').slice(0, EXTRA_CHARS) }));
    return {
      path: '/infill',
      body: {
        input_prefix: prefix,
        input_suffix: request.suffix,
        ...(extra.length > 0 ? { input_extra: extra } : {}),
        prompt: '',
        ...sampling(request),
        ...healing,
      },
      restores,
    };
  },

  promptKind(options: FormatOptions): string {
    const template = completionTemplateFor(options.fimTemplate, options.model);
    return template
      ? `/completion with the ${template} FIM prompt`
      : "/infill (the server builds the model's FIM prompt)";
  },

  props: {
    path: '/props',
    parse(body: string): ServerProps {
      const props = parseJsonObject(body, 'llama.cpp /props');
      const settings = props.default_generation_settings as Record<string, unknown> | undefined;
      // 0 where nothing is loaded (router mode)
      const contextTokens = num(settings?.n_ctx);
      // The alias it was started with (-a), else its Hugging Face repository (-hf), else the path it
      // was loaded from (-m): its file's name, as the folders say nothing of the model.
      const alias = typeof props.model_alias === 'string' ? props.model_alias : undefined;
      const model = alias?.endsWith('.gguf') ? alias.split(/[\\/]/).pop() : alias;
      return { ...(contextTokens ? { contextTokens } : {}), ...(model ? { model } : {}) };
    },
  },

  parse(data: string): ServerFrame {
    const frame = parseJsonObject(data, 'llama.cpp stream');
    if (frame.error !== undefined) return { text: '', error: jsonErrorText(data) };
    if (typeof frame.content !== 'string')
      throw new FormatError(`llama.cpp stream: no "content" in ${data.slice(0, 120)}`);
    const timings = timingsOf(frame.timings as Record<string, unknown> | undefined);
    // [{id, token, logprob, top_logprobs}]: the chosen token first-hand, with its top tokens.
    const tokens = topTokenList(frame.completion_probabilities);
    const drawn = drawnOf(frame);
    const known = {
      ...(timings ? { timings } : {}),
      ...(tokens.length > 0 ? { tokens } : {}),
      ...(drawn ? { drawn } : {}),
    };
    if (frame.stop !== true) return { text: frame.content, ...known };
    const stopType = frame.stop_type;
    return {
      text: frame.content,
      finish: stopType === 'eos' ? 'eos' : stopType === 'word' ? 'stop' : 'length',
      end: true,
      ...known,
    };
  },

  continuationRequest(
    request: CompletionRequest,
    options: FormatOptions,
    forced: readonly number[],
    toRestore: string,
  ): ServerRequest {
    const { path, body, restores } = llamaCppFormat.request(request, options);
    // What the forced tokens leave to restore (an undefined field is not sent).
    const rest = { ...body, grammar: toRestore ? startsWithGrammar(toRestore) : undefined };
    // Token ids where the server reads text (its prompts are "mixed": strings and ids). /infill puts
    // anything but its input_prefix before the suffix, so there the forced start ends the prefix;
    // /completion's prompt ends at the FIM middle, so the ids follow it as the local engine's do.
    return path === '/infill'
      ? { path, body: { ...rest, input_prefix: [body.input_prefix, ...forced] }, restores }
      : { path, body: { ...rest, prompt: [body.prompt, ...forced] }, restores };
  },

  distributionRequest(
    request: CompletionRequest,
    options: FormatOptions,
    count: number,
    banned: readonly number[] = [],
  ): ServerRequest {
    const { path, body } = llamaCppFormat.request(request, options);
    return {
      path,
      body: {
        ...body,
        n_predict: 1,
        // Log-probabilities of the raw logits, as the local engine's view shows them, not after
        // sampling (nor after logit_bias, which only steers the token drawn).
        n_probs: count,
        post_sampling_probs: false,
        return_tokens: true,
        ...(banned.length > 0 ? { logit_bias: banned.map((id) => [id, false]) } : {}),
        stream: false,
      },
    };
  },

  parseDistribution(body: string): ServerDistribution {
    const answer = parseJsonObject(body, 'llama.cpp answer');
    const first = (answer.completion_probabilities as Array<{ top_logprobs?: unknown }> | undefined)?.[0];
    const top = topTokenList(first?.top_logprobs);
    const drawn = Array.isArray(answer.tokens) ? num(answer.tokens[0]) : undefined;
    return {
      top,
      timings: timingsOf(answer.timings as Record<string, unknown> | undefined),
      ...(top.length === 0 && drawn !== undefined ? { partialToken: drawn } : {}),
    };
  },

  errorText: jsonErrorText,
};
