// The extension host's handle on the engine process: fork it, load a model, send requests, cancel
// them, and restart the process with a back-off when it dies. No `vscode` import, so it is tested
// against a real engine process under plain Node.
import { ChildProcess, fork } from 'node:child_process';
import type { CompletionRequest, CompletionResult, EngineInfo, EngineOptions } from '../engine';
import type { InspectRequest } from '../inspect';
import type { ContextFile } from '../context/related-context';
import { EngineMessage, HostMessage, InspectAnswer, isEngineMessage } from './protocol';
import { EngineOutput, OutputLine } from './engine-output';

export type EngineStatus = 'stopped' | 'loading' | 'ready' | 'error' | 'disabled';

export interface EngineState {
  status: EngineStatus;
  message?: string;
  info?: EngineInfo;
}

export class EngineCrashedError extends Error {}
export class EngineUnavailableError extends Error {}

export interface EngineClientOptions {
  /** The bundled engine-process script. */
  enginePath: string;
  log: (line: string) => void;
  /** Where the execution providers' folded messages go (the log's debug level); absent = log. */
  debug?: (line: string) => void;
  /** Crashes within `crashWindowMs` after which the client stops restarting. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** First restart delay; doubled after each crash in the window. */
  restartDelayMs?: number;
  /** V8 heap limit of the engine process: a small heap keeps garbage collection of per-step tensors short. */
  maxOldSpaceMb?: number;
}

interface Pending {
  resolve: (result: CompletionResult | undefined) => void;
  reject: (err: Error) => void;
  onPartial?: (text: string) => void;
}

export interface CompleteOptions {
  signal?: AbortSignal;
  onPartial?: (text: string) => void;
}

