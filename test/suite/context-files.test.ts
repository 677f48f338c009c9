// Other open editors feed the context cache: a name defined only in another editor is completed
// from it, and wisp.contextFromOtherFiles turns that off. The suites' model is the random-weight
// fixture, so whatever it gets right here comes from the cache.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, changeSettings, complete, insertText, setSetting, waitFor } from './helpers';

const OTHER_FILE = 'def frobnicate_widget(a, b):\n    return frobnicate_widget(b, a)\n';
const TYPED = 'value = frobnicate_';

describe('context from other open editors', () => {
  // The harness turns both off for the other suites (run-suites.js): put that back afterwards.
  let restore: () => Promise<void>;
  before(async () => {
    restore = await changeSettings({
      contextCache: true,
      contextFromOtherFiles: false,
      temperature: 0,
      timeBudgetMs: 60_000,
      contextCacheWeight: 0.9,
    });
    await (await api()).whenReady();
    const other = await vscode.workspace.openTextDocument({ language: 'python', content: OTHER_FILE });
    await vscode.window.showTextDocument(other, vscode.ViewColumn.Two);
  });

  after(async () => {
    await restore();
    await vscode.commands.executeCommand('workbench.action.closeEditorsInOtherGroups');
  });

  /** A suggestion at the end of a new document holding TYPED (new, so no remembered suggestion answers). */
  async function suggestAfterTyped(): Promise<string> {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: TYPED });
    await vscode.window.showTextDocument(doc, vscode.ViewColumn.One);
    const items = await complete((await api()).provider, doc, doc.positionAt(TYPED.length));
    return items.length ? insertText(items[0]) : '';
  }

  // The watcher hands the open editors to the engine a little after they change (a debounce and
  // indexing): ask until the suggestion shows the state the setting asks for.
  it('completes a name that only another open editor defines', async () => {
    await setSetting('contextFromOtherFiles', true);
    let last = '';
    await waitFor(
      'a suggestion that completes frobnicate_widget',
      async () => (last = await suggestAfterTyped()).startsWith('widget'),
      60_000,
    ).catch((err: Error) => assert.fail(`${err.message}; last suggestion ${JSON.stringify(last)}`));
  });

  it('does not, with wisp.contextFromOtherFiles off', async () => {
    await setSetting('contextFromOtherFiles', false);
    let last = '';
    await waitFor(
      "a suggestion without the other editor's name",
      async () => !(last = await suggestAfterTyped()).startsWith('widget'),
      60_000,
    ).catch((err: Error) => assert.fail(`${err.message}; last suggestion ${JSON.stringify(last)}`));
  });
});
