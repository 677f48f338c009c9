// wisp.backend "llama.cpp" in the real editor, against a real llama-server on loopback serving the
// test model's weights: a suggestion comes from the server and the editor's Tab command inserts it,
// unless it is below wisp.minConfidence; a server that goes away leaves the editor with a clear
// state and no suggestion, and switching back to "local" works at once.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { TokenViewData } from '../../src/engine/inspect';
import { ggufFor, llamaServerBinary, startLlamaServer, RunningServer } from '../server/llama-server-fixture';
import {
  WispApi,
  api,
  changeSettings,
  complete,
  configuredModel,
  insertText,
  positionAfter,
  setSetting,
  waitFor,
  workspaceFile,
} from './helpers';

const FIB_BODY = 'export function fibonacci(n: number): number {\n  ';

describe('model server backend (llama.cpp)', () => {
  let server: RunningServer;

  before(async function () {
    this.timeout(60 * 60_000);
    await (await api()).whenReady();
    server = await startLlamaServer(await llamaServerBinary(), await ggufFor(configuredModel()), 256);
    await setSetting('temperature', 0);
    // The test model's context is 256 tokens: the text window Wisp sends must fit the server's.
    await setSetting('contextTokens', 64);
    // Not a speed test: a loaded machine must not cut the suggestion to nothing.
    await setSetting('timeBudgetMs', 60_000);
    await setSetting('server.url', server.url);
    await setSetting('backend', 'llama.cpp');
    const wisp = await api();
    await waitFor('the llama.cpp backend', () => wisp.state().info?.variant === 'llama.cpp', 10_000);
  });

  after(async () => {
    for (const key of ['backend', 'server.url', 'temperature', 'contextTokens', 'timeBudgetMs'])
      await setSetting(key, undefined);
    await server?.stop();
  });

  const sample = async () => (await vscode.workspace.openTextDocument(workspaceFile('sample.ts'))).getText();

  it('the ghost text from llama-server goes in with Tab (the inline-suggestion commit Tab runs)', async function () {
    this.timeout(300_000);
    const wisp = await api();
    const sampleText = await sample();
    // What the provider suggests there, from the server (greedy, so the same when asked again).
    const probe = await vscode.workspace.openTextDocument({ language: 'typescript', content: sampleText });
    const items = await complete(wisp.provider, probe, positionAfter(probe, FIB_BODY));
    assert.ok(items.length > 0, 'a suggestion from the server');
    const expected = insertText(items[0]!);

    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: sampleText });
    const editor = await vscode.window.showTextDocument(doc);
    const at = positionAfter(doc, FIB_BODY);
    editor.selection = new vscode.Selection(at, at);
    const offset = doc.offsetAt(at);
    let tries = 0;
    await waitFor(
      'the ghost text accepted',
      async () => {
        // Asked again now and then: a request may be cancelled by the editor (focus, a new trigger).
        if (tries++ % 50 === 0) await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
        return doc.getText() !== sampleText;
      },
      120_000,
    );
    assert.strictEqual(doc.getText(), sampleText.slice(0, offset) + expected + sampleText.slice(offset));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('the token view shows llama-server’s next-token distribution (n_probs)', async function () {
    this.timeout(300_000);
    const wisp = (await api()) as WispApi & {
      tokenView(): (vscode.Disposable & { latest?: { data: TokenViewData }; status?: string }) | undefined;
    };
    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: await sample() });
    const editor = await vscode.window.showTextDocument(doc);
    const at = positionAfter(doc, FIB_BODY);
    editor.selection = new vscode.Selection(at, at);
    await vscode.commands.executeCommand('wisp.showTokenView');
    const view = () => wisp.tokenView();
    const data = await waitFor(
      'a view from the server',
      () => view()?.latest?.data.server && view()?.latest?.data,
      120_000,
    ).catch((err: Error) => assert.fail(`${err.message}; the view says: ${view()?.status ?? 'nothing'}`));
    assert.ok(data.server!.backend.startsWith(`llama.cpp at ${server.url}`));
    assert.equal(data.distribution.candidates.length, 20);
    const raws = data.distribution.candidates.map((c) => c.raw);
    assert.ok(
      raws.every((p, i) => p > 0 && p <= 1 && (i === 0 || p <= raws[i - 1]!)),
      JSON.stringify(raws),
    );
    // Greedy (temperature 0): the top token alone is kept.
    assert.equal(data.distribution.keptCount, 1);
    assert.ok(data.promptTokens > 0, 'the server’s prompt count');
    wisp.tokenView()?.dispose();
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  it('wisp.minConfidence applies to llama-server’s suggestions (its log-probabilities come with them)', async function () {
    this.timeout(300_000);
    const wisp = await api();
    const sampleText = await sample();
    const ask = async () => {
      const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: sampleText });
      return complete(wisp.provider, doc, positionAfter(doc, FIB_BODY));
    };
    // A threshold no suggestion reaches: before the server's log-probabilities reached the gate,
    // its suggestions were shown whatever it was set to.
    const restore = await changeSettings({ minConfidence: 1 });
    try {
      assert.deepStrictEqual(await ask(), []);
    } finally {
      await restore();
    }
    assert.ok((await ask()).length > 0, 'shown with the harness’s threshold 0');
  });

  it('suggests from llama-server; a stopped server gives a clear state; back to local at once', async function () {
    this.timeout(300_000);
    const wisp = await api();
    const fresh = () => vscode.workspace.openTextDocument({ language: 'typescript', content: sampleText });
    const sampleText = await sample();
    const a = await fresh();
    const items = await complete(wisp.provider, a, positionAfter(a, FIB_BODY));
    assert.ok(items.length > 0 && insertText(items[0]!).length > 0, 'a suggestion from the server');

    await server.stop();
    const b = await fresh();
    // A refused connection ends the request (the test's deadline catches a provider that hangs).
    assert.deepStrictEqual(await complete(wisp.provider, b, positionAfter(b, FIB_BODY)), []);
    const state = wisp.state();
    assert.strictEqual(state.status, 'error');
    assert.match(state.message ?? '', new RegExp(`llama\\.cpp at ${server.url.replace(/\./g, '\\.')}.*cannot connect`));

    await setSetting('backend', 'local');
    await waitFor(
      'the local engine',
      () => wisp.state().status === 'ready' && wisp.state().info?.variant !== 'llama.cpp',
      30_000,
    );
    const c = await fresh();
    assert.ok(
      (await complete(wisp.provider, c, positionAfter(c, FIB_BODY))).length > 0,
      'a suggestion from the local engine',
    );
  });
});
