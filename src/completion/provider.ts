// The inline completion provider: adapts VS Code's document, position and cancellation token to
// InlineCompleter (inline-completer.ts), and reports what happened to the log and the status bar.
// VS Code has no event for an accepted inline suggestion; it runs the item's command when the
// suggestion is accepted whole (not on a partial accept), and that command starts the prefetch.
import * as vscode from 'vscode';
import type { CompletionEngine } from '../backends/completion-engine';
import { WispSettings, isEnabledFor } from '../settings';
import type { CompletionResult } from '../engine/process/protocol';
import { documentPaths, documentStyle, inlineInput } from './document-input';
import { CompleterStats, InlineCompleter, InlineQuery } from './inline-completer';
import { describeNoSuggestion } from './no-suggestion';
import { FilterAction, describeAction } from './postprocess';
import { shownConfidence } from '../shared/confidence';

/** A suggestion the provider handed to the editor, for the token view. */
export interface ShownSuggestion {
  documentKey: string;
  /** Document offset of the cursor it was made for. */
  offset: number;
  text: string;
}

export interface ProviderDeps {
  engine: CompletionEngine;
  settings: () => WispSettings;
  enabled: () => boolean;
  log: (line: string) => void;
  onSpeed: (text: string) => void;
  /** Why the last request showed nothing, or undefined when it showed a suggestion. */
  onNoSuggestion?: (reason: string | undefined) => void;
  startThinking: () => () => void;
  onSuggestion?: (shown: ShownSuggestion) => void;
}

/** The command an item runs when it is accepted whole (registered in extension.ts). */
export const ACCEPTED_COMMAND = 'wisp.suggestionAccepted';

const FROM: Record<string, string> = {
  kept: 'from the generation kept while typing',
  prefetch: 'from the prefetch after an accept',
};

export class WispInlineProvider implements vscode.InlineCompletionItemProvider {
  private readonly completer: InlineCompleter;

  constructor(private readonly deps: ProviderDeps) {
    this.completer = new InlineCompleter(deps.engine, deps.startThinking);
  }

  /** Suggestions made under other settings must not be served again. */
  forgetSuggestions(): void {
    this.completer.forgetSuggestions();
  }

  /** Keystrokes answered, by where the suggestion came from; generations stopped and their tokens. */
  get stats(): CompleterStats {
    return this.completer.stats;
  }

  /**
   * A suggestion made for `documentKey` was accepted whole, leaving the cursor at `offset`: if the
   * cursor is still there, compute the next suggestion now.
   */
  accepted(documentKey: string, offset: number): void {
    const editor = vscode.window.activeTextEditor;
    const document = editor?.document;
    if (!editor || !document || document.uri.toString() !== documentKey) return;
    const position = editor.selection.active;
    if (!editor.selection.isEmpty || document.offsetAt(position) !== offset) return;
    if (!this.deps.enabled() || this.deps.engine.state.status !== 'ready') return;
    const settings = this.deps.settings();
    if (!isEnabledFor(settings, document.languageId)) return;
    const at = where(document, position);
    const started = this.completer.prefetch(this.query(document, position, new AbortController().signal), settings);
    if (!started) return;
    this.deps.log(`prefetch after an accept at ${at}`);
    started.then(
      (result) => result && this.logResult(`prefetch ${at}`, result, [], '', undefined),
      (err: Error) => this.deps.log(`prefetch failed: ${err.message}`),
    );
  }

  private query(document: vscode.TextDocument, position: vscode.Position, signal: AbortSignal): InlineQuery {
    return {
      ...inlineInput(document, position),
      documentKey: document.uri.toString(),
      paths: documentPaths(document),
      style: documentStyle(document),
      signal,
    };
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    if (token.isCancellationRequested) return undefined;
    const settings = this.deps.settings();
    if (!this.deps.enabled() || !isEnabledFor(settings, document.languageId)) return undefined;
    if (this.deps.engine.state.status !== 'ready') return undefined;
    // A suggestion in a read-only document could never be accepted.
    if (vscode.workspace.fs.isWritableFileSystem(document.uri.scheme) === false) return undefined;

    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    const key = document.uri.toString();
    try {
      const query = this.query(document, position, abort.signal);
      const answer = await this.completer.complete(query, settings);
      const at = where(document, position);
      if (answer.result) {
        const what = `complete #${answer.keystroke} ${at}`;
        this.logResult(what, answer.result, answer.filtered ?? [], answer.text, answer.waitedMs);
      }
      if (answer.reason) {
        const why = describeNoSuggestion(answer.reason);
        this.deps.log(`no suggestion #${answer.keystroke} ${at}: ${why}`);
        this.deps.onNoSuggestion?.(why);
      }
      if (answer.text && FROM[answer.source])
        this.deps.log(`suggestion #${answer.keystroke} ${at} ${FROM[answer.source]}`);
      if (!answer.text || token.isCancellationRequested) return undefined;
      this.deps.onNoSuggestion?.(undefined);
      this.deps.onSuggestion?.({ documentKey: key, offset: query.cursor, text: answer.text });
      const range = new vscode.Range(position, position);
      return [answer.text, ...(answer.alternatives ?? [])].map((text) => {
        const item = new vscode.InlineCompletionItem(text, range);
        item.command = {
          command: ACCEPTED_COMMAND,
          title: 'Wisp: suggestion accepted',
          arguments: [key, query.cursor + text.length],
        };
        return item;
      });
    } catch (err) {
      this.deps.log(`completion failed: ${(err as Error).message}`);
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  /** `what`: "complete #N file:line" or "prefetch file:line". */
  private logResult(
    what: string,
    result: CompletionResult,
    filtered: FilterAction[],
    shown: string,
    waitedMs: number | undefined,
  ): void {
    const s = result.stats;
    const filters = filtered.length ? `; filters: ${filtered.map(describeAction).join(', ')}` : '';
    const confidence = shown ? shownConfidence(result, shown) : undefined;
    this.deps.log(
      `${what}${waitedMs === undefined ? '' : ` after ${waitedMs} ms wait`} prompt ${s.promptTokens} tok ` +
        `(reused ${s.reusedTokens}, prefilled ${s.prefilledTokens}${s.headerTokens ? `, other files' chunks ${s.headerTokens}` : ''}) → ${s.generatedTokens} tok, ` +
        `prefill ${s.prefillMs.toFixed(1)} ms, decode ${s.decodeMs.toFixed(1)} ms, total ${s.totalMs.toFixed(1)} ms, ${s.stopReason}` +
        (s.setAsideTokens
          ? `, the model's second choice (its first, ${s.setAsideTokens} tok, repeated the line after the cursor)`
          : '') +
        (s.relatedTokens ? `, context cache holds ${s.relatedTokens} tokens of other files` : '') +
        (confidence === undefined ? '' : `, confidence ${confidence.toFixed(2)}`) +
        filters,
    );
    this.deps.onSpeed(`${Math.round(s.totalMs)} ms`);
  }
}

function where(document: vscode.TextDocument, position: vscode.Position): string {
  return `${document.fileName.split(/[\\/]/).pop()}:${position.line + 1}`;
}
