// Wisp: Download Model… — a Hugging Face repository id and optional revision, a quick pick of the
// ONNX variants with their sizes, a cancellable progress notification while the files download into
// the extension's global storage, then an offer to switch wisp.model to the result.
import * as vscode from 'vscode';
import type { ModelFolder } from '../shared/model-folder';
import {
  DownloadCancelledError,
  HubEndpoint,
  ModelListing,
  ModelVariant,
  downloadModel,
  listModelVariants,
} from '../hub/hub-download';
import { modelFolderName, validateRepoId, validateRevision } from '../hub/hub-names';
import { RECOMMENDED_MODEL } from '../hub/recommended-model';
import { ModelCommandDeps, switchModel } from './select-model';

/** The questions the command asks, separate so the real-editor tests can answer them. */
export interface DownloadPrompts {
  /** `suggested`: the id the caller proposes (the walkthrough's recommended model), filled in. */
  askRepoId(suggested?: string): Thenable<string | undefined>;
  /** '' for the default branch; undefined when the user backs out. */
  askRevision(): Thenable<string | undefined>;
  /** `recommended`: the variant to offer first, when the repository is the recommended model. */
  pickVariant(listing: ModelListing, recommended?: string): Thenable<ModelVariant | undefined>;
  offerSwitch(folder: ModelFolder): Thenable<boolean>;
}

/** Where names are rejected as they are typed, with the validators the download itself uses. */
const explain = (validate: () => unknown) => {
  try {
    validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

export const downloadPrompts: DownloadPrompts = {
  askRepoId: (suggested) =>
    vscode.window.showInputBox({
      title: 'Wisp: Download Model (1/3)',
      value: suggested,
      prompt: 'Hugging Face repository id of a model in the ONNX layout',
      placeHolder: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct',
      ignoreFocusOut: true,
      validateInput: (value) => explain(() => validateRepoId(value)),
    }),
  askRevision: () =>
    vscode.window.showInputBox({
      title: 'Wisp: Download Model (2/3)',
      prompt: 'Revision: a branch, tag or commit (empty for the default branch)',
      placeHolder: 'main',
      ignoreFocusOut: true,
      validateInput: (value) => explain(() => validateRevision(value)),
    }),
  pickVariant: async (listing, recommended) => {
    const items = listing.variants
      .map((variant) => ({
        label: variant.name,
        description: `${formatBytes(variant.totalBytes)}${variant.name === recommended ? ' · recommended' : ''}`,
        detail: variant.files.map((f) => f.path).join(', '),
        variant,
      }))
      .sort((a, b) => Number(b.variant.name === recommended) - Number(a.variant.name === recommended));
    const picked = await vscode.window.showQuickPick(items, {
      title: `Wisp: Download Model (3/3) — ${listing.ref.repo}`,
      placeHolder: 'Which variant to download',
    });
    return picked?.variant;
  },
  offerSwitch: async (folder) => {
    const use = 'Use This Model';
    return (
      (await vscode.window.showInformationMessage(`Wisp downloaded ${folder.dir} (${folder.variant}).`, use)) === use
    );
  },
};

export interface DownloadModelDeps extends ModelCommandDeps {
  endpoint: HubEndpoint;
}

// Two downloads of one model would write the same partial files.
const inProgress = new Set<string>();

/** Returns the downloaded model's folder, or undefined when the user backed out or it failed (and was told why). */
export async function downloadModelCommand(
  deps: DownloadModelDeps,
  prompts: DownloadPrompts = downloadPrompts,
  suggestedRepo?: string,
): Promise<string | undefined> {
  const repo = await prompts.askRepoId(suggestedRepo);
  if (!repo) return undefined;
  const revision = await prompts.askRevision();
  if (revision === undefined) return undefined;
  try {
    const listing = await withNotification(`Wisp: listing the files of ${repo}`, (signal) =>
      listModelVariants(repo, revision, deps.endpoint, signal),
    );
    const variant = await prompts.pickVariant(
      listing,
      listing.ref.repo === RECOMMENDED_MODEL.repo ? RECOMMENDED_MODEL.variant : undefined,
    );
    if (!variant) return undefined;
    const key = modelFolderName(listing.ref);
    if (inProgress.has(key)) {
      void vscode.window.showWarningMessage(`Wisp is already downloading ${repo}.`);
      return undefined;
    }
    inProgress.add(key);
    let folder: ModelFolder;
    try {
      deps.log(
        `downloading ${variant.name} of ${repo}${listing.ref.revision ? `@${listing.ref.revision}` : ''} (${formatBytes(variant.totalBytes)})`,
      );
      folder = await withNotification(`Wisp: downloading ${repo} ${variant.name}`, (signal, progress) => {
        let shown = 0;
        let shownFile = '';
        return downloadModel({
          storageDir: deps.storageDir,
          listing,
          variant,
          endpoint: deps.endpoint,
          signal,
          onProgress: ({ file, doneBytes, totalBytes }) => {
            const percent = totalBytes ? (100 * doneBytes) / totalBytes : 100;
            // A gigabyte arrives in tens of thousands of chunks: update the notification every half percent.
            if (file === shownFile && Math.abs(percent - shown) < 0.5 && doneBytes < totalBytes) return;
            progress.report({
              increment: percent - shown,
              message: `${file}: ${formatBytes(doneBytes)} of ${formatBytes(totalBytes)}`,
            });
            shown = percent;
            shownFile = file;
          },
        });
      });
    } finally {
      inProgress.delete(key);
    }
    deps.log(`downloaded ${folder.dir}`);
    if (await prompts.offerSwitch(folder)) await switchModel(folder.dir, deps);
    return folder.dir;
  } catch (err) {
    if (err instanceof DownloadCancelledError) {
      deps.log(`download of ${repo} cancelled`);
      void vscode.window.showInformationMessage('Wisp: download cancelled; nothing was kept.');
      return undefined;
    }
    deps.log(`download of ${repo} failed: ${(err as Error).message}`);
    void vscode.window.showErrorMessage(`Wisp could not download ${repo}: ${(err as Error).message}`);
    return undefined;
  }
}

/** A cancellable progress notification whose Cancel button aborts `work`. */
function withNotification<T>(
  title: string,
  work: (signal: AbortSignal, progress: vscode.Progress<{ message?: string; increment?: number }>) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return work(abort.signal, progress);
    },
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
