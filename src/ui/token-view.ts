// Wisp: Show Token View — a webview beside the editor that shows what the model sees at the cursor:
// the prompt's last tokens (reused from the KV cache or computed), the next-token distribution raw
// and after the sampling settings, a sample button, and the current suggestion shaded by
// probability. The numbers come from the completion engine itself (engine/inspect.ts).
//
// It must never slow typing: updates wait for the cursor to rest (DEBOUNCE_MS), are not sent while a
// completion is in flight, and the engine skips them if one starts meanwhile; a skipped update is
// tried again after the next pause.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { prepareInline } from '../completion/inline-request';
import type { ShownSuggestion } from '../completion/provider';
import { documentPaths, inlineInput } from '../completion/document-input';
import { excludingGlob } from '../completion/excluded-files';
import type { CompletionEngine } from '../backends/completion-engine';
import type { TokenViewData } from '../engine/process/protocol';
import type { WispSettings } from '../settings';
import { HostToViewMessage, ViewMessage, parseViewMessage } from './token-view-messages';

const DEBOUNCE_MS = 300;

export interface TokenViewDeps {
  engine: CompletionEngine;
  settings: () => WispSettings;
  /** The extension's media/ folder: the only place the webview may load from. */
  mediaRoot: vscode.Uri;
  log: (line: string) => void;
}

/** What the real-editor tests read and drive. */
export interface TokenViewTestHook extends vscode.Disposable {
  readonly latest: { file: string; data: TokenViewData } | undefined;
  readonly status: string | undefined;
  /** Handles a message as if the webview had posted it. */
  receive(message: unknown): Promise<void>;
}

/** Where the view looks: one document version at one cursor offset. */
interface Place {
  editor: vscode.TextEditor;
  key: string;
}

function placeOf(editor: vscode.TextEditor): Place {
  const { document, selection } = editor;
  return { editor, key: `${document.uri.toString()}@${document.version}:${document.offsetAt(selection.active)}` };
}

export class TokenView implements vscode.Disposable, TokenViewTestHook {
  private readonly panel: vscode.WebviewPanel;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** A refresh may still be waiting on the engine when the panel closes. */
  private disposed = false;
  private lastEditor: vscode.TextEditor | undefined;
  /** Tokens the sample button drew at `drawnAt`; cleared when the place changes. */
  private drawn: number[] = [];
  private drawnAt: string | undefined;
  private suggestion: ShownSuggestion | undefined;
  /** Updates older than the newest request are dropped (draws are not: the user asked for each). */
  private requestSeq = 0;
  latest: { file: string; data: TokenViewData } | undefined;
  status: string | undefined;

