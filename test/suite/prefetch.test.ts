// The prefetch after an accept, in the real editor: the editor shows a suggestion, it is accepted
// whole (Tab's command, editor.action.inlineSuggest.commit), the item's command starts the next
// suggestion at once, and the editor's next request at the new cursor is answered from it, as
// the provider's counts and its log line say.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, changeSettings, positionAfter, waitFor, workspaceFile } from './helpers';

const FIB_BODY = 'export function fibonacci(n: number): number {\n  ';

interface ProviderStats {
  served: Record<'memory' | 'model' | 'kept' | 'prefetch', number>;
}

describe('prefetch after an accept', () => {
  let restore: () => Promise<void>;
  before(async () => {
    restore = await changeSettings({ temperature: 0, timeBudgetMs: 60_000 });
    await (await api()).whenReady();
  });

  after(async () => {
    await restore();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('answers the next request after an accepted suggestion from the prefetch', async () => {
    const wisp = await api();
    const stats = () => (wisp.provider as unknown as { stats: ProviderStats }).stats;
    const sample = new TextDecoder().decode(await vscode.workspace.fs.readFile(workspaceFile('sample.ts')));
    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: sample });
    const editor = await vscode.window.showTextDocument(doc);
    const at = positionAfter(doc, FIB_BODY);
    editor.selection = new vscode.Selection(at, at);
    const before = { ...stats().served };

    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await waitFor('a suggestion from the model', () => stats().served.model > before.model, 60_000);
    const original = doc.getText();
    // The ghost text appears a little after the provider answers: commit until it is there.
    await waitFor(
      'the suggestion accepted',
      async () => {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
        return doc.getText() !== original;
      },
      60_000,
    );
    const accepted = doc.getText().slice(doc.offsetAt(at), doc.offsetAt(editor.selection.active));
    assert.ok(accepted.length > 0, 'the cursor moved past the accepted text');
    // The editor asks again by itself after an accept; a trigger now and then covers a request it dropped.
    await waitFor(
      'the next suggestion served from the prefetch',
      async () => {
        if (stats().served.prefetch > before.prefetch) return true;
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        return false;
      },
      60_000,
    );
    assert.strictEqual(stats().served.model, before.model + 1, 'no other generation answered a request');
  });
});
