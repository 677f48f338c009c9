// Follows the editor's open documents and visible editors, and hands the ranked related files
// (context-files.ts) to the engine a moment after they change. Typing in the active document sends
// nothing: its text is the prompt; it is read once the user moves to another file.
import * as vscode from 'vscode';
import type { CompletionEngine } from '../backends/completion-engine';
import { MAX_CONTEXT_FILE_CHARS } from '../engine/process/protocol';
import type { WispSettings } from '../settings';
import { isEnabledFor } from '../settings';
import { ContextFileTracker, OpenDocument } from './context-files';
import { SettleTimer } from './settle-timer';

const SETTLE_MS = 500;
const MAX_WAIT_MS = 2_000;
const SCHEMES = new Set(['file', 'untitled', 'vscode-remote']);

function openDocument(document: vscode.TextDocument): OpenDocument {
  return {
    key: document.uri.toString(),
    path: vscode.workspace.asRelativePath(document.uri, false),
    absolutePath: document.uri.scheme === 'untitled' ? undefined : document.uri.fsPath,
    version: document.version,
    // Only the start of a large file is read: the engine would not index more.
    text: () =>
      document.getText(new vscode.Range(new vscode.Position(0, 0), document.positionAt(MAX_CONTEXT_FILE_CHARS))),
  };
}

export function watchContextFiles(engine: CompletionEngine, settings: () => WispSettings): vscode.Disposable {
  const tracker = new ContextFileTracker();
  const sync = () => {
    const current = settings();
    const wanted = (d: vscode.TextDocument) => SCHEMES.has(d.uri.scheme) && isEnabledFor(current, d.languageId);
    const active = vscode.window.activeTextEditor?.document;
    const files = tracker.sync({
      documents: vscode.workspace.textDocuments.filter(wanted).map(openDocument),
      visibleKeys: new Set(vscode.window.visibleTextEditors.map((e) => e.document.uri.toString())),
      activeKey: active?.uri.toString(),
      exclude: current.exclude,
    });
    engine.setContextFiles(current.contextFromOtherFiles ? files : []);
  };
  const timer = new SettleTimer(sync, SETTLE_MS, MAX_WAIT_MS);
  const schedule = () => timer.schedule();
  const activeKey = () => vscode.window.activeTextEditor?.document.uri.toString();
  schedule();
  const subscriptions = [
    vscode.window.onDidChangeActiveTextEditor(schedule),
    vscode.window.onDidChangeVisibleTextEditors(schedule),
    vscode.workspace.onDidOpenTextDocument(schedule),
    vscode.workspace.onDidCloseTextDocument(schedule),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0 && e.document.uri.toString() !== activeKey()) schedule();
    }),
    // Turned off, the other files must be gone before the next request: no settling.
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('wisp.contextFromOtherFiles')) {
        timer.runNow();
      } else if (e.affectsConfiguration('wisp')) schedule();
    }),
  ];
  return {
    dispose: () => {
      timer.cancel();
      for (const s of subscriptions) s.dispose();
    },
  };
}
