// Extension host. A model server as Wisp's completion engine: one streamed HTTP request per
// completion (node:http, see http-request.ts), in the server's own format (server-format.ts). A newer request or the
// caller's signal aborts the HTTP request, so the server stops generating. Failures (refused
// connection, no answer in time, an error status, a stream cut or not in the format) reject with
// one clear message, put the state in 'error' and hold further requests off with a back-off, so a
// down server costs neither a network round trip per keystroke nor a message storm. Where the
// format can force an answer's start (llama.cpp), a first line that repeats the line after the
// cursor is asked for once more with the model's second choice (second-choice.ts). A prompt the
// server's context cannot hold is cut to fit and sent again, and so are the later ones (prompt-budget.ts).
// Before its first request the client asks the server to describe itself, where its API can: the
// context it runs with and the model it serves, whose name picks the FIM prompt where the setting
// is 'auto' and is sent where none is configured.
import type { CompleteOptions, EngineState } from '../engine/process/engine-client';
import type {
  CompletionRequest,
  CompletionResult,
  CompletionStats,
  ContextFile,
  InspectAnswer,
  InspectRequest,
} from '../engine/process/protocol';
import { repeatsFollowingLine } from '../shared/scope-rules';
import { endOfText } from '../shared/stop-rules';
import type { CompletionEngine } from './completion-engine';
import type { FimTemplateSetting } from './fim-template';
import {
  DrawnToken,
  FormatError,
  FormatOptions,
  ServerDistribution,
  ServerFormat,
  ServerFrame,
  ServerProps,
  ServerRequest,
  ServerTimings,
} from './server-format';
import { SecondChoice, secondChoice } from './second-choice';
import { serverTokenView } from './server-token-view';
import { ConnectError, StreamedResponse, getText, postStream } from './http-request';
import { ndjsonLines, sseData } from './stream-frames';
import { StreamedLogprobs } from './streamed-logprobs';
import { ContextOverflow, contextOverflow } from './context-overflow';
import { PromptBudget, PromptText } from './prompt-budget';

export interface ServerClientOptions {
  format: ServerFormat;
  /** The server's base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  model: string;
  fimTemplate: FimTemplateSetting;
  /** The API key, sent as a bearer token; never logged. */
  apiKey?: () => Promise<string | undefined>;
  log: (line: string) => void;
  /** Most time to wait for the response headers. */
  connectTimeoutMs?: number;
  /** Most time without a byte of the stream once it has started. */
  stallTimeoutMs?: number;
  /** First back-off after a failure; doubled per failure in a row, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export class ServerError extends Error {}

/** The server refused or ignored the grammar that token healing sends (healed-span.ts). */
class HealingRefused extends ServerError {}

/** No connection: the server that answers again may have been restarted with another model or context. */
class Unreachable extends ServerError {}

/** Top tokens the token view asks a server for (the local engine's view shows up to 20 as well). */
export const SERVER_TOP_TOKENS = 20;
/** Requests the token view may make for one place (see ServerDistribution.partialToken). */
const DISTRIBUTION_TRIES = 4;
/**
 * Most time the server's description of itself may take: the first request waits for it, and a
 * server that does not answer it only loses what it would have told.
 */
const PROPS_TIMEOUT_MS = 5_000;
/** Sends of one request after the first: healing refused, a prompt cut to fit, cut again. */
const RESENDS = 3;

/** Stop reasons of the local engine, for the log line and the callers. */
type Stop = CompletionStats['stopReason'];

/** One streamed request's answer, as run() combines a first answer and a retry. */
interface StreamedAnswer {
  text: string;
  stop: Stop;
  timings: ServerTimings;
  generatedTokens: number;
  logprobs: StreamedLogprobs;
  /** The steps the server reported with their tokens, for the model's second choice. */
  drawn: DrawnToken[];
  /** When the request's time budget ends (performance.now()); a retry keeps the first's. */
  budgetEnd: number;
  /** The text the answer restored before the suggestion's (token healing). */
  restores: string;
}

export class ServerClient implements CompletionEngine {
  private readonly options: Required<Omit<ServerClientOptions, 'apiKey'>> & Pick<ServerClientOptions, 'apiKey'>;
  private currentState: EngineState;
  private readonly listeners = new Set<(state: EngineState) => void>();
  private running: AbortController | undefined;
  /** The token view's request: a completion request ends it, as the local engine skips an inspection. */
  private inspecting: AbortController | undefined;
  private pending = 0;
  private failures = 0;
  private heldOffUntil = 0;
  private lastError = '';
  private retryTimer: NodeJS.Timeout | undefined;
  private contextFiles: ContextFile[] = [];
  /** The key last sent, to take out of any message: a server or proxy may echo it in an error. */
  private sentKey: string | undefined;
  /** The log has said that this server's suggestions come without log-probabilities. */
  private saidNoLogprobs = false;
  /** The server refused or ignored token healing's grammar once: its requests go without healing. */
  private healingOff = false;
  /** What the server's context holds, once the server said it or a prompt did not fit it. */
  private readonly budget = new PromptBudget();
  /** The server's description of itself, asked once before the first request (again after it was unreachable). */
  private described: Promise<void> | undefined;
  private describing: AbortController | undefined;
  /** The model the server says it serves. */
  private servedModel = '';

