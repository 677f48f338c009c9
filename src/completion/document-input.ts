// What a request needs to know of a VS Code document: its text around a position, its path in the
// workspace and its indentation style. The provider, the token view and Generate Code read a
// document the same way.
import * as vscode from 'vscode';
import type { CrossFileTarget } from '../engine/process/protocol';
import type { DocumentPaths } from './excluded-files';
import type { InlineInput } from './inline-request';
import type { DocumentStyle } from './postprocess';

export function documentStyle(document: vscode.TextDocument): DocumentStyle {
  const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
  const tabSize = typeof editor?.options.tabSize === 'number' ? editor.options.tabSize : 4;
  const insertSpaces = typeof editor?.options.insertSpaces === 'boolean' ? editor.options.insertSpaces : true;
  return { eol: document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n', insertSpaces, tabSize };
}

/** The document's path and workspace name, as a repository header gives them. */
export function crossFileTarget(document: vscode.TextDocument): CrossFileTarget {
  return {
    path: vscode.workspace.asRelativePath(document.uri, false),
    repoName: vscode.workspace.getWorkspaceFolder(document.uri)?.name ?? vscode.workspace.name ?? '',
  };
}

/** The document around a cursor, as the provider and the token view read it. */
export function inlineInput(document: vscode.TextDocument, position: vscode.Position): InlineInput {
  return {
    slice: (start, end) => document.getText(new vscode.Range(document.positionAt(start), document.positionAt(end))),
    documentLength: document.offsetAt(document.lineAt(document.lineCount - 1).range.end),
    cursor: document.offsetAt(position),
    crossFile: crossFileTarget(document),
  };
}

/** The names wisp.exclude is matched against. */
export function documentPaths(document: vscode.TextDocument): DocumentPaths {
  return {
    relative: vscode.workspace.asRelativePath(document.uri, false),
    absolute: document.uri.scheme === 'untitled' ? undefined : document.uri.fsPath,
  };
}
