// Wisp: Select Model — a quick pick of the bundled models, the downloaded ones and "Browse for a
// folder…". The chosen folder is validated by readModelFolder before wisp.model changes, so a wrong
// folder is reported precisely (what is missing or unreadable) and the running model stays.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ModelFolderError, readModelFolder } from '../shared/model-folder';
import { listBundledModels, resolveModelDir } from '../shared/model-location';
import { listDownloadedModels } from '../hub/hub-download';
import { readSettings } from '../ui/read-settings';

export interface ModelPickItem extends vscode.QuickPickItem {
  /** The wisp.model value this item stands for; undefined for "Browse for a folder…". */
  setting?: string;
}

/** The questions the command asks, separate so the real-editor tests can answer them. */
export interface SelectModelPrompts {
  pickModel(items: ModelPickItem[]): Thenable<ModelPickItem | undefined>;
  pickFolder(): Thenable<string | undefined>;
}

export interface ModelCommandDeps {
  extensionRoot: string;
  /** The extension's global storage folder (downloads live in its models/). */
  storageDir: string;
  log: (line: string) => void;
}

export const selectModelPrompts: SelectModelPrompts = {
  pickModel: (items) =>
    vscode.window.showQuickPick(items, {
      title: 'Wisp: Select Model',
      placeHolder: 'The model Wisp completes with',
      matchOnDetail: true,
    }),
  pickFolder: async () => {
    const picked = await vscode.window.showOpenDialog({
      title: 'Wisp: a model folder (config.json, tokenizer.json, onnx/model.onnx)',
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: 'Use This Model',
    });
    return picked?.[0]?.fsPath;
  },
};

export function modelPickItems(deps: ModelCommandDeps, current: string): ModelPickItem[] {
  const currentDir = resolveModelDir(current, deps.extensionRoot);
  const mark = (setting: string) =>
    resolveModelDir(setting, deps.extensionRoot) === currentDir ? 'current' : undefined;
  const separator = (label: string): ModelPickItem => ({ label, kind: vscode.QuickPickItemKind.Separator });
  const bundled = listBundledModels(deps.extensionRoot).map((id): ModelPickItem => ({
    label: id,
    description: mark(id),
    detail: 'bundled with Wisp',
    setting: id,
  }));
  const downloaded = listDownloadedModels(deps.storageDir).map((dir): ModelPickItem => ({
    label: path.basename(dir),
    description: mark(dir),
    detail: dir,
    setting: dir,
  }));
  const known = [...bundled, ...downloaded].some((item) => item.description === 'current');
  return [
    separator('Bundled'),
    ...bundled,
    ...(downloaded.length ? [separator('Downloaded'), ...downloaded] : []),
    separator('Folder'),
    ...(known
      ? []
      : [{ label: path.basename(currentDir), description: 'current', detail: currentDir, setting: current }]),
    {
      label: '$(folder-opened) Browse for a folder…',
      detail: 'A model in the Hugging Face ONNX layout',
      alwaysShow: true,
    },
  ];
}

/** Returns the new wisp.model value, or undefined when nothing changed. */
export async function selectModel(
  deps: ModelCommandDeps,
  prompts: SelectModelPrompts = selectModelPrompts,
): Promise<string | undefined> {
  const choice = await prompts.pickModel(modelPickItems(deps, readSettings().model));
  if (!choice) return undefined;
  const setting = choice.setting ?? (await prompts.pickFolder());
  if (!setting) return undefined;
  return (await switchModel(setting, deps)) ? setting : undefined;
}

/** Points wisp.model (user settings: it is machine-scoped) at a model that passes readModelFolder. */
export async function switchModel(setting: string, deps: ModelCommandDeps): Promise<boolean> {
  const dir = resolveModelDir(setting, deps.extensionRoot);
  try {
    readModelFolder(dir);
  } catch (err) {
    if (!(err instanceof ModelFolderError)) throw err;
    deps.log(`not switching to ${dir}: ${err.message}`);
    void vscode.window.showErrorMessage(`Wisp cannot use ${dir}: ${err.message}`);
    return false;
  }
  await vscode.workspace.getConfiguration('wisp').update('model', setting, vscode.ConfigurationTarget.Global);
  deps.log(`wisp.model set to ${setting}`);
  return true;
}
