// VS Code's own inline-suggestion commands on Wisp's suggestions, in the real editor: cycling through
// several candidates (Alt+], editor.action.inlineSuggest.showNext), and taking part of a suggestion
// (Accept Next Word, Accept Next Line) after which typing-through still serves the rest.
import * as assert from 'assert';
import * as vscode from 'vscode';
import {
  WispApi,
  api,
  bundledModel,
  changeSettings,
  complete,
  insertText,
  positionAfter,
  switchModel,
  waitFor,
} from './helpers';

const FIB_BODY = 'export function fibonacci(n: number): number {\n  ';

/** The editor's own requests to the provider, and the texts each answered. */
const answered: string[][] = [];

async function openSample(): Promise<vscode.TextEditor> {
  const sample = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'sample.ts');
  const content = Buffer.from(await vscode.workspace.fs.readFile(sample)).toString('utf8');
  const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content });
  const editor = await vscode.window.showTextDocument(doc);
  const at = positionAfter(doc, FIB_BODY);
  editor.selection = new vscode.Selection(at, at);
  return editor;
}

const REPEATED_BODIES = [1, 2, 3]
  .map(
    (n) =>
      `export function scaled${n}(value: number): number {\n  const doubled = value * 2;\n  return doubled + ${n};\n}\n`,
  )
  .join('\n');

/** A document whose last function's body repeats two before it; the cursor at that body's start. */
async function openRepeatedBodies(): Promise<vscode.TextEditor> {
  const content = `${REPEATED_BODIES}\nexport function scaled4(value: number): number {\n  \n}\n`;
  const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content });
  const editor = await vscode.window.showTextDocument(doc);
  const at = doc.positionAt(content.lastIndexOf('{\n  ') + 4);
  editor.selection = new vscode.Selection(at, at);
  return editor;
}

async function closeEditor(): Promise<void> {
  await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}

/** Text inserted at the cursor once `command` changed the document, asking for ghost text until it did. */
async function runUntilInserted(editor: vscode.TextEditor, command: string): Promise<string> {
  const doc = editor.document;
  const before = doc.getText();
  const at = doc.offsetAt(editor.selection.active);
  await waitFor(
    `${command} to insert a suggestion`,
    async () => {
      if (doc.getText() !== before) return true;
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await waitFor('the editor to ask Wisp', () => answered.length > 0, 30_000);
      await vscode.commands.executeCommand(command);
      return doc.getText() !== before;
    },
    90_000,
  );
  return doc.getText().slice(at, at + doc.getText().length - before.length);
}

describe("VS Code's inline-suggestion commands", () => {
  let wisp: WispApi;
  let provide: vscode.InlineCompletionItemProvider['provideInlineCompletionItems'];

  before(async () => {
    wisp = await api();
    await wisp.whenReady();
    // Observe the provider the editor calls (the same object): the real one answers.
    const provider = wisp.provider;
    provide = provider.provideInlineCompletionItems;
    provider.provideInlineCompletionItems = async (...args) => {
      const result = await provide.apply(provider, args);
      const items = !result ? [] : Array.isArray(result) ? result : result.items;
      answered.push(items.map(insertText));
      return result;
    };
  });

  after(() => {
    wisp.provider.provideInlineCompletionItems = provide;
  });

  it('several candidates reach the editor, and Alt+] (showNext) shows another one', async () => {
    const restore = await changeSettings({ temperature: 1, candidates: 5 });
    const editor = await openSample();
    try {
      const items = (await complete(wisp.provider, editor.document, editor.selection.active)).map(insertText);
      assert.ok(items.length >= 2, `several different candidates: ${JSON.stringify(items)}`);
      assert.strictEqual(new Set(items).size, items.length, JSON.stringify(items));
      const original = editor.document.getText();
      let shown: string | undefined;
      let offered: string[] = [];
      // The editor's request is answered from the suggestions already made (typing-through memory);
      // showNext can come before they are on screen, so try again then.
      for (let attempt = 0; attempt < 5 && (shown === undefined || shown === offered[0]); attempt++) {
        if (editor.document.getText() !== original) await vscode.commands.executeCommand('undo');
        answered.length = 0;
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        offered = await waitFor('the editor to get several candidates', () => answered.find((a) => a.length >= 2));
        await vscode.commands.executeCommand('editor.action.inlineSuggest.showNext');
        await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
        const now = editor.document.getText();
        if (now === original) continue;
        const at = editor.document.offsetAt(editor.selection.active) - (now.length - original.length);
        shown = now.slice(at, at + now.length - original.length);
      }
      assert.ok(shown !== undefined, 'a candidate was accepted');
      assert.ok(offered.includes(shown), `${JSON.stringify(shown)} is one of ${JSON.stringify(offered)}`);
      assert.notStrictEqual(shown, offered[0], 'showNext moved to another candidate');
    } finally {
      await closeEditor();
      await restore();
    }
  });

  describe('partial accept, on the bundled model', () => {
    let restoreModel: (() => Promise<void>) | undefined;

    before(async function () {
      // A random fixture model writes one short line here; a real one writes several lines of words.
      const bundled = bundledModel();
      if (!bundled) this.skip();
      restoreModel = await switchModel(bundled);
    });

    after(async () => {
      await restoreModel?.();
    });

    it('Accept Next Word and Accept Next Line take part of it; typing-through serves the rest', async () => {
      // The model changes every session: two earlier copies of the body and the context cache make
      // a suggestion of several lines of words likely from any of them.
      const restore = await changeSettings({
        temperature: 0,
        multiline: 'always',
        contextCache: true,
        contextCacheWeight: 0.9,
      });
      const editor = await openRepeatedBodies();
      try {
        const doc = editor.document;
        const start = doc.offsetAt(editor.selection.active);
        const [item] = await complete(wisp.provider, doc, editor.selection.active);
        assert.ok(item, 'the bundled model suggests something in the empty body');
        const suggestion = insertText(item);
        const firstLine = suggestion.split('\n')[0];
        assert.ok(suggestion.includes('\n') && /\w\W+\w/.test(firstLine), JSON.stringify(suggestion));

        answered.length = 0;
        const word = await runUntilInserted(editor, 'editor.action.inlineSuggest.acceptNextWord');
        assert.ok(suggestion.startsWith(word), `${JSON.stringify(word)} begins ${JSON.stringify(suggestion)}`);
        assert.ok(word.trim().length > 0 && word.length < firstLine.length, `one word: ${JSON.stringify(word)}`);

        answered.length = 0;
        const line = await runUntilInserted(editor, 'editor.action.inlineSuggest.acceptNextLine');
        const rest = suggestion.slice(word.length);
        assert.ok(rest.startsWith(line), `${JSON.stringify(line)} begins ${JSON.stringify(rest)}`);
        assert.ok(!line.trimEnd().includes('\n'), `one line: ${JSON.stringify(line)}`);

        // What was taken is what typing it would have been: the rest comes from the suggestion.
        const taken = word.length + line.length;
        assert.strictEqual(doc.getText().slice(start, start + taken), suggestion.slice(0, taken));
        const [remaining] = await complete(wisp.provider, doc, doc.positionAt(start + taken));
        assert.ok(remaining, 'a suggestion after the partial accepts');
        assert.strictEqual(insertText(remaining), suggestion.slice(taken));
      } finally {
        await closeEditor();
        await restore();
      }
    });
  });
});
