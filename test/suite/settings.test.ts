// Settings that must not break the editor: a missing model folder, and a wisp.model in the
// workspace settings, which machine scope must ignore (a repository cannot choose what runs).
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { api, complete, configuredModel, positionAfter, setSetting, sleep, waitFor, workspaceFile } from './helpers';

describe('settings', () => {
  let model: string;

  before(async () => {
    model = configuredModel();
    await (await api()).whenReady();
  });

  it('a model folder that does not exist gives a clear error, and the editor stays responsive', async () => {
    const wisp = await api();
    try {
      await setSetting('model', '/nonexistent');
      const state = await waitFor(
        'state "error"',
        () => (wisp.state().status === 'error' ? wisp.state() : undefined),
        20_000,
      );
      assert.match(state.message ?? '', /nonexistent/, `the error should name the folder: ${JSON.stringify(state)}`);

      const doc = await vscode.workspace.openTextDocument(workspaceFile('sample.ts'));
      const editor = await vscode.window.showTextDocument(doc);
      // The provider gives up rather than waiting for a model that is not coming (the deadline is
      // generous: it tells a hang from an answer, not a fast machine from a slow one).
      const items = await Promise.race([
        complete(wisp.provider, doc, positionAfter(doc, 'export function fibonacci(n: number): number {\n  ')),
        sleep(30_000).then(() => assert.fail('the provider did not answer without a model')),
      ]);
      assert.deepStrictEqual(items, [], 'no suggestions without a model');

      // The extension host still answers: an edit goes through.
      assert.ok(await editor.edit((e) => e.insert(new vscode.Position(0, 0), '// still typing\n')));
      assert.ok(doc.getText().startsWith('// still typing\n'));
      await vscode.commands.executeCommand('undo');
    } finally {
      await setSetting('model', model);
    }
    await waitFor('the model to load again', () => wisp.state().status === 'ready', 120_000);
  });

  it('ignores wisp.model in the workspace settings (machine scope)', async () => {
    const wisp = await api();
    // VS Code refuses to write a machine-scoped setting to the workspace ...
    await assert.rejects(
      Promise.resolve(
        vscode.workspace
          .getConfiguration('wisp')
          .update('model', '/from-workspace-api', vscode.ConfigurationTarget.Workspace),
      ),
    );

    // ... and a .vscode/settings.json that sets it anyway is not read for it.
    const settingsFile = workspaceFile('.vscode/settings.json');
    fs.mkdirSync(vscode.Uri.joinPath(settingsFile, '..').fsPath, { recursive: true });
    const changed = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('editor.tabSize')) {
          sub.dispose();
          resolve();
        }
      });
    });
    fs.writeFileSync(
      settingsFile.fsPath,
      JSON.stringify({ 'wisp.model': '/from-workspace-file', 'editor.tabSize': 7 }),
    );
    try {
      // editor.tabSize from the same file shows the file has been read.
      await Promise.race([
        changed,
        sleep(15_000).then(() => {
          throw new Error('workspace settings were not reloaded');
        }),
      ]);
      const inspected = vscode.workspace.getConfiguration('wisp').inspect('model');
      assert.strictEqual(inspected?.workspaceValue, undefined);
      assert.strictEqual(vscode.workspace.getConfiguration('wisp').get('model'), model);
      await sleep(500); // time to (wrongly) react to the change
      assert.strictEqual(wisp.state().status, 'ready', JSON.stringify(wisp.state()));
    } finally {
      fs.rmSync(settingsFile.fsPath, { force: true });
    }
  });
});