  constructor(options: ServerClientOptions) {
    this.options = {
      connectTimeoutMs: 10_000,
      stallTimeoutMs: 15_000,
      backoffMs: 1000,
      maxBackoffMs: 30_000,
      ...options,
      url: options.url.replace(/\/+$/, ''),
    };
    this.currentState = { status: 'ready', info: this.info() };
  }

  get state(): EngineState {
    return this.currentState;
  }

  get inFlight(): number {
    return this.pending;
  }

  /** How the status bar names the backend. */
  describe(): string {
    const model = this.options.model || this.servedModel;
    return `${this.options.format.kind} at ${this.options.url}${model ? ` (${model})` : ''}`;
  }

  onStateChange(listener: (state: EngineState) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  setContextFiles(files: ContextFile[]): void {
    this.contextFiles = files;
  }

  /**
   * The next-token distribution at the cursor from the server (one token, its top log-probabilities),
   * where its API gives one. Never in a completion's way: skipped while one runs, and ended by one
   * that starts. A failure here is the view's only: it starts no back-off.
   */
  async inspect(request: InspectRequest): Promise<InspectAnswer> {
    const { format } = this.options;
    if (!format.distributionRequest || !format.parseDistribution)
      return {
        status: 'failed',
        message: `the ${format.kind} backend gives no token distribution (the server's API returns no token probabilities)`,
      };
    if (this.pending > 0) return { status: 'skipped', reason: 'a completion is running' };
    if (Date.now() < this.heldOffUntil)
      return { status: 'failed', message: this.currentState.message ?? this.lastError };
    await this.describeServer();
    const distribution = format.distributionRequest.bind(format);
    const formatOptions = this.formatOptions();
    const ask = (text: PromptText, banned: readonly number[]) =>
      distribution(
        {
          ...text,
          sampling: request.sampling,
          seed: 0,
          stop: [],
          timeBudgetMs: this.options.stallTimeoutMs,
          contextTokens: request.contextTokens,
          // The distribution after the text as typed: a healed prompt's first token is constrained
          // by a grammar, which the raw probabilities the view shows do not reflect.
          tokenHealing: false,
        },
        formatOptions,
        SERVER_TOP_TOKENS,
        banned,
      );
    const typed: PromptText = { prefix: request.prefix, suffix: request.suffix, maxNewTokens: 1 };
    const { path } = ask(typed, []);
    const where = `${this.describe()} ${path}`;
    this.inspecting?.abort();
    const abort = new AbortController();
    this.inspecting = abort;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.options.connectTimeoutMs + this.options.stallTimeoutMs);
    try {
      const banned: number[] = [];
      let answer: ServerDistribution | undefined;
      let resent = false;
      for (let attempt = 0; attempt < DISTRIBUTION_TRIES; attempt++) {
        const headers = await this.headers();
        const sent = this.fitted(typed);
        const response = await postStream(this.options.url + path, ask(sent, banned).body, headers, abort.signal);
        const text = await response.text();
        const overflow = response.status === 400 && !resent ? contextOverflow(format.errorText(text)) : undefined;
        if (overflow) {
          // Once: the same place again with the text cut to fit.
          resent = true;
          this.learnOverflow(sent, overflow);
          attempt--;
          continue;
        }
        if (response.status < 200 || response.status >= 300)
          return {
            status: 'failed',
            message: this.redact(`${where}: HTTP ${response.status}: ${format.errorText(text)}`),
          };
        answer = format.parseDistribution!(text);
        if (answer.top.length > 0 || answer.partialToken === undefined) break;
        banned.push(answer.partialToken);
      }
      if (!answer?.top.length)
        return { status: 'failed', message: `${where}: the server gave no token distribution (no probabilities)` };
      return {
        status: 'done',
        view: serverTokenView(answer, request.sampling, this.describe(), SERVER_TOP_TOKENS),
      };
    } catch (err) {
      if (abort.signal.aborted && !timedOut) return { status: 'skipped', reason: 'a completion started' };
      if (timedOut) return { status: 'failed', message: `${where}: no answer in time` };
      if (err instanceof ServerError) return { status: 'failed', message: this.redact(err.message) };
      const detail = err instanceof FormatError ? err.message : ((err as ConnectError).code ?? (err as Error).message);
      return { status: 'failed', message: this.redact(`${where}: ${detail}`) };
    } finally {
      clearTimeout(timer);
      if (this.inspecting === abort) this.inspecting = undefined;
    }
  }

