// The inline completion provider on real documents: greedy output equals the engine's own
// (cli.js) for the same prefix and suffix, and settings apply to the next request.
import * as assert from 'assert';
import * as vscode from 'vscode';
import {
  api,
  changeSettings,
  bundledModel,
  cliComplete,
  cliStats,
  complete,
  insertText,
  positionAfter,
  setSetting,
  switchModel,
  workspaceFile,
} from './helpers';

const FIB_BODY = 'export function fibonacci(n: number): number {\n  ';

describe('inline completion', () => {
  let doc: vscode.TextDocument;
  let restore: () => Promise<void>;

  before(async () => {
    await (await api()).whenReady();
    doc = await vscode.workspace.openTextDocument(workspaceFile('sample.ts'));
    await vscode.window.showTextDocument(doc);
    // The CLI has no time budget; the extension must not cut a suggestion short here.
    restore = await changeSettings({ temperature: 0, timeBudgetMs: 60_000, maxNewTokens: undefined });
  });

  after(async () => {
    await restore();
  });

  for (const [file, marker] of [
    ['sample.ts', FIB_BODY],
    ['sample.py', 'def fibonacci(n: int) -> int:\n    '],
  ] as const) {
    it(`greedy suggestion in ${file} equals cli.js complete on the same prefix and suffix`, async () => {
      const wisp = await api();
      const d = await vscode.workspace.openTextDocument(workspaceFile(file));
      const position = positionAfter(d, marker);
      const items = await complete(wisp.provider, d, position);
      const fromEditor = items.length ? insertText(items[0]) : '';
      const prefix = d.getText(new vscode.Range(new vscode.Position(0, 0), position));
      const suffix = d.getText(new vscode.Range(position, d.lineAt(d.lineCount - 1).range.end));
      const fromCli = await cliComplete(prefix, suffix);
      assert.ok(fromCli.length > 0, 'cli.js printed nothing: the comparison would prove nothing');
      assert.strictEqual(fromEditor, fromCli);
    });
  }

  // The provider remembers the suggestion it gave for a prefix (to serve it again while the user
  // types through it), so each request below is made on a document it has not seen.
  const fresh = async () => vscode.workspace.openTextDocument({ language: 'typescript', content: doc.getText() });

  it('is deterministic at temperature 0', async () => {
    const wisp = await api();
    const [a, b] = [await fresh(), await fresh()];
    const first = (await complete(wisp.provider, a, positionAfter(a, FIB_BODY))).map(insertText);
    const second = (await complete(wisp.provider, b, positionAfter(b, FIB_BODY))).map(insertText);
    assert.deepStrictEqual(second, first);
  });

  // The token budget also sets how much prompt fits the model's context, so a shorter budget is
  // not simply a prefix of a longer one: each must match the engine run with the same budget.
  it('applies a changed wisp.maxNewTokens to the next request, without a reload', async () => {
    const wisp = await api();
    const suggest = async (maxNewTokens: number) => {
      await setSetting('maxNewTokens', maxNewTokens);
      const d = await fresh();
      const position = positionAfter(d, FIB_BODY);
      const fromEditor = (await complete(wisp.provider, d, position)).map(insertText)[0] ?? '';
      const prefix = d.getText(new vscode.Range(new vscode.Position(0, 0), position));
      const fromCli = await cliComplete(prefix, d.getText().slice(prefix.length), [
        '--max-new-tokens',
        String(maxNewTokens),
      ]);
      assert.strictEqual(fromEditor, fromCli, `with wisp.maxNewTokens = ${maxNewTokens}`);
      return fromEditor;
    };
    const long = await suggest(48);
    const short = await suggest(1);
    assert.ok(
      short.length > 0 && long.length > short.length,
      `48 tokens (${JSON.stringify(long)}) should give more text than 1 token (${JSON.stringify(short)})`,
    );
  });

  it('does not compute a suggestion for a request that is already cancelled', async () => {
    const wisp = await api();
    const d = await fresh();
    const source = new vscode.CancellationTokenSource();
    source.cancel();
    const items = await complete(wisp.provider, d, positionAfter(d, FIB_BODY), source.token);
    assert.deepStrictEqual(items.map(insertText), []);
  });
});

describe("the model's second choice, on the bundled model", () => {
  let restore: (() => Promise<void>) | undefined;
  before(async function () {
    // The random fixture model never writes the next line first; a trained one does, in repetitive code.
    const bundled = bundledModel();
    if (!bundled) this.skip();
    const restoreSettings = await changeSettings({ temperature: 0, timeBudgetMs: 60_000 });
    const restoreModel = await switchModel(bundled);
    restore = async () => {
      await restoreModel();
      await restoreSettings();
    };
  });

  after(async () => {
    await restore?.();
  });

  it('is shown where the first line it writes is the next line, as cli.js shows it', async () => {
    const wisp = await api();
    const model = ['--model', bundledModel()!];
    const before = 'import os\nimport sys\nimport os\n';
    // The condition is created, whatever the model: the line below the cursor becomes the model's own
    // first line for the document with that line below it, until the engine sets one aside.
    let suffix = '\n\n';
    let setAside = 0;
    for (let round = 0; round < 6 && !setAside; round++) {
      setAside = Number((await cliStats(before, suffix, model)).setAsideTokens ?? 0);
      if (setAside) break;
      const next = (await cliComplete(before, suffix, model)).split('\n')[0];
      if (!next.trim()) break;
      suffix = `\n${next}\n`;
    }
    assert.ok(setAside > 0, `the model never wrote the line below the cursor first (last: ${JSON.stringify(suffix)})`);
    const d = await vscode.workspace.openTextDocument({ language: 'python', content: before + suffix });
    const fromEditor = (await complete(wisp.provider, d, d.positionAt(before.length))).map(insertText)[0] ?? '';
    assert.ok(fromEditor.trim(), 'nothing shown');
    assert.notStrictEqual(fromEditor.split('\n')[0].trim(), suffix.trim().split('\n')[0].trim());
    assert.strictEqual(fromEditor, await cliComplete(before, suffix, model));
  });
});
