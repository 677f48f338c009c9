// Extension host. What the editor side (provider, Generate Code, token view, context-file watcher)
// needs of whatever computes completions: the local engine's client (engine/process/engine-client.ts)
// or a model server's (server-client.ts), switched by backend-switch.ts.
import type { CompleteOptions, EngineState } from '../engine/process/engine-client';
import type {
  CompletionRequest,
  CompletionResult,
  ContextFile,
  InspectAnswer,
  InspectRequest,
} from '../engine/process/protocol';

export interface CompletionEngine {
  readonly state: EngineState;
  /** Completion requests sent and not yet answered. */
  readonly inFlight: number;
  onStateChange(listener: (state: EngineState) => void): { dispose(): void };
  /** Resolves undefined when cancelled or superseded by a newer request. */
  complete(request: CompletionRequest, options?: CompleteOptions): Promise<CompletionResult | undefined>;
  inspect(request: InspectRequest): Promise<InspectAnswer>;
  setContextFiles(files: ContextFile[]): void;
}