  async complete(request: CompletionRequest, options: CompleteOptions = {}): Promise<CompletionResult | undefined> {
    if (options.signal?.aborted) return undefined;
    if (Date.now() < this.heldOffUntil) throw new ServerError(this.currentState.message ?? this.lastError);
    this.running?.abort();
    this.inspecting?.abort();
    const abort = new AbortController();
    this.running = abort;
    const onAbort = () => abort.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.pending++;
    try {
      const result = await this.run(request, abort, options.onPartial);
      if (result) this.succeeded();
      return result;
    } catch (err) {
      if (abort.signal.aborted && !(err instanceof ServerError)) return undefined;
      throw this.failed(err as Error);
    } finally {
      this.pending--;
      options.signal?.removeEventListener('abort', onAbort);
      if (this.running === abort) this.running = undefined;
    }
  }

  dispose(): void {
    clearTimeout(this.retryTimer);
    this.describing?.abort();
    this.describing = undefined;
    this.running?.abort();
    this.inspecting?.abort();
    this.listeners.clear();
  }

  private async headers(): Promise<Record<string, string>> {
    const key = await this.options.apiKey?.();
    if (key) this.sentKey = key;
    return key ? { authorization: `Bearer ${key}` } : {};
  }

  /** The message without the API key (the log, the status bar and errors show messages). */
  private redact(message: string): string {
    return this.sentKey ? message.split(this.sentKey).join('[API key]') : message;
  }

  private info() {
    return {
      modelDir: this.options.url,
      modelName: this.options.model || this.options.format.kind,
      variant: this.options.format.kind,
      providers: [this.options.url],
      fim: true,
      numLayers: 0,
      vocabSize: 0,
      maxPositions: 0,
    };
  }

  private setState(state: EngineState): void {
    this.currentState = state;
    for (const listener of this.listeners) listener(state);
  }

  private succeeded(): void {
    if (this.failures === 0) return;
    this.failures = 0;
    this.lastError = '';
    this.options.log(`${this.describe()} answers again`);
    this.setState({ status: 'ready', info: this.info() });
  }

  /** Logs the failure, starts the back-off, and returns the error for the caller. */
  private failed(err: Error): Error {
    if (err instanceof Unreachable) this.described = undefined;
    const message = this.redact(err instanceof ServerError ? err.message : `${this.describe()}: ${err.message}`);
    this.failures++;
    const delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (this.failures - 1));
    this.heldOffUntil = Date.now() + delay;
    this.lastError = message;
    this.options.log(`${message} (failure ${this.failures} in a row; next try in ${delay} ms)`);
    this.setState({ status: 'error', message: `${message}; retrying in ${Math.round(delay / 1000)} s` });
    clearTimeout(this.retryTimer);
    // After the back-off the next keystroke may try again: the provider asks only a 'ready' engine.
    this.retryTimer = setTimeout(() => this.setState({ status: 'ready', info: this.info(), message }), delay);
    return new ServerError(message);
  }