  constructor(
    private readonly deps: TokenViewDeps,
    onDispose: () => void,
  ) {
    this.panel = vscode.window.createWebviewPanel(
      'wisp.tokenView',
      'Wisp Token View',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [deps.mediaRoot] },
    );
    this.panel.webview.html = webviewHtml(this.panel.webview, deps.mediaRoot);
    this.lastEditor = vscode.window.activeTextEditor;
    const schedule = () => this.schedule();
    this.subscriptions.push(
      this.panel.webview.onDidReceiveMessage((m) => void this.receive(m)),
      this.panel.onDidChangeViewState(() => this.panel.visible && this.schedule()),
      // Closed by the user or by dispose(): either way the panel says so here.
      this.panel.onDidDispose(() => {
        this.disposed = true;
        clearTimeout(this.timer);
        for (const s of this.subscriptions.splice(0)) s.dispose();
        onDispose();
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor) this.lastEditor = editor;
        this.schedule();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => e.textEditor === this.editor() && schedule()),
      vscode.workspace.onDidChangeTextDocument((e) => e.document === this.editor()?.document && schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('wisp') && schedule()),
      deps.engine.onStateChange(schedule),
    );
  }

  reveal(): void {
    this.panel.reveal(vscode.ViewColumn.Beside, true);
    this.schedule();
  }

  /** The provider showed a suggestion; the view shades it if it is for the place on screen. */
  setSuggestion(shown: ShownSuggestion): void {
    this.suggestion = shown;
    this.schedule();
  }

  async receive(raw: unknown): Promise<void> {
    const message = parseViewMessage(raw);
    if (!message) {
      this.deps.log(`token view: ignored a malformed message ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    await this.handle(message);
  }

  private async handle(message: ViewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (this.latest) this.postShow(this.latest.file, this.latest.data);
        this.schedule();
        break;
      case 'set-setting':
        // The real setting, so the completions use what the view shows; the change event refreshes it.
        await vscode.workspace
          .getConfiguration('wisp')
          .update(message.key, message.value, vscode.ConfigurationTarget.Global);
        break;
      case 'sample':
        await this.refresh(true);
        break;
      case 'clear-preview':
        this.drawn = [];
        await this.refresh(false);
        break;
    }
  }

  /** The editor the view follows: the active one, or the last one while the panel has focus. */
  private editor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active) return active;
    return this.lastEditor && vscode.window.visibleTextEditors.includes(this.lastEditor) ? this.lastEditor : undefined;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(false), DEBOUNCE_MS);
  }

  private async refresh(draw: boolean): Promise<void> {
    if (this.disposed || (!this.panel.visible && !draw)) return;
    const editor = this.editor();
    if (!editor) return this.postStatus('Open a file: the view follows the editor and its cursor.');
    if (this.deps.engine.state.status !== 'ready') {
      return this.postStatus(
        `The engine is ${this.deps.engine.state.status}${this.deps.engine.state.message ? `: ${this.deps.engine.state.message}` : ''}`,
      );
    }
    // A completion is being generated: stay out of its way and look again after the next pause.
    if (this.deps.engine.inFlight > 0 && !draw) return this.schedule();

    const place = placeOf(editor);
    if (place.key !== this.drawnAt) {
      this.drawn = [];
      this.drawnAt = place.key;
    }
    const settings = this.deps.settings();
    const glob = excludingGlob(documentPaths(editor.document), settings.exclude);
    if (glob !== undefined) return this.postStatus(`Wisp does not read this file: it matches wisp.exclude (${glob}).`);
    const prepared = prepareInline(inlineInput(editor.document, editor.selection.active), settings);
    const { request } = prepared;
    const offset = editor.document.offsetAt(editor.selection.active);
    const suggestion =
      this.suggestion?.documentKey === editor.document.uri.toString() && this.suggestion.offset === offset
        ? this.suggestion.text
        : '';
    const seq = ++this.requestSeq;
    try {
      const answer = await this.deps.engine.inspect({
        prefix: request.prefix,
        suffix: request.suffix,
        sampling: request.sampling,
        contextTokens: request.contextTokens,
        maxNewTokens: request.maxNewTokens,
        suffixShare: request.suffixShare,
        contextCacheWeight: request.contextCacheWeight,
        repeatPenalty: request.repeatPenalty,
        crossFile: request.crossFile,
        drawn: this.drawn,
        // Each draw gets its own seed, derived from wisp.seed so a sequence of draws is reproducible.
        drawSeed: draw ? (settings.seed + this.drawn.length) >>> 0 : undefined,
        suggestion,
      });
      if (seq !== this.requestSeq && !draw) return;
      if (answer.status === 'skipped') {
        if (draw) this.postStatus(`Not sampled: ${answer.reason}. Try again.`);
        else this.schedule();
        return;
      }
      if (answer.status === 'failed')
        return this.postStatus(`The engine could not inspect this place: ${answer.message}`);
      if (placeOf(editor).key !== place.key) return this.schedule();
      if (draw) this.drawn = answer.view.drawn.map((t) => t.id);
      const file = vscode.workspace.asRelativePath(editor.document.uri);
      this.latest = { file, data: answer.view };
      this.status = undefined;
      this.postShow(file, answer.view);
    } catch (err) {
      this.postStatus(`The engine could not inspect this place: ${(err as Error).message}`);
    }
  }

  private postShow(file: string, data: TokenViewData): void {
    const { temperature, topK, topP } = this.deps.settings();
    this.post({ type: 'show', file, data, settings: { temperature, topK, topP } });
  }

  private postStatus(text: string): void {
    this.status = text;
    this.post({ type: 'status', text });
  }

  private post(message: HostToViewMessage): void {
    if (!this.disposed) void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    this.panel.dispose();
  }
}

/** The page: strict CSP, a nonce'd script, everything from media/ and nothing from elsewhere. */
function webviewHtml(webview: vscode.Webview, mediaRoot: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'token-view.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'token-view.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Wisp Token View</title>
</head>
<body>
<main id="root" aria-live="polite"><p class="status">Waiting for the editor…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
