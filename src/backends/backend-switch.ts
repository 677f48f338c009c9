// Extension host. The completion engine the editor talks to: the local engine process, or a model
// server's client, as `wisp.backend` says. Switching is immediate; state listeners follow the
// backend in use.
import type { CompleteOptions, EngineClient, EngineState } from '../engine/process/engine-client';
import type {
  CompletionRequest,
  CompletionResult,
  ContextFile,
  InspectAnswer,
  InspectRequest,
} from '../engine/process/protocol';
import type { WispSettings } from '../settings';
import type { CompletionEngine } from './completion-engine';
import { llamaCppFormat } from './llama-cpp-format';
import { ollamaFormat } from './ollama-format';
import { openaiFormat } from './openai-format';
import { ServerClient } from './server-client';
import type { ServerFormat } from './server-format';

const FORMATS: Record<Exclude<WispSettings['backend'], 'local'>, ServerFormat> = {
  'llama.cpp': llamaCppFormat,
  ollama: ollamaFormat,
  openai: openaiFormat,
};

export class BackendSwitch implements CompletionEngine {
  private server: ServerClient | undefined;
  private serverKey = '';
  private readonly listeners = new Set<(state: EngineState) => void>();
  private contextFiles: ContextFile[] = [];

  constructor(
    private readonly local: EngineClient,
    private readonly log: (line: string) => void,
    private readonly apiKey: () => Promise<string | undefined>,
  ) {
    local.onStateChange((state) => {
      if (!this.server) this.emit(state);
    });
  }

  /** Follows the settings; returns true when the local engine is the backend. */
  use(settings: WispSettings): boolean {
    if (settings.backend === 'local') {
      if (this.server) {
        this.server.dispose();
        this.server = undefined;
        this.serverKey = '';
        this.log('backend: local engine');
        this.emit(this.local.state);
      }
      return true;
    }
    const key = [
      settings.backend,
      settings['server.url'],
      settings['server.model'],
      settings['server.fimTemplate'],
    ].join('\n');
    if (key === this.serverKey) return false;
    this.server?.dispose();
    const server = new ServerClient({
      format: FORMATS[settings.backend],
      url: settings['server.url'],
      model: settings['server.model'],
      fimTemplate: settings['server.fimTemplate'],
      apiKey: this.apiKey,
      log: this.log,
    });
    server.setContextFiles(this.contextFiles);
    server.onStateChange((state) => {
      if (this.server === server) this.emit(state);
    });
    this.server = server;
    this.serverKey = key;
    this.log(`backend: ${server.describe()}`);
    this.emit(server.state);
    return false;
  }

  private get active(): CompletionEngine {
    return this.server ?? this.local;
  }

  get state(): EngineState {
    return this.active.state;
  }

  get inFlight(): number {
    return this.active.inFlight;
  }

  onStateChange(listener: (state: EngineState) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  complete(request: CompletionRequest, options?: CompleteOptions): Promise<CompletionResult | undefined> {
    return this.active.complete(request, options);
  }

  inspect(request: InspectRequest): Promise<InspectAnswer> {
    return this.active.inspect(request);
  }

  setContextFiles(files: ContextFile[]): void {
    this.contextFiles = files;
    this.local.setContextFiles(files);
    this.server?.setContextFiles(files);
  }

  dispose(): void {
    this.server?.dispose();
    this.listeners.clear();
  }

  private emit(state: EngineState): void {
    for (const listener of this.listeners) listener(state);
  }
}