  private async run(
    request: CompletionRequest,
    abort: AbortController,
    onPartial?: (text: string) => void,
  ): Promise<CompletionResult | undefined> {
    const t0 = performance.now();
    const { format } = this.options;
    await this.describeServer();
    if (abort.signal.aborted) return undefined;
    const formatOptions = this.formatOptions();
    if (this.healingOff) request = { ...request, tokenHealing: false };
    let first: StreamedAnswer | undefined;
    for (let resend = 0; ; resend++) {
      const sent = this.fitted(request);
      try {
        first = await this.stream(format.request(sent, formatOptions), sent, abort.signal, onPartial);
        request = sent;
        if (first) this.observePrompt(sent, first.timings);
        break;
      } catch (err) {
        if (resend >= RESENDS) throw err;
        const overflow = err instanceof ServerError ? contextOverflow(err.message) : undefined;
        if (overflow) {
          this.learnOverflow(sent, overflow);
        } else if (err instanceof HealingRefused) {
          // A server without the grammar llama-server has: the same request once more, and from now
          // on, without healing.
          this.healingOff = true;
          this.options.log(`${this.redact(err.message)}; token healing is off for this server from now on`);
          request = { ...request, tokenHealing: false };
        } else {
          throw err;
        }
      }
    }
    if (!first) return undefined;
    let answer = first;
    let setAsideTokens = 0;
    const again = this.secondChoiceFor(request, first);
    if (again && format.continuationRequest) {
      const forced = format.continuationRequest(request, formatOptions, again.forced, again.toRestore);
      const second = await this.stream(forced, request, abort.signal, onPartial, {
        budgetEnd: first.budgetEnd,
        start: again,
      });
      if (!second) return undefined;
      setAsideTokens = first.generatedTokens;
      answer = second;
    }
    const totalMs = performance.now() - t0;
    const { timings } = first;
    const both = answer === first ? [first.timings] : [first.timings, answer.timings];
    const sum = (field: keyof ServerTimings) => both.reduce((total, t) => total + (t[field] ?? 0), 0);
    const tokenLogprobs = answer.logprobs.result(answer.text, answer.restores.length);
    if (!tokenLogprobs && !this.saidNoLogprobs) {
      this.saidNoLogprobs = true;
      this.options.log(
        `${this.describe()} returns no token log-probabilities: wisp.minConfidence does not apply to its suggestions`,
      );
    }
    return {
      text: answer.text,
      ...(tokenLogprobs ? { logprobs: tokenLogprobs } : {}),
      stats: {
        promptTokens: (timings.promptTokens ?? 0) + (timings.cachedTokens ?? 0),
        reusedTokens: timings.cachedTokens ?? 0,
        prefilledTokens: sum('promptTokens'),
        generatedTokens: setAsideTokens + answer.generatedTokens,
        tokenizeMs: 0,
        prefillMs: sum('promptMs'),
        decodeMs: sum('predictedMs'),
        totalMs,
        stopReason: answer.stop,
        ...(setAsideTokens > 0 ? { setAsideTokens } : {}),
      },
    };
  }

  private formatOptions(): FormatOptions {
    return {
      model: this.options.model || this.servedModel,
      fimTemplate: this.options.fimTemplate,
      contextFiles: this.contextFiles,
    };
  }

  /**
   * Asks the server to describe itself, once; every request waits for the answer, which comes
   * before the first request's own. Any failure leaves the defaults: the context is then learnt
   * when a prompt does not fit, and the model name is the configured one. An unreachable server
   * is asked again with the next request after (failed() forgets the answer).
   */
  private describeServer(): Promise<void> {
    this.described ??= this.askProps().catch(() => undefined);
    return this.described;
  }

