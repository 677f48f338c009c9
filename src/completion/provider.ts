// The inline completion provider: adapts VS Code's document, position and cancellation token to
// InlineCompleter (inline-completer.ts), and reports what happened to the log and the status bar.
import * as vscode from 'vscode';
import type { CompletionEngine } from '../backends/completion-engine';
import { WispSettings, isEnabledFor } from '../settings';
import type { CompletionResult } from '../engine/process/protocol';
import { documentPaths, documentStyle, inlineInput } from './document-input';
import { InlineCompleter } from './inline-completer';
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

export class WispInlineProvider implements vscode.InlineCompletionItemProvider {
  private readonly completer: InlineCompleter;

  constructor(private readonly deps: ProviderDeps) {
    this.completer = new InlineCompleter(deps.engine, deps.startThinking);
  }

  /** Suggestions made under other settings must not be served again. */
  forgetSuggestions(): void {
    this.completer.forgetSuggestions();
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
      const query = {
        ...inlineInput(document, position),
        documentKey: key,
        paths: documentPaths(document),
        style: documentStyle(document),
        signal: abort.signal,
      };
      const answer = await this.completer.complete(query, settings);
      const where = `${document.fileName.split(/[\\/]/).pop()}:${position.line + 1}`;
      if (answer.result) {
        this.logResult(where, answer.keystroke, answer.result, answer.filtered ?? [], answer.text, answer.waitedMs);
      }
      if (answer.reason) {
        const why = describeNoSuggestion(answer.reason);
        this.deps.log(`no suggestion #${answer.keystroke} ${where}: ${why}`);
        this.deps.onNoSuggestion?.(why);
      }
      if (!answer.text || token.isCancellationRequested) return undefined;
      this.deps.onNoSuggestion?.(undefined);
      this.deps.onSuggestion?.({ documentKey: key, offset: query.cursor, text: answer.text });
      const range = new vscode.Range(position, position);
      return [answer.text, ...(answer.alternatives ?? [])].map((text) => new vscode.InlineCompletionItem(text, range));
    } catch (err) {
      this.deps.log(`completion failed: ${(err as Error).message}`);
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  private logResult(
    where: string,
    keystroke: number,
    result: CompletionResult,
    filtered: FilterAction[],
    shown: string,
    waitedMs: number | undefined,
  ): void {
    const s = result.stats;
    const filters = filtered.length ? `; filters: ${filtered.map(describeAction).join(', ')}` : '';
    const confidence = shown ? shownConfidence(result, shown) : undefined;
    this.deps.log(
      `complete #${keystroke} ${where}${waitedMs === undefined ? '' : ` after ${waitedMs} ms wait`} prompt ${s.promptTokens} tok ` +
        `(reused ${s.reusedTokens}, prefilled ${s.prefilledTokens}${s.headerTokens ? `, other files' chunks ${s.headerTokens}` : ''}) → ${s.generatedTokens} tok, ` +
        `prefill ${s.prefillMs.toFixed(1)} ms, decode ${s.decodeMs.toFixed(1)} ms, total ${s.totalMs.toFixed(1)} ms, ${s.stopReason}` +
        (s.relatedTokens ? `, context cache holds ${s.relatedTokens} tokens of other files` : '') +
        (confidence === undefined ? '' : `, confidence ${confidence.toFixed(2)}`) +
        filters,
    );
    this.deps.onSpeed(`${Math.round(s.totalMs)} ms`);
  }
}
