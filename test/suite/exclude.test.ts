// wisp.exclude in the real editor: a matching file gets no suggestion, and an open editor whose file
// matches is not used as context for others. Each case is checked against the same file with the
// glob lifted, so a pass cannot come from a model that had nothing to say anyway.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, complete, insertText, positionAfter, setSetting, sleep, workspaceFile } from './helpers';

const FIB_BODY = 'export function fibonacci(n: number): number {\n  ';
// A name no other suite's editors hold (context-files.test.ts leaves frobnicate_widget open): the
// fixture model completes `plonk_` with `sprocket` only from this file (checked with cli.js).
const OTHER_FILE = 'def plonk_sprocket(a, b):\n    return plonk_sprocket(b, a)\n';
const TYPED = 'value = plonk_';
/** The context-files watcher waits 500 ms after a change; indexing a small file takes a few ms more. */
const SETTLE_MS = 1500;

describe('files never completed (wisp.exclude)', () => {
  const KEYS = ['contextCache', 'contextFromOtherFiles'];
  let previous: unknown[] = [];
  before(async () => {
    previous = KEYS.map((key) => vscode.workspace.getConfiguration('wisp').inspect(key)?.globalValue);
    await (await api()).whenReady();
    await setSetting('temperature', 0);
    await setSetting('timeBudgetMs', 60_000);
  });

  after(async () => {
    for (const key of ['temperature', 'timeBudgetMs', 'contextCacheWeight', 'exclude'])
      await setSetting(key, undefined);
    for (const [i, key] of KEYS.entries()) await setSetting(key, previous[i]);
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
      await sleep(SETTLE_MS);
      const items = await complete((await api()).provider, doc, doc.positionAt(TYPED.length));
      return items.length ? insertText(items[0]) : '';
    };
    const drawnOn = await suggestAfterTyped();
    assert.ok(drawnOn.startsWith('sprocket'), `not excluded, the other file is used: ${JSON.stringify(drawnOn)}`);
    await setSetting('exclude', ['**/widgets.py']);
    const excluded = await suggestAfterTyped();
    assert.ok(!excluded.startsWith('sprocket'), `excluded, it must not be: ${JSON.stringify(excluded)}`);
  });
});
