// The status bar item: what Wisp is doing, and how fast the last suggestion was.
import * as vscode from 'vscode';
import type { EngineState } from '../engine/process/engine-client';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private engineState: EngineState = { status: 'stopped' };
  private enabled = true;
  private thinking = 0;
  private lastSpeed: string | undefined;
  private lastNoSuggestion: string | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('wisp.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Wisp';
    this.item.command = 'wisp.showLog';
    this.render();
    this.item.show();
  }

  setEngineState(state: EngineState): void {
    this.engineState = state;
    this.render();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.render();
  }

  /** Marks a request as running until the returned function is called. */
  startThinking(): () => void {
    this.thinking++;
    this.render();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.thinking--;
      this.render();
    };
  }

  setLastSpeed(text: string): void {
    this.lastSpeed = text;
    this.render();
  }

  /** Why the last request showed nothing (undefined once one shows a suggestion), for the tooltip. */
  setLastNoSuggestion(reason: string | undefined): void {
    if (reason === this.lastNoSuggestion) return;
    this.lastNoSuggestion = reason;
    this.render();
  }

  private render(): void {
    const { status, message, info } = this.engineState;
    const model = info ? `${info.modelName} (${info.variant}, ${info.providers.join('+')})` : '';
    let text: string;
    let tooltip: string;
    this.item.backgroundColor = undefined;
    if (!this.enabled) {
      text = '$(circle-slash) Wisp';
      tooltip = 'Wisp inline completions are off (Wisp: Toggle Inline Completions)';
    } else if (status === 'error' || status === 'disabled') {
      text = '$(error) Wisp';
      tooltip = `Wisp: ${message ?? status}. Click for the log.`;
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
    } else if (status === 'loading' || status === 'stopped') {
      text = '$(loading~spin) Wisp';
      tooltip = `Wisp: ${message ?? 'starting'}`;
    } else if (this.thinking > 0) {
      text = '$(sync~spin) Wisp';
      tooltip = `Wisp is thinking — ${model}`;
    } else {
      text = this.lastSpeed ? `$(sparkle) Wisp ${this.lastSpeed}` : '$(sparkle) Wisp';
      tooltip = `Wisp ready — ${model}${message ? `\n${message}` : ''}`;
      if (this.lastNoSuggestion)
        tooltip += `\nLast request showed nothing: ${this.lastNoSuggestion}. Click for the log.`;
    }
    this.item.text = text;
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