  private async askProps(): Promise<void> {
    const { format } = this.options;
    if (!format.props) return;
    const where = `${this.describe()} ${format.props.path}`;
    const abort = new AbortController();
    this.describing = abort;
    // Not the request's signal: a keystroke that cancels its completion must not cancel this answer.
    const timeoutMs = Math.min(PROPS_TIMEOUT_MS, this.options.connectTimeoutMs);
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let said: ServerProps;
    try {
      const { status, text } = await getText(this.options.url + format.props.path, await this.headers(), abort.signal);
      if (status < 200 || status >= 300) throw new FormatError(`HTTP ${status}: ${format.errorText(text)}`);
      said = format.props.parse(text, this.options.model);
    } catch (err) {
      if (this.describing !== abort) return; // disposed
      if (err instanceof ConnectError && !abort.signal.aborted) {
        // Down: the request that follows says so; this is asked again once the server answers.
        this.described = undefined;
        return;
      }
      const why = abort.signal.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message;
      this.options.log(
        this.redact(
          `${where}: ${why}; the context is learnt when a prompt does not fit, the FIM prompt is the setting's`,
        ),
      );
      return;
    } finally {
      clearTimeout(timer);
    }
    if (this.describing !== abort) return;
    this.describing = undefined;
    if (said.contextTokens) this.budget.know(said.contextTokens);
    if (said.model) this.servedModel = said.model;
    const serves = said.model ? `it serves ${JSON.stringify(said.model)}` : 'nothing of its model';
    const context = said.contextTokens ? `a context of ${said.contextTokens} tokens` : 'no context size';
    this.options.log(
      `${this.describe()}: the server says ${serves}, with ${context}; ` +
        `prompts go to ${format.promptKind(this.formatOptions())}`,
    );
  }

  /** The request's text cut to what the server's context holds, where a prompt did not fit it before. */
  private fitted<T extends PromptText>(request: T): T {
    const fit = this.budget.fit(request);
    if ('tooSmall' in fit) throw new ServerError(`${this.describe()}: ${fit.tooSmall}`);
    return fit;
  }

  private observePrompt(sent: PromptText, timings: ServerTimings): void {
    const tokens = (timings.promptTokens ?? 0) + (timings.cachedTokens ?? 0);
    this.budget.observe(sent.prefix.length + sent.suffix.length, tokens);
  }

  private learnOverflow(sent: PromptText, overflow: ContextOverflow): void {
    this.budget.learn(sent.prefix.length + sent.suffix.length, overflow);
    const cut = this.budget.maxChars(sent.maxNewTokens);
    this.options.log(
      `${this.describe()}: a prompt of ${overflow.promptTokens} tokens does not fit the server's context of ${overflow.contextTokens}; ` +
        `prompts are cut to fit from now on (${cut} characters of text with ${sent.maxNewTokens} new tokens)`,
    );
  }

  /**
   * The forced start of a retry when the answer's first line is the line after the cursor, which
   * the filters would drop (CompletionRequest.retryRepeatedLine, as the local engine's); only while
   * half the time budget is left, as a retry cut short by it would show a fragment.
   */
  private secondChoiceFor(request: CompletionRequest, first: StreamedAnswer): SecondChoice | undefined {
    if (request.retryRepeatedLine !== true || !request.editor) return undefined;
    if (performance.now() > first.budgetEnd - request.timeBudgetMs / 2) return undefined;
    if (!repeatsFollowingLine(first.text, request.editor)) return undefined;
    return secondChoice(first.drawn, first.restores);
  }

