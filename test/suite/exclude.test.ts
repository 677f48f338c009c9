// wisp.exclude in the real editor: a matching file gets no suggestion, and an open editor whose file
// matches is not used as context for others. Each case is checked against the same file with the
// glob lifted, so a pass cannot come from a model that had nothing to say anyway.
import * as assert from 'assert';
import * as vscode from 'vscode';
import {
  api,
  changeSettings,
  complete,
  insertText,
  positionAfter,
  setSetting,
  waitFor,
  workspaceFile,
} from './helpers';

const FIB_BODY = 'export function fibonacci(n: number): number {\n  ';
// A name no other suite's editors hold (context-files.test.ts leaves frobnicate_widget open): the
// fixture model completes `plonk_` with `sprocket` only from this file (checked with cli.js).
const OTHER_FILE = 'def plonk_sprocket(a, b):\n    return plonk_sprocket(b, a)\n';
const TYPED = 'value = plonk_';

describe('files never completed (wisp.exclude)', () => {
  // Everything the tests change goes back to the harness's values afterwards (run-suites.js).
  let restore: () => Promise<void>;
  before(async () => {
    const current = (key: string) => vscode.workspace.getConfiguration('wisp').inspect(key)?.globalValue;
    restore = await changeSettings({
      temperature: 0,
      timeBudgetMs: 60_000,
      exclude: undefined,
      contextCache: current('contextCache'),
      contextFromOtherFiles: current('contextFromOtherFiles'),
      contextCacheWeight: current('contextCacheWeight'),
    });
    await (await api()).whenReady();
  });

  after(async () => {
    await restore();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('gives no suggestion in a secrets.* file, and one once the glob is lifted', async () => {
    const sample = await vscode.workspace.fs.readFile(workspaceFile('sample.ts'));
    const uri = workspaceFile('secrets.ts');
    await vscode.workspace.fs.writeFile(uri, sample);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const at = positionAfter(doc, FIB_BODY);
    const wisp = await api();
    assert.deepStrictEqual((await complete(wisp.provider, doc, at)).map(insertText), []);
    await setSetting('exclude', []);
    const items = await complete(wisp.provider, doc, at);
    assert.ok(items.length > 0 && insertText(items[0]).length > 0, 'the same file is completed when not excluded');
    await setSetting('exclude', undefined);
  });

  it('does not use an excluded open editor as context for another file', async () => {
    await setSetting('contextCache', true);
    await setSetting('contextFromOtherFiles', true);
    await setSetting('contextCacheWeight', 0.9);
    const uri = workspaceFile('widgets.py');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(OTHER_FILE));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), vscode.ViewColumn.Two);

    const suggestAfterTyped = async () => {
      const doc = await vscode.workspace.openTextDocument({ language: 'python', content: TYPED });
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
      const items = await complete((await api()).provider, doc, doc.positionAt(TYPED.length));
      return items.length ? insertText(items[0]) : '';
    };
    // The context-files watcher hands the open editors to the engine a little after they change (a
    // debounce and indexing): ask until the suggestion shows the state the settings ask for.
    let last = '';
    await waitFor(
      'a suggestion drawn from the other file',
      async () => (last = await suggestAfterTyped()).startsWith('sprocket'),
      60_000,
    ).catch((err: Error) =>
      assert.fail(`not excluded, the other file is used: ${err.message}; ${JSON.stringify(last)}`),
    );
    await setSetting('exclude', ['**/widgets.py']);
    await waitFor(
      'a suggestion without the excluded file',
      async () => !(last = await suggestAfterTyped()).startsWith('sprocket'),
      60_000,
    ).catch((err: Error) => assert.fail(`excluded, it must not be used: ${err.message}; ${JSON.stringify(last)}`));
  });
});
