// Extension host, no vscode. Generate Code's streaming loop, whatever the backend (the local engine
// or a model server): the streamed text is shown as it comes, judged by the generate rules
// (generate-rules.ts) on every partial, and the request is ended as soon as they cut it, so the
// engine or the server stops generating. commands/generate-code.ts puts it into the document.
import type { CompleteOptions } from '../engine/process/engine-client';
import type { CompletionRequest, CompletionResult } from '../engine/process/protocol';
import { GenerateStop, generateCut } from './generate-rules';

export interface GenerateEngine {
  complete(request: CompletionRequest, options?: CompleteOptions): Promise<CompletionResult | undefined>;
}

export type GenerateOutcome =
  /** The generate rules ended it while it streamed; the request was aborted there. */
  | { kind: 'cut'; shown: number; reason: GenerateStop }
  /** The engine ended it (end token, token or time budget, repetition loop); `reason` names the rule. */
  | { kind: 'ended'; shown: number; reason: string; result: CompletionResult }
  /** The caller's signal, or a newer request, ended it first. */
  | { kind: 'cancelled'; shown: number };

/**
 * Streams `request` through `engine`. `show(text, end)` brings what is on screen to the first `end`
 * characters of `text` (called only when that changes); `before` is the document before the cursor.
 */
export async function streamGenerate(
  engine: GenerateEngine,
  request: CompletionRequest,
  where: { before: string; languageId: string },
  signal: AbortSignal,
  show: (text: string, end: number) => void,
): Promise<GenerateOutcome> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) abort.abort();
  let shown = 0;
  let cut: { end: number; reason: GenerateStop } | undefined;
  const showUpTo = (text: string, end: number) => {
    if (end === shown) return;
    shown = end;
    show(text, end);
  };
  try {
    const result = await engine.complete(request, {
      signal: abort.signal,
      onPartial: (text) => {
        if (cut || text.length <= shown) return;
        cut = generateCut(where.before, text, where.languageId);
        showUpTo(text, cut ? cut.end : text.length);
        if (cut) abort.abort();
      },
    });
    if (cut) return { kind: 'cut', shown, reason: cut.reason };
    if (!result) return { kind: 'cancelled', shown };
    // A repetition loop is found a few copies late: what was streamed past the end goes.
    const finalCut = generateCut(where.before, result.text, where.languageId);
    showUpTo(result.text, finalCut ? finalCut.end : result.text.trimEnd().length);
    return { kind: 'ended', shown, reason: finalCut?.reason ?? result.stats.stopReason, result };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
