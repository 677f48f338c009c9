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
      const t0 = Date.now();
      const items = await complete(
        wisp.provider,
        doc,
        positionAfter(doc, 'export function fibonacci(n: number): number {\n  '),
      );
      assert.deepStrictEqual(items, [], 'no suggestions without a model');
      assert.ok(Date.now() - t0 < 2_000, `the provider took ${Date.now() - t0} ms to give up`);

      // The extension host still answers: an edit goes through and a timer fires on time.
      assert.ok(await editor.edit((e) => e.insert(new vscode.Position(0, 0), '// still typing\n')));
      assert.ok(doc.getText().startsWith('// still typing\n'));
      const tick = Date.now();
      await sleep(50);
      assert.ok(Date.now() - tick < 1_000, 'the extension host event loop is blocked');
      await vscode.commands.executeCommand('undo');
    } finally {
      await setSetting('model', model);
    }
    await waitFor('the model to load again', () => wisp.state().status === 'ready', 30_000);
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