export class EngineClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Requests sent to the engine and not answered yet (one, and briefly a cancelled one). */
  private readonly sent = new Set<number>();
  /** The newest request, waiting for the engine to finish the one it has. */
  private queued: { id: number; message: HostMessage } | undefined;
  /** Inspections (the token view's) are kept apart so `inFlight` counts completions only. */
  private readonly inspections = new Map<
    number,
    { resolve: (answer: InspectAnswer) => void; reject: (err: Error) => void }
  >();
  private loadWaiter: { resolve: (info: EngineInfo) => void; reject: (err: Error) => void } | undefined;
  private lastLoad: EngineOptions | undefined;
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private currentState: EngineState = { status: 'stopped' };
  private readonly listeners = new Set<(state: EngineState) => void>();
  private readonly options: Required<EngineClientOptions>;
  private disposed = false;
  /** The related files as the host last ranked them, with their texts. */
  private contextFiles: ContextFile[] = [];
  /** Versions the loaded engine holds, by key: their texts need not travel again. */
  private readonly engineHolds = new Map<string, number>();

  constructor(options: EngineClientOptions) {
    this.options = {
      maxCrashes: 3,
      crashWindowMs: 120_000,
      restartDelayMs: 1000,
      maxOldSpaceMb: 512,
      debug: options.log,
      ...options,
    };
  }

  get state(): EngineState {
    return this.currentState;
  }

  /** Completion requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  onStateChange(listener: (state: EngineState) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Load (or switch to) a model. Rejects with the engine's message when the model cannot load. */
  load(options: EngineOptions): Promise<EngineInfo> {
    this.lastLoad = options;
    if (this.currentState.status === 'disabled') this.crashTimes = [];
    return this.startLoad(options);
  }

  /** After repeated crashes the client is disabled; this starts over. */
  retry(): Promise<EngineInfo> {
    if (!this.lastLoad) return Promise.reject(new EngineUnavailableError('no model to load'));
    this.crashTimes = [];
    return this.startLoad(this.lastLoad);
  }

  /**
   * Run one completion. Resolves undefined when cancelled (through `signal`, or because a newer
   * request superseded it). One request at a time goes to the engine: a new one cancels the one
   * there and waits for it to end, replacing any request already waiting. So however fast the
   * keystrokes come, at most two requests are open and nothing piles up in the IPC channel while
   * the engine is inside a long native step.
   */
  complete(request: CompletionRequest, options: CompleteOptions = {}): Promise<CompletionResult | undefined> {
    if (this.currentState.status !== 'ready' || !this.child) {
      return Promise.reject(
        new EngineUnavailableError(this.currentState.message ?? `the engine is ${this.currentState.status}`),
      );
    }
    if (options.signal?.aborted) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise<CompletionResult | undefined>((resolve, reject) => {
      const onAbort = () => this.cancel(id);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          options.signal?.removeEventListener('abort', onAbort);
          fn(value);
        };
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject), onPartial: options.onPartial });
      const message: HostMessage = { type: 'complete', id, request, stream: options.onPartial !== undefined };
      if (this.sent.size === 0) {
        this.sent.add(id);
        this.send(message);
        return;
      }
      for (const sentId of this.sent) this.send({ type: 'cancel', id: sentId });
      if (this.queued) this.settle(this.queued.id, undefined);
      this.queued = { id, message };
    });
  }

  private cancel(id: number): void {
    if (this.queued?.id === id) {
      this.queued = undefined;
      this.settle(id, undefined);
    } else if (this.sent.has(id)) {
      this.send({ type: 'cancel', id });
    }
  }

  /** Answer a request, and send the waiting one once the engine is free. */
  private settle(id: number, outcome: CompletionResult | undefined | Error): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    this.sent.delete(id);
    if (outcome instanceof Error) p?.reject(outcome);
    else p?.resolve(outcome);
    if (this.sent.size === 0 && this.queued) {
      const next = this.queued;
      this.queued = undefined;
      this.sent.add(next.id);
      this.send(next.message);
    }
  }

  /**
   * The files besides the current one that the engine draws on, most relevant first (every entry
   * with its text). Only texts the loaded engine does not hold yet are sent; after a model load or
   * an engine restart, all of them are.
   */
  setContextFiles(files: ContextFile[]): void {
    this.contextFiles = files;
    if (this.currentState.status === 'ready') this.sendContextFiles();
  }

  private sendContextFiles(): void {
    const files = this.contextFiles.map((f) =>
      this.engineHolds.get(f.key) === f.version ? { ...f, text: undefined } : f,
    );
    this.engineHolds.clear();
    for (const f of this.contextFiles) this.engineHolds.set(f.key, f.version);
    this.send({ type: 'context-files', files });
  }

  clearCache(): void {
    this.send({ type: 'clear-cache' });
  }

  /** What the token view shows for a request; the engine skips it while a completion runs. */
  inspect(request: InspectRequest): Promise<InspectAnswer> {
    if (this.currentState.status !== 'ready' || !this.child) {
      return Promise.reject(
        new EngineUnavailableError(this.currentState.message ?? `the engine is ${this.currentState.status}`),
      );
    }
    const id = this.nextId++;
    return new Promise<InspectAnswer>((resolve, reject) => {
      this.inspections.set(id, { resolve, reject });
      this.send({ type: 'inspect', id, request });
    });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.restartTimer);
    this.failAll(new EngineUnavailableError('the engine was shut down'));
    this.child?.kill();
    this.child = undefined;
    this.listeners.clear();
  }

  private setState(state: EngineState): void {
    this.currentState = state;
    for (const listener of this.listeners) listener(state);
  }

  private startLoad(options: EngineOptions): Promise<EngineInfo> {
    clearTimeout(this.restartTimer);
    this.ensureProcess();
    this.loadWaiter?.reject(new EngineUnavailableError('superseded by another model load'));
    this.setState({ status: 'loading', message: `loading ${options.modelDir}` });
    return new Promise<EngineInfo>((resolve, reject) => {
      this.loadWaiter = { resolve, reject };
      this.send({ type: 'load', options });
    });
  }

  private logOutput(lines: readonly OutputLine[]): void {
    for (const { text, level } of lines)
      (level === 'debug' ? this.options.debug : this.options.log)(`[engine] ${text}`);
  }

  private ensureProcess(): void {
    if (this.child && this.child.exitCode === null && this.child.connected) return;
    const child = fork(this.options.enginePath, [], {
      execArgv: [`--max-old-space-size=${this.options.maxOldSpaceMb}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      // Also set by the engine itself before it loads onnxruntime (ort-telemetry-off.ts).
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    });
    for (const stream of [child.stdout, child.stderr]) {
      const output = new EngineOutput();
      let foldTimer: NodeJS.Timeout | undefined;
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.logOutput(output.push(chunk));
        // Provider messages come in bursts (a session's creation): one line per burst.
        clearTimeout(foldTimer);
        foldTimer = setTimeout(() => this.logOutput(output.fold()), 200);
      });
      stream?.on('end', () => {
        clearTimeout(foldTimer);
        this.logOutput(output.end());
      });
    }
    child.on('message', (m) => this.onMessage(m));
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    child.on('error', (err) => this.options.log(`engine process error: ${err.message}`));
    this.child = child;
    this.options.log(`engine process started (pid ${child.pid})`);
  }

  private send(message: HostMessage): void {
    if (this.child?.connected) this.child.send(message);
  }

  private onMessage(message: unknown): void {
    if (!isEngineMessage(message)) return;
    this.handle(message);
  }

  private handle(message: EngineMessage): void {
    switch (message.type) {
      case 'loaded':
        this.engineHolds.clear();
        if (this.contextFiles.length > 0) this.sendContextFiles();
        // Logged here rather than by whoever asked for the load: a restart after a crash loads too.
        this.options.log(readyLine(message.info));
        if (message.info.fallbackReason) this.options.log(message.info.fallbackReason);
        this.setState({ status: 'ready', info: message.info, message: message.info.fallbackReason });
        this.loadWaiter?.resolve(message.info);
        this.loadWaiter = undefined;
        break;
      case 'load-failed':
        this.setState({ status: 'error', message: message.message });
        this.loadWaiter?.reject(new EngineUnavailableError(message.message));
        this.loadWaiter = undefined;
        break;
      case 'partial':
        this.pending.get(message.id)?.onPartial?.(message.text);
        break;
      case 'done':
        this.settle(message.id, message.result.stats.stopReason === 'cancelled' ? undefined : message.result);
        break;
      case 'failed':
        this.settle(message.id, new Error(message.message));
        break;
      case 'inspected':
        this.inspections.get(message.id)?.resolve(message.answer);
        this.inspections.delete(message.id);
        break;
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.sent.clear();
    this.queued = undefined;
    for (const p of this.inspections.values()) p.reject(err);
    this.inspections.clear();
    this.loadWaiter?.reject(err);
    this.loadWaiter = undefined;
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (this.disposed) return;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    this.options.log(`engine process ended (${how})`);
    this.failAll(new EngineCrashedError(`the engine process ended (${how})`));
    const now = Date.now();
    this.crashTimes = this.crashTimes.filter((t) => now - t < this.options.crashWindowMs).concat(now);
    if (this.crashTimes.length >= this.options.maxCrashes || !this.lastLoad) {
      this.setState({
        status: 'disabled',
        message: `the engine crashed ${this.crashTimes.length} times in ${Math.round(this.options.crashWindowMs / 1000)} s (last: ${how}); Wisp is off until you run "Wisp: Restart Engine"`,
      });
      return;
    }
    const delay = this.options.restartDelayMs * 2 ** (this.crashTimes.length - 1);
    this.setState({ status: 'loading', message: `the engine crashed (${how}); restarting in ${delay} ms` });
    const options = this.lastLoad;
    this.restartTimer = setTimeout(() => {
      this.startLoad(options).catch((err: Error) => this.options.log(`restart failed: ${err.message}`));
    }, delay);
  }
}

/** The log line of a loaded model. */
export function readyLine(info: EngineInfo): string {
  return (
    `model ready: ${info.modelName} ${info.variant} on ${info.providers.join('+')}, ${info.numLayers} layers, ` +
    `vocab ${info.vocabSize}, context ${info.maxPositions}, FIM ${info.fim}`
  );
}
