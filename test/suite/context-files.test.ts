// Other open editors feed the context cache: a name defined only in another editor is completed
// from it, and wisp.contextFromOtherFiles turns that off. The suites' model is the random-weight
// fixture, so whatever it gets right here comes from the cache.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, complete, insertText, setSetting } from './helpers';

const OTHER_FILE = 'def frobnicate_widget(a, b):\n    return frobnicate_widget(b, a)\n';
const TYPED = 'value = frobnicate_';
/** The watcher waits 500 ms after the editors change; indexing a small file takes a few ms more. */
const SETTLE_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('context from other open editors', () => {
  // The harness turns both off for the other suites (run-suites.js): put that back afterwards.
  const KEYS = ['contextCache', 'contextFromOtherFiles'];
  let previous: unknown[] = [];
  before(async () => {
    previous = KEYS.map((key) => vscode.workspace.getConfiguration('wisp').inspect(key)?.globalValue);
    await setSetting('contextCache', true);
    await (await api()).whenReady();
    await setSetting('temperature', 0);
    await setSetting('timeBudgetMs', 60_000);
    await setSetting('contextCacheWeight', 0.9);
    const other = await vscode.workspace.openTextDocument({ language: 'python', content: OTHER_FILE });
    await vscode.window.showTextDocument(other, vscode.ViewColumn.Two);
  });

  after(async () => {
    for (const key of ['temperature', 'timeBudgetMs', 'contextCacheWeight']) await setSetting(key, undefined);
    for (const [i, key] of KEYS.entries()) await setSetting(key, previous[i]);
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
  });

  /** A suggestion at the end of a new document holding TYPED (new, so no remembered suggestion answers). */
  async function suggestAfterTyped(): Promise<string> {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: TYPED });
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    await sleep(SETTLE_MS);
    const items = await complete((await api()).provider, doc, doc.positionAt(TYPED.length));
    return items.length ? insertText(items[0]) : '';
  }

  it('completes a name that only another open editor defines', async () => {
    await setSetting('contextFromOtherFiles', true);
    const suggestion = await suggestAfterTyped();
    assert.ok(suggestion.startsWith('widget'), JSON.stringify(suggestion));
  });

  it('does not, with wisp.contextFromOtherFiles off', async () => {
    await setSetting('contextFromOtherFiles', false);
    const suggestion = await suggestAfterTyped();
    assert.ok(!suggestion.startsWith('widget'), JSON.stringify(suggestion));
  });
});
