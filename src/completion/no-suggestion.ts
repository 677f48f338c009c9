// Why a request ended without a suggestion: one reason per request, written to the log and shown in
// the status bar's tooltip, so "nothing appeared" always has an answer.
import type { CompletionResult } from '../engine/process/protocol';
import { FilterAction, FilterReport, describeAction } from './postprocess';

export type NoSuggestion =
  /** A newer keystroke came before the debounce ran out: the engine was never asked. */
  | { kind: 'debounced' }
  /** The engine was asked, and keystroke `keystroke` (the completer's count) or the editor cancelled it. */
  | { kind: 'cancelled'; keystroke: number | undefined }
  | { kind: 'empty' }
  | { kind: 'filtered'; action: FilterAction }
  | { kind: 'excluded'; glob: string }
  /** The time budget ended the generation before it wrote anything the filters kept. */
  | { kind: 'time-budget'; budgetMs: number }
  /** The model's own probability of the text (shared/confidence.ts) was below wisp.minConfidence. */
  | { kind: 'low-confidence'; text: string; confidence: number; threshold: number };

export function describeNoSuggestion(reason: NoSuggestion): string {
  switch (reason.kind) {
    case 'debounced':
      return 'debounced away (the next keystroke came first)';
    case 'cancelled':
      return reason.keystroke === undefined ? 'cancelled by the editor' : `cancelled by keystroke ${reason.keystroke}`;
    case 'empty':
      return "the model's answer was empty";
    case 'filtered':
      return `dropped by filter ${describeAction(reason.action)}`;
    case 'excluded':
      return `excluded file (wisp.exclude: ${reason.glob})`;
    case 'time-budget':
      return `the time budget ran out (${reason.budgetMs} ms)`;
    case 'low-confidence': {
      const text = JSON.stringify(reason.text.length > 40 ? `${reason.text.slice(0, 40)}…` : reason.text);
      return `confidence ${reason.confidence.toFixed(2)} below wisp.minConfidence ${reason.threshold} for ${text}`;
    }
  }
}

/** Why a finished answer that the filters left nothing of (`report.text` undefined) shows nothing. */
export function whyNothingShown(result: CompletionResult, report: FilterReport, budgetMs: number): NoSuggestion {
  if (report.droppedBy) return { kind: 'filtered', action: report.droppedBy };
  // No filter dropped it: the answer was blank.
  return result.stats.stopReason === 'time' ? { kind: 'time-budget', budgetMs } : { kind: 'empty' };
}
