// Wisp: Generate Code — writes code at the cursor from an instruction (typed in an input box, or
// the selected text), streamed into the document, cancellable from the progress notification, and
// undone in one step.
import * as vscode from 'vscode';
import type { CompletionEngine } from '../backends/completion-engine';
import type { WispSettings } from '../settings';
import { crossFileTarget } from '../completion/document-input';
import { prepareInline } from '../completion/inline-request';

export interface GenerateDeps {
  engine: CompletionEngine;
  settings: () => WispSettings;
  log: (line: string) => void;
}

const HASH_COMMENT = new Set([
  'python',
  'shellscript',
  'ruby',
  'perl',
  'r',
  'yaml',
  'toml',
  'dockerfile',
  'makefile',
  'powershell',
  'julia',
  'elixir',
  'coffeescript',
]);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell']);

export function commentLine(languageId: string, text: string): string {
  const body = text.replace(/\s+/g, ' ').trim();
  if (HASH_COMMENT.has(languageId)) return `# ${body}`;
  if (DASH_COMMENT.has(languageId)) return `-- ${body}`;
  if (languageId === 'html' || languageId === 'xml' || languageId === 'markdown') return `<!-- ${body} -->`;
  if (languageId === 'css') return `/* ${body} */`;
  return `// ${body}`;
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

  const inserted: string[] = [];
  let edits = Promise.resolve(true);
  let first = true;
  const insert = (text: string) => {
    edits = edits.then(async (ok) => {
      if (!ok || text.length === 0) return ok;
      const applied = await editor.edit((b) => b.insert(insertAt, text), {
        undoStopBefore: first,
        undoStopAfter: false,
      });
      first = false;
      if (applied) {
        insertAt = document.positionAt(document.offsetAt(insertAt) + text.length);
        inserted.push(text);
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
  if (header) await insert(header);

  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Wisp: generating…', cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let shown = 0;
      try {
        const result = await deps.engine.complete(request, {
          signal: abort.signal,
          onPartial: (text) => {
            if (text.length <= shown) return;
            void insert(text.slice(shown));
            shown = text.length;
            progress.report({ message: `${shown} characters` });
          },
        });
        if (result) {
          const rest = result.text.trimEnd().slice(shown);
          const streamed = inserted.join('').slice(header.length);
          if (rest.length > 0 && result.text.startsWith(streamed)) await insert(rest);
          // A repetition loop is found a few copies late: what was streamed past the cut goes.
          const final = result.text.trimEnd();
          if (streamed.length > final.length && streamed.startsWith(final))
            await removeLast(streamed.length - final.length);
          deps.log(
            `generate: ${result.stats.generatedTokens} tokens in ${result.stats.totalMs.toFixed(0)} ms (${result.stats.stopReason})`,
          );
        } else {
          deps.log('generate: cancelled');
        }
      } catch (err) {
        void vscode.window.showErrorMessage(`Wisp: generation failed: ${(err as Error).message}`);
      } finally {
        sub.dispose();
        await edits;
      }
    },
  );
}
