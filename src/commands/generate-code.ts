// Wisp: Generate Code — writes code at the cursor from an instruction (typed in an input box, or
// the selected text), streamed into the document, cancellable from the progress notification, and
// undone in one step.
import * as vscode from 'vscode';
import type { CompletionEngine } from '../backends/completion-engine';
import type { WispSettings } from '../settings';
import { crossFileTarget, documentPaths } from '../completion/document-input';
import { excludingGlob } from '../completion/excluded-files';
import { commentLine } from '../completion/generate-rules';
import { streamGenerate } from '../completion/generate-stream';
import { prepareInline } from '../completion/inline-request';

export interface GenerateDeps {
  engine: CompletionEngine;
  settings: () => WispSettings;
  log: (line: string) => void;
}

export async function generateCode(deps: GenerateDeps): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('Wisp: open a file to generate code into.');
    return;
  }
  const state = deps.engine.state;
  if (state.status !== 'ready') {
    void vscode.window.showErrorMessage(`Wisp cannot generate: ${state.message ?? `the engine is ${state.status}`}`);
    return;
  }
  const document = editor.document;
  const glob = excludingGlob(documentPaths(document), deps.settings().exclude);
  if (glob !== undefined) {
    void vscode.window.showWarningMessage(`Wisp does not read this file: it matches wisp.exclude (${glob}).`);
    return;
  }
  let insertAt = editor.selection.isEmpty ? editor.selection.active : editor.selection.end;
  let header = '';
  if (editor.selection.isEmpty) {
    const instruction = await vscode.window.showInputBox({
      title: 'Wisp: Generate Code',
      prompt: 'What should Wisp write here? Leave empty to continue the code at the cursor.',
      placeHolder: 'e.g. a function that parses an ISO date',
    });
    if (instruction === undefined) return;
    if (instruction.trim()) {
      const line = document.lineAt(insertAt.line);
      const indent = line.text.slice(0, line.firstNonWhitespaceCharacterIndex);
      header = `${commentLine(document.languageId, instruction)}\n${line.isEmptyOrWhitespace ? '' : indent}`;
      if (insertAt.character > 0 && !line.isEmptyOrWhitespace) header = `\n${indent}${header}`;
    }
  } else if (insertAt.character > 0) {
    header = '\n';
  }

  const settings = deps.settings();
  const fullText = document.getText();
  const cursor = document.offsetAt(insertAt);
  const withHeader = fullText.slice(0, cursor) + header + fullText.slice(cursor);
  const { request } = prepareInline(
    {
      slice: (s, e) => withHeader.slice(s, e),
      documentLength: withHeader.length,
      cursor: cursor + header.length,
      crossFile: crossFileTarget(document),
    },
    settings,
    'generate',
  );

  let edits = Promise.resolve(true);
  let first = true;
  // The header goes in with the first code, as one edit, so that nothing that closes the undo
  // group while the model reads the prompt can leave the header as an undo step of its own.
  let pendingHeader = header;
  const insert = (code: string) => {
    edits = edits.then(async (ok) => {
      const text = pendingHeader + code;
      if (!ok || text.length === 0) return ok;
      pendingHeader = '';
      const applied = await editor.edit((b) => b.insert(insertAt, text), {
        undoStopBefore: first,
        undoStopAfter: false,
      });
      first = false;
      if (applied) {
        insertAt = document.positionAt(document.offsetAt(insertAt) + text.length);
      }
      return applied;
    });
    return edits;
  };
  const removeLast = (count: number) => {
    edits = edits.then(async (ok) => {
      if (!ok) return ok;
      const from = document.positionAt(document.offsetAt(insertAt) - count);
      const applied = await editor.edit((b) => b.delete(new vscode.Range(from, insertAt)), {
        undoStopBefore: false,
        undoStopAfter: false,
      });
      if (applied) insertAt = from;
      return applied;
    });
    return edits;
  };

  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Wisp: generating…', cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      const before = withHeader.slice(0, cursor + header.length);
      let shown = 0;
      // Brings the document to the first `end` characters of the model's text, whichever side of
      // what was already streamed that is.
      const showUpTo = (text: string, end: number) => {
        if (end > shown) void insert(text.slice(shown, end));
        else if (end < shown) void removeLast(shown - end);
        shown = end;
        progress.report({ message: `${shown} characters` });
      };
      try {
        const outcome = await streamGenerate(
          deps.engine,
          request,
          { before, languageId: document.languageId },
          abort.signal,
          showUpTo,
        );
        if (outcome.kind === 'cut') deps.log(`generate: stopped at ${outcome.shown} characters (${outcome.reason})`);
        else if (outcome.kind === 'ended')
          deps.log(
            `generate: ${outcome.result.stats.generatedTokens} tokens in ${outcome.result.stats.totalMs.toFixed(0)} ms (${outcome.reason})`,
          );
        else deps.log('generate: cancelled');
      } catch (err) {
        void vscode.window.showErrorMessage(`Wisp: generation failed: ${(err as Error).message}`);
      } finally {
        sub.dispose();
        // Nothing generated: the header still marks what was asked.
        await insert('');
      }
    },
  );
}
