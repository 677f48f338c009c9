// Wisp: Use a Model Server… — which kind of server, its URL and (for servers of several models) the
// model name, checked as typed (setup/server-choice.ts), then written to the user's settings: the
// backend settings are machine-scoped, so a workspace value would never be read. Choosing "Wisp's
// own engine" switches back to local.
import * as vscode from 'vscode';
import { SERVER_KINDS, ServerKind, serverSettingsFor, serverUrlProblem } from '../setup/server-choice';
import type { WispSettings } from '../settings';

/** The questions the command asks, separate so the real-editor tests can answer them. */
export interface ServerPrompts {
  pickKind(kinds: readonly ServerKind[], current: WispSettings['backend']): Thenable<ServerKind | undefined>;
  askUrl(kind: ServerKind, value: string): Thenable<string | undefined>;
  askModel(kind: ServerKind, value: string): Thenable<string | undefined>;
}

export const serverPrompts: ServerPrompts = {
  pickKind: async (kinds, current) => {
    const items = kinds.map((kind) => ({
      label: kind.label,
      description: kind.backend === current ? 'current' : kind.backend,
      detail: kind.detail,
      server: kind,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Wisp: Use a Model Server (1/3)',
      placeHolder: 'What computes completions',
    });
    return picked?.server;
  },
  askUrl: (kind, value) =>
    vscode.window.showInputBox({
      title: 'Wisp: Use a Model Server (2/3)',
      prompt: `Base URL of the ${kind.label} server (kept in your user settings; only this server is contacted)`,
      value,
      ignoreFocusOut: true,
      validateInput: serverUrlProblem,
    }),
  askModel: (kind, value) =>
    vscode.window.showInputBox({
      title: 'Wisp: Use a Model Server (3/3)',
      prompt: 'The model name the server knows: a base model with fill-in-the-middle tokens, not a chat model',
      placeHolder: kind.modelExample,
      value,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : `${kind.label} needs a model name, e.g. ${kind.modelExample}`),
    }),
};

/** Returns the settings written, or undefined when the user backed out. */
export async function useModelServer(
  current: WispSettings,
  log: (line: string) => void,
  prompts: ServerPrompts = serverPrompts,
): Promise<Partial<WispSettings> | undefined> {
  const kind = await prompts.pickKind(SERVER_KINDS, current.backend);
  if (!kind) return undefined;
  let url: string | undefined;
  let model: string | undefined;
  if (kind.backend !== 'local') {
    // The current URL when it is for this kind of server already, else where that kind usually listens.
    const suggestion = current.backend === kind.backend ? current['server.url'] : (kind.defaultUrl ?? '');
    url = await prompts.askUrl(kind, suggestion);
    if (url === undefined) return undefined;
    if (kind.needsModel) {
      model = await prompts.askModel(kind, current['server.model']);
      if (model === undefined) return undefined;
    }
  }
  const writes = serverSettingsFor({ backend: kind.backend, url, model }, current);
  const config = vscode.workspace.getConfiguration('wisp');
  for (const [key, value] of writes) await config.update(key, value, vscode.ConfigurationTarget.Global);
  log(`user settings: ${writes.map(([key, value]) => `wisp.${key} = ${value}`).join(', ') || 'unchanged'}`);
  const test = 'Test Completion';
  void vscode.window
    .showInformationMessage(
      kind.backend === 'local'
        ? 'Wisp completes with its own engine again.'
        : `Wisp sends completions to ${kind.label} at ${url}. A server that wants an API key: Wisp: Set Server API Key.`,
      test,
    )
    .then((choice) => {
      if (choice === test) void vscode.commands.executeCommand('wisp.testCompletion');
    });
  return Object.fromEntries(writes) as Partial<WispSettings>;
}