  /**
   * One streamed request read to its end, to a stop rule or to the time budget; undefined when the
   * caller cancelled it. A retry starts from its forced text and keeps the first's time budget.
   */
  private async stream(
    { path, body, restores = '' }: ServerRequest,
    request: CompletionRequest,
    cancelled: AbortSignal,
    onPartial: ((text: string) => void) | undefined,
    retry?: { budgetEnd: number; start: SecondChoice },
  ): Promise<StreamedAnswer | undefined> {
    const { format } = this.options;
    const where = `${this.describe()} ${path}`;
    const headers = await this.headers();
    // Ends this request alone when Wisp stops reading early, so the server stops generating.
    const ending = new AbortController();
    const signal = AbortSignal.any([cancelled, ending.signal]);

    const connect = new AbortController();
    const connectTimer = setTimeout(() => connect.abort(), this.options.connectTimeoutMs);
    let response: StreamedResponse;
    try {
      response = await postStream(this.options.url + path, body, headers, AbortSignal.any([signal, connect.signal]));
    } catch (err) {
      if (cancelled.aborted) return undefined;
      if (connect.signal.aborted)
        throw new ServerError(`${where}: no answer within ${this.options.connectTimeoutMs} ms`);
      throw new Unreachable(`${where}: cannot connect (${(err as ConnectError).code ?? (err as Error).message})`);
    } finally {
      clearTimeout(connectTimer);
    }
    if (response.status < 200 || response.status >= 300) {
      const text = await response.text().catch(() => '');
      const message = `${where}: HTTP ${response.status}${text ? `: ${format.errorText(text)}` : ''}`;
      // An older server that cannot parse the healing grammar says so in its error.
      throw restores && /grammar/i.test(text) ? new HealingRefused(message) : new ServerError(message);
    }
    if (format.framing === 'sse' && !response.contentType.includes('text/event-stream')) {
      const text = await response.text().catch(() => '');
      throw new ServerError(
        `${where}: not an event stream (${response.contentType || 'no content type'}): ${JSON.stringify(text.slice(0, 120))}`,
      );
    }

    // Time budget: past it, the text so far is the answer (as the local engine's 'time' stop).
    const budgetEnd = retry?.budgetEnd ?? performance.now() + request.timeBudgetMs;
    // The answer as the server streams it, which starts by restoring `restores` (token healing),
    // and the suggestion's text after it.
    let raw = retry?.start.text ?? '';
    let text = raw.slice(restores.length);
    let stop: Stop | undefined;
    let ended = false;
    let timings: ServerTimings = {};
    let frameCount = 0;
    const logprobs = new StreamedLogprobs();
    for (const token of retry?.start.tokens ?? []) logprobs.add(token.text, [token]);
    const drawn: DrawnToken[] = [];
    const frames = format.framing === 'sse' ? sseData(response.body) : ndjsonLines(response.body);
    const iterator = frames[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await this.nextFrame(
          iterator,
          signal,
          Math.min(this.options.stallTimeoutMs, budgetEnd - performance.now()),
        );
        if (next === 'aborted') return undefined;
        if (next === 'budget') {
          stop = 'time';
          break;
        }
        if (next === 'stalled')
          throw new ServerError(`${where}: the stream stalled (no data for ${this.options.stallTimeoutMs} ms)`);
        if (next.done) break;
        const frame: ServerFrame = format.parse(next.value);
        if (frame.error) throw new ServerError(`${where}: the server reported: ${frame.error}`);
        if (frame.timings) timings = { ...timings, ...frame.timings };
        if (frame.drawn) drawn.push(frame.drawn);
        logprobs.add(frame.text, frame.tokens);
        raw += frame.text;
        if (frame.text) frameCount++;
        if (!raw.startsWith(restores) && !restores.startsWith(raw))
          throw new HealingRefused(
            `${where}: the answer does not start with the text taken back for token healing (${JSON.stringify(restores)}): the server ignores \`grammar\``,
          );
        text = raw.slice(restores.length);
        // The same end rules as the local engine's.
        const end = endOfText(text, request.stop, request.maxLines, request.editor);
        if (end) {
          ({ text, reason: stop } = end);
          break;
        }
        if (frame.text && raw.length > restores.length) onPartial?.(text);
        if (frame.finish) stop = frame.finish;
        if (frame.end) {
          ended = true;
          break;
        }
      }
    } catch (err) {
      if (cancelled.aborted && !(err instanceof ServerError)) return undefined;
      if (err instanceof ServerError) throw err;
      throw new ServerError(`${where}: the stream broke off: ${(err as Error).message}`);
    } finally {
      if (!ended) ending.abort();
    }
    if (!ended && stop === undefined) throw new ServerError(`${where}: the stream ended before the answer did`);
    return {
      text,
      stop: stop ?? 'eos',
      timings,
      // Servers stream about a token per frame: the count when the server's own is cut off with the stream.
      generatedTokens: timings.predictedTokens ?? frameCount,
      logprobs,
      drawn,
      budgetEnd,
      restores,
    };
  }

  /** The next frame, or why there is none: cancelled, the time budget is over, or nothing came for too long. */
  private nextFrame(
    iterator: AsyncIterator<string>,
    signal: AbortSignal,
    waitMs: number,
  ): Promise<IteratorResult<string> | 'aborted' | 'budget' | 'stalled'> {
    if (signal.aborted) return Promise.resolve('aborted');
    const budget = waitMs < this.options.stallTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(budget ? 'budget' : 'stalled'), Math.max(0, waitMs));
      const onAbort = () => finish('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (value: IteratorResult<string> | 'aborted' | 'budget' | 'stalled') => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      iterator.next().then(finish, (err: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(err);
      });
    });
  }
}
