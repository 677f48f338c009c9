// Messages between the extension host (engine-client.ts) and the engine process (engine-process.ts),
// and everything else the host may know of the engine: code outside src/engine/ imports the engine
// only through this folder, so nothing the engine process loads (onnxruntime, the tokenizer) can
// end up in the extension host. Only types and plain constants cross here.
import type { CompletionRequest, CompletionResult, EngineInfo, EngineOptions } from '../engine';
import type { InspectRequest, TokenViewData } from '../inspect';
import type { ContextFile } from '../context/related-context';

export type {
  Candidate,
  CompletionRequest,
  CompletionResult,
  CompletionStats,
  EngineInfo,
  EngineOptions,
} from '../engine';
export type { InspectRequest, TokenViewData } from '../inspect';
export type { ContextFile } from '../context/related-context';
export type { CrossFileTarget } from '../context/cross-file';
export type { DeviceSpeeds } from '../model/device-speed';

export type DeviceSetting = 'auto' | 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';

export const DEVICE_SETTINGS: readonly DeviceSetting[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

/** The most sampled continuations one request may ask for (CompletionRequest.candidates). */
export const MAX_CANDIDATES = 5;

/** The most beams one request may ask for (CompletionRequest.beamWidth). */
export const MAX_BEAM_WIDTH = 8;

/** Longer texts of other files are cut to this many characters before they are sent. */
export const MAX_CONTEXT_FILE_CHARS = 65_536;

/**
 * The token view's answer. It is skipped while a completion is running or waiting: the view must
 * never delay a suggestion.
 */
export type InspectAnswer =
  | { status: 'done'; view: TokenViewData }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; message: string };

export type HostMessage =
  | { type: 'load'; options: EngineOptions }
  | { type: 'complete'; id: number; request: CompletionRequest; stream: boolean }
  | { type: 'cancel'; id: number }
  | { type: 'clear-cache' }
  | { type: 'inspect'; id: number; request: InspectRequest }
  /** The related files, most relevant first; texts only of versions the engine may not hold. */
  | { type: 'context-files'; files: ContextFile[] };

export type EngineMessage =
  | { type: 'loaded'; info: EngineInfo }
  | { type: 'load-failed'; message: string }
  | { type: 'partial'; id: number; text: string }
  | { type: 'done'; id: number; result: CompletionResult }
  | { type: 'failed'; id: number; message: string }
  | { type: 'inspected'; id: number; answer: InspectAnswer };

const HOST_TYPES = new Set(['load', 'complete', 'cancel', 'clear-cache', 'inspect', 'context-files']);
const ENGINE_TYPES = new Set(['loaded', 'load-failed', 'partial', 'done', 'failed', 'inspected']);

function hasType(value: unknown, types: Set<string>): boolean {
  return typeof value === 'object' && value !== null && types.has((value as { type?: unknown }).type as string);
}

export function isHostMessage(value: unknown): value is HostMessage {
  return hasType(value, HOST_TYPES);
}

export function isEngineMessage(value: unknown): value is EngineMessage {
  return hasType(value, ENGINE_TYPES);
}

/** The answer to a request that was cancelled before or while it ran. */
export function cancelledResult(): CompletionResult {
  return {
    text: '',
    stats: {
      promptTokens: 0,
      reusedTokens: 0,
      prefilledTokens: 0,
      generatedTokens: 0,
      tokenizeMs: 0,
      prefillMs: 0,
      decodeMs: 0,
      totalMs: 0,
      stopReason: 'cancelled',
    },
  };
}
