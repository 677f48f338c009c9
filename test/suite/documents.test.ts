// Documents other than files on disk, and what Generate does to a document: untitled documents and
// notebook cells get suggestions like files, read-only documents get none, and a generation is
// undone in one step.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { WispApi, api, complete, waitFor } from './helpers';

/** A file system that only reads: documents opened from it are read-only in the editor. */
class ReadOnlyFs implements vscode.FileSystemProvider {
  private readonly changes = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changes.event;
  watch(): vscode.Disposable {
    return new vscode.Disposable(() => {});
  }
  stat(): vscode.FileStat {
    return { type: vscode.FileType.File, ctime: 0, mtime: 0, size: 64, permissions: vscode.FilePermission.Readonly };
  }
  readDirectory(): [string, vscode.FileType][] {
    return [];
  }
  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions();
  }
  readFile(): Uint8Array {
    return new TextEncoder().encode('def add(a, b):\n    return ');
  }
  writeFile(): void {
    throw vscode.FileSystemError.NoPermissions();
  }
  delete(): void {
    throw vscode.FileSystemError.NoPermissions();
  }
  rename(): void {
    throw vscode.FileSystemError.NoPermissions();
  }
}

describe('documents', () => {
  let wisp: WispApi;
  before(async () => {
    wisp = await api();
    await wisp.whenReady();
    assert.equal(wisp.state().status, 'ready');
  });

  it('an untitled document gets a suggestion', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'python', content: 'def add(a, b):\n    return ' });
    const items = await complete(wisp.provider, doc, doc.positionAt(doc.getText().length));
    assert.ok(Array.isArray(items));
    assert.equal(wisp.state().status, 'ready');
  });

  it('a notebook cell gets a suggestion', async () => {
    const data = new vscode.NotebookData([
      new vscode.NotebookCellData(
        vscode.NotebookCellKind.Code,
        'import os\nfor name in os.listdir("."):\n    ',
        'python',
      ),
    ]);
    const notebook = await vscode.workspace.openNotebookDocument('jupyter-notebook', data);
    const cell = notebook.cellAt(0).document;
    assert.equal(cell.uri.scheme, 'vscode-notebook-cell');
    const items = await complete(wisp.provider, cell, cell.positionAt(cell.getText().length));
    assert.ok(Array.isArray(items));
  });

  it('a read-only document gets no suggestion', async () => {
    const registration = vscode.workspace.registerFileSystemProvider('wisp-readonly', new ReadOnlyFs(), {
      isReadonly: true,
    });
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse('wisp-readonly:/add.py'));
      const items = await complete(wisp.provider, doc, doc.positionAt(doc.getText().length));
      assert.deepEqual(items, []);
    } finally {
      registration.dispose();
    }
  });

  // One Ctrl+Z takes back a whole generation, header line and code, in every language (in
  // TypeScript it once took two). The command resolves once the generation has ended.
  for (const [language, instruction] of [
    ['python', '# return the sum of a list of numbers'],
    ['typescript', '// return the sum of an array of numbers'],
  ] as const) {
    it(`Generate Code in ${language} inserts after the selected instruction, and one undo removes it all`, async () => {
      const original = `${instruction}\n`;
      const doc = await vscode.workspace.openTextDocument({ language, content: original });
      const editor = await vscode.window.showTextDocument(doc);
      editor.selection = new vscode.Selection(0, 0, 0, instruction.length);
      await vscode.commands.executeCommand('wisp.generate');
      assert.ok(doc.getText().length > original.length, `nothing generated: ${JSON.stringify(doc.getText())}`);
      assert.ok(doc.getText().startsWith(instruction));
      await vscode.commands.executeCommand('undo');
      await waitFor('the generation undone', () => doc.getText() === original, 10_000).catch(() =>
        assert.fail(`one undo left ${JSON.stringify(doc.getText())}`),
      );
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    });
  }
});
