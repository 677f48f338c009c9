// Wisp: Test Completion — the end of each step of the Getting Started walkthrough. Waits for the
// model load in progress, runs setup/test-completion.ts through the current backend, logs the
// outcome and shows it: information when it worked, a warning or an error that says why not.
import * as vscode from 'vscode';
import type { CompletionEngine } from '../backends/completion-engine';
import { TestCompletionOutcome, testCompletion } from '../setup/test-completion';
import type { WispSettings } from '../settings';

export interface TestCompletionDeps {
  engine: CompletionEngine;
  settings: () => WispSettings;
  /** Resolves when the model load in progress has ended, well or not. */
  whenReady: () => Promise<void>;
  log: (line: string) => void;
}

export async function runTestCompletion(deps: TestCompletionDeps): Promise<TestCompletionOutcome> {
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Wisp: test completion' },
    async () => {
      await deps.whenReady();
      return testCompletion(deps.engine, deps.settings());
    },
  );
  deps.log(`test completion (${outcome.level}): ${outcome.message}`);
  const show =
    outcome.level === 'ok'
      ? vscode.window.showInformationMessage
      : outcome.level === 'warning'
        ? vscode.window.showWarningMessage
        : vscode.window.showErrorMessage;
  // Not awaited: the message stays until dismissed, the command's caller gets the outcome now.
  void show(`Wisp: ${outcome.message}`, 'Show Log').then((choice) => {
    if (choice) void vscode.commands.executeCommand('wisp.showLog');
  });
  return outcome;
}
