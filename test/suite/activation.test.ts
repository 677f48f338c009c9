// Wisp activates in a real extension host, contributes its commands and loads the model
// named in the machine settings.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, complete, configuredModel, extension, positionAfter, setSetting, workspaceFile } from './helpers';

describe('activation', () => {
  it('activates and returns its API', async () => {
    const wisp = await api();
    assert.ok(extension().isActive);
    assert.strictEqual(typeof wisp.provider.provideInlineCompletionItems, 'function');
    assert.strictEqual(typeof wisp.whenReady, 'function');
  });

  it('registers wisp.generate, wisp.toggle and wisp.showLog', async () => {
    const commands = await vscode.commands.getCommands(true);
    for (const id of ['wisp.generate', 'wisp.toggle', 'wisp.showLog']) {
      assert.ok(commands.includes(id), `${id} is not registered`);
    }
  });

  it('loads the model from the machine settings', async () => {
    const wisp = await api();
    const model = configuredModel();
    assert.strictEqual(vscode.workspace.getConfiguration('wisp').inspect('model')?.globalValue, model);
    await wisp.whenReady();
    assert.strictEqual(wisp.state().status, 'ready', JSON.stringify(wisp.state()));
  });

  it('wisp.showLog runs', async () => {
    await vscode.commands.executeCommand('wisp.showLog');
  });

  it('wisp.toggle turns inline completions off, and on again', async () => {
    const wisp = await api();
    await wisp.whenReady();
    // The first request after loading can take longer than the default budget on a busy machine; an
    // empty answer would then prove nothing about the toggle.
    await setSetting('timeBudgetMs', 60_000);
    try {
      const doc = await vscode.workspace.openTextDocument(workspaceFile('sample.ts'));
      const position = positionAfter(doc, 'export function fibonacci(n: number): number {\n  ');
      assert.notDeepStrictEqual(await complete(wisp.provider, doc, position), [], 'no suggestion to begin with');
      await vscode.commands.executeCommand('wisp.toggle');
      try {
        assert.deepStrictEqual(await complete(wisp.provider, doc, position), [], 'a suggestion while toggled off');
      } finally {
        await vscode.commands.executeCommand('wisp.toggle');
      }
      assert.notDeepStrictEqual(
        await complete(wisp.provider, doc, position),
        [],
        'no suggestion once toggled on again',
      );
    } finally {
      await setSetting('timeBudgetMs', undefined);
    }
    // The first request after loading took 51 s on the loaded machine.
  }).timeout(300_000);
});
