// Extension host. What a server backend must know of its server's wire format: the HTTP request for
// a completion, how its streamed body is framed, and what each frame says. One implementation per
// server (llama-cpp-format.ts, ollama-format.ts, openai-format.ts); server-client.ts does the HTTP.
import type { CompletionRequest, ContextFile } from '../engine/process/protocol';
import type { FimTemplateSetting } from './fim-template';
import type { StreamedToken } from './streamed-logprobs';

export type ServerKind = 'llama.cpp' | 'ollama' | 'openai';

export interface FormatOptions {
  /** The model name sent to servers that serve several (Ollama, OpenAI-compatible). */
  model: string;
  fimTemplate: FimTemplateSetting;
  /** Other files, most relevant first, with their texts (for llama.cpp's input_extra). */
  contextFiles: readonly ContextFile[];
}

export interface ServerRequest {
  /** Path under the configured URL, e.g. '/infill'. */
  path: string;
  body: Record<string, unknown>;
  /**
   * Text taken back off the prefix that the answer starts by restoring (healed-span.ts): not
   * part of the suggestion. Absent or '' for none.
   */
  restores?: string;
}

/** The server's own figures for a request, where it gives them. */
export interface ServerTimings {
  /** Prompt tokens the server evaluated for this request. */
  promptTokens?: number;
  /** Prompt tokens it reused from its cache. */
  cachedTokens?: number;
  predictedTokens?: number;
  promptMs?: number;
  predictedMs?: number;
}

export type ServerStop = 'eos' | 'stop' | 'length';

/** What one frame of the stream says. */
export interface ServerFrame {
  /** New text, appended to what came before. */
  text: string;
  /**
   * The chosen tokens that wrote this frame's text, each with its log-probability, where the server
   * sends them (streamed-logprobs.ts gathers them for wisp.minConfidence).
   */
  tokens?: StreamedToken[];
  /** Why the text ended, on the frame that says so. */
  finish?: ServerStop;
  /** Set on the stream's last frame: a stream that closes before it was cut. */
  end?: true;
  timings?: ServerTimings;
  /** An error the server reported inside the stream. */
  error?: string;
  /** The token this frame's step drew, where the server reports it with its id (llama.cpp). */
  drawn?: DrawnToken;
}

/** A token with its own text as UTF-8 bytes (a token may end inside a character). */
export interface TokenPiece {
  id: number;
  bytes: readonly number[];
  logprob: number;
}

/** One step of a generation as the server reports it, for the model's second choice (second-choice.ts). */
export interface DrawnToken extends TokenPiece {
  /** The step's index in the generation (0 = the first token): a step without a frame leaves a gap. */
  step: number;
  /** The most likely token other than the one drawn, where the server gave it. */
  runnerUp?: TokenPiece;
}

/** One of the most likely next tokens, as a server reports it. */
export interface TopToken {
  /** The server's token id; -1 where it gives none (OpenAI's format has only the text). */
  id: number;
  text: string;
  /** Natural log of the raw probability (softmax of the logits, before any sampling setting). */
  logprob: number;
}

export interface ServerDistribution {
  /** Most likely first; empty when the server gave no probabilities. */
  top: TopToken[];
  timings?: ServerTimings;
  /**
   * Set when the server gave no probabilities because the token it drew ends inside a UTF-8
   * character (llama-server reports a token only with the one that completes its character):
   * asking again with this token banned gets the same distribution with a whole token drawn.
   */
  partialToken?: number;
}

/** What a server says of itself, where its API says it. */
export interface ServerProps {
  /** Tokens one request's prompt and answer may take together (a llama-server slot's, vLLM's max_model_len). */
  contextTokens?: number;
  /** The name the server gives the model it serves. */
  model?: string;
}

export interface ServerFormat {
  readonly kind: ServerKind;
  readonly framing: 'sse' | 'ndjson';
  request(request: CompletionRequest, options: FormatOptions): ServerRequest;
  /** What request() sends, in words, for the log: the path and whose FIM prompt. */
  promptKind(options: FormatOptions): string;
  /**
   * Where the server describes itself (GET) and how to read it; `model` is the name configured.
   * Absent where the API gives no context size (Ollama's is the model's, not the one it runs with).
   */
  props?: { path: string; parse(body: string, model: string): ServerProps };
  /**
   * For the token view: the same prompt, one token, not streamed, with the top `count` tokens'
   * log-probabilities. Absent where the server's API has no such field (Ollama).
   */
  distributionRequest?(
    request: CompletionRequest,
    options: FormatOptions,
    count: number,
    banned?: readonly number[],
  ): ServerRequest;
  /**
   * The same prompt with these token ids forced as the answer's first tokens, for the model's
   * second choice (second-choice.ts). Absent where the server takes no token ids (Ollama, OpenAI).
   */
  continuationRequest?(
    request: CompletionRequest,
    options: FormatOptions,
    forced: readonly number[],
    /** What the forced tokens leave of the first request's `restores` still to restore. */
    toRestore: string,
  ): ServerRequest;
  /** The whole answer to distributionRequest; throws on something not in the format. */
  parseDistribution?(body: string): ServerDistribution;
  /** One frame's data, already split out of the stream; throws on something not in the format. */
  parse(data: string): ServerFrame;
  /** The error text in an error response's body, for the message the user sees. */
  errorText(body: string): string;
}

export class FormatError extends Error {}

export function parseJsonObject(data: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new FormatError(`${what}: not JSON: ${JSON.stringify(data.slice(0, 120))}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new FormatError(`${what}: not a JSON object: ${JSON.stringify(data.slice(0, 120))}`);
  return value as Record<string, unknown>;
}

/** `[{id?, token, logprob}]` (llama.cpp's top_logprobs, also inside its OpenAI-compatible answers). */
export function topTokenList(value: unknown): TopToken[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: { id?: unknown; token?: unknown; logprob?: unknown }) => {
    const logprob = num(entry?.logprob);
    if (typeof entry?.token !== 'string' || logprob === undefined) return [];
    return [{ id: Number.isInteger(entry.id) ? (entry.id as number) : -1, text: entry.token, logprob }];
  });
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `{"error": "text"}` or `{"error": {"message": "text"}}` (llama.cpp, Ollama, OpenAI), else the body itself. */
export function jsonErrorText(body: string): string {
  try {
    const value = JSON.parse(body) as { error?: unknown; message?: unknown };
    const err = value.error;
    if (typeof err === 'string') return err;
    if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string')
      return (err as { message: string }).message;
    if (typeof value.message === 'string') return value.message;
  } catch {
    // not JSON: the body is the message
  }
  return body.trim().slice(0, 300);
}
