// The inline completion provider: thin glue between VS Code and the pure pieces (window, request,
// typing-through, post-processing) and the engine client.
import * as vscode from 'vscode';
import type { EngineClient } from '../engine/engine-client';
import { WispSettings, isEnabledFor } from '../settings';
import { InlineInput, finishInline, prepareInline } from './complete-inline';
import type { DocumentStyle } from './postprocess';
import { SuggestionMemory } from './typing-through';

/** A suggestion the provider handed to the editor, for the token view. */
export interface ShownSuggestion {
  documentKey: string;
  /** Document offset of the cursor it was made for. */
  offset: number;
  text: string;
}

export interface ProviderDeps {
  engine: EngineClient;
  settings: () => WispSettings;
  enabled: () => boolean;
  log: (line: string) => void;
  onSpeed: (text: string) => void;
  startThinking: () => () => void;
  onSuggestion?: (shown: ShownSuggestion) => void;
}

function sleep(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!token.isCancellationRequested);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sub.dispose();
      resolve(!token.isCancellationRequested);
    }, ms);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(timer);
      sub.dispose();
      resolve(false);
    });
  });
}

function documentStyle(document: vscode.TextDocument): DocumentStyle {
  const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
  const tabSize = typeof editor?.options.tabSize === 'number' ? editor.options.tabSize : 4;
  const insertSpaces = typeof editor?.options.insertSpaces === 'boolean' ? editor.options.insertSpaces : true;
  return { eol: document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n', insertSpaces, tabSize };
}

/** The document around a cursor, as the provider and the token view read it. */
export function inlineInput(document: vscode.TextDocument, position: vscode.Position): InlineInput {
  return {
    slice: (start, end) => document.getText(new vscode.Range(document.positionAt(start), document.positionAt(end))),
    documentLength: document.offsetAt(document.lineAt(document.lineCount - 1).range.end),
    cursor: document.offsetAt(position),
  };
}

export class WispInlineProvider implements vscode.InlineCompletionItemProvider {
  private readonly memory = new SuggestionMemory();

  constructor(private readonly deps: ProviderDeps) {}

  /** Suggestions made under other settings must not be served again. */
  forgetSuggestions(): void {
    this.memory.clear();
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

    const cursor = document.offsetAt(position);
    const prepared = prepareInline(inlineInput(document, position), settings);
    const key = document.uri.toString();
    const range = new vscode.Range(position, position);

    const remembered = this.memory.lookup(key, cursor, prepared.prefix, prepared.suffix);
    if (remembered !== undefined) {
      this.deps.onSuggestion?.({ documentKey: key, offset: cursor, text: remembered });
      return [new vscode.InlineCompletionItem(remembered, range)];
    }

    if (!(await sleep(settings.debounceMs, token))) return undefined;

    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    const done = this.deps.startThinking();
    try {
      const result = await this.deps.engine.complete(prepared.request, { signal: abort.signal });
      if (!result || token.isCancellationRequested) return undefined;
      const s = result.stats;
      this.deps.log(
        `complete ${document.fileName.split(/[\\/]/).pop()}:${position.line + 1} prompt ${s.promptTokens} tok ` +
          `(reused ${s.reusedTokens}, prefilled ${s.prefilledTokens}) → ${s.generatedTokens} tok, ` +
          `prefill ${s.prefillMs.toFixed(1)} ms, decode ${s.decodeMs.toFixed(1)} ms, total ${s.totalMs.toFixed(1)} ms, ${s.stopReason}`,
      );
      this.deps.onSpeed(`${Math.round(s.totalMs)} ms`);
      const suggestion = finishInline(prepared, result, documentStyle(document));
      if (!suggestion) return undefined;
      this.memory.remember(key, cursor, prepared.prefix, prepared.suffix, suggestion);
      this.deps.onSuggestion?.({ documentKey: key, offset: cursor, text: suggestion });
      return [new vscode.InlineCompletionItem(suggestion, range)];
    } catch (err) {
      this.deps.log(`completion failed: ${(err as Error).message}`);
      return undefined;
    } finally {
      done();
      sub.dispose();
    }
  }
}
