// Shared by the extension-host suites (bundled into each *.test.js by esbuild).
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'wisp-dev.wisp';

/** What src/extension.ts returns from activate(). */
export interface WispApi {
  provider: vscode.InlineCompletionItemProvider;
  state(): { status: string; message?: string; info?: { variant: string } };
  whenReady(): Promise<void>;
}

export function extension(): vscode.Extension<WispApi> {
  const ext = vscode.extensions.getExtension<WispApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext;
}

export async function api(): Promise<WispApi> {
  const exported = await extension().activate();
  assert.ok(
    exported && exported.provider && typeof exported.state === 'function',
    'activate() did not return the { provider, state, whenReady } API',
  );
  return exported;
}

/** The model folder the harness configured (absolute), from the machine settings. */
export function configuredModel(): string {
  const model = vscode.workspace.getConfiguration('wisp').get<string>('model') ?? '';
  assert.ok(
    path.isAbsolute(model),
    `the harness should set wisp.model to an absolute folder, got ${JSON.stringify(model)}`,
  );
  return model;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Sets (or with `undefined` removes) a user setting and waits until VS Code sees it. */
export async function setSetting(key: string, value: unknown): Promise<void> {
  const config = vscode.workspace.getConfiguration('wisp');
  await config.update(key, value, vscode.ConfigurationTarget.Global);
  // globalValue rather than get(): get() gives the default once a value is removed.
  await waitFor(
    `wisp.${key} = ${JSON.stringify(value)}`,
    () => JSON.stringify(vscode.workspace.getConfiguration('wisp').inspect(key)?.globalValue) === JSON.stringify(value),
    10_000,
  );
}

/**
 * Sets user settings for a suite and returns what puts the previous values back: the harness's
 * own (run-suites.js: time budget, device, context cache), not the defaults.
 */
export async function changeSettings(values: Record<string, unknown>): Promise<() => Promise<void>> {
  const config = vscode.workspace.getConfiguration('wisp');
  const previous = Object.keys(values).map((key) => [key, config.inspect(key)?.globalValue] as const);
  for (const [key, value] of Object.entries(values)) await setSetting(key, value);
  return async () => {
    for (const [key, value] of previous) await setSetting(key, value);
  };
}

/** The workspace copy the harness opened. */
export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests expect a workspace folder (test/workspace)');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** The position just after the first occurrence of `marker` in the document. */
export function positionAfter(doc: vscode.TextDocument, marker: string): vscode.Position {
  const at = doc.getText().indexOf(marker);
  assert.ok(at >= 0, `${JSON.stringify(marker)} not found in ${doc.uri.fsPath}`);
  return doc.positionAt(at + marker.length);
}

/** Asks the provider directly, as the editor would on an explicit trigger. */
export async function complete(
  provider: vscode.InlineCompletionItemProvider,
  doc: vscode.TextDocument,
  position: vscode.Position,
  token = new vscode.CancellationTokenSource().token,
): Promise<vscode.InlineCompletionItem[]> {
  const context: vscode.InlineCompletionContext = {
    triggerKind: vscode.InlineCompletionTriggerKind.Invoke,
    selectedCompletionInfo: undefined,
  };
  const result = await provider.provideInlineCompletionItems(doc, position, context, token);
  if (!result) return [];
  return Array.isArray(result) ? result : result.items;
}

export function insertText(item: vscode.InlineCompletionItem): string {
  return typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
}

/** The model bundled with the extension (absent from a checkout that has not got it). */
export function bundledModel(): string | undefined {
  const dir = path.join(extension().extensionPath, 'models', 'wisp-code-small');
  return fs.existsSync(path.join(dir, 'config.json')) ? dir : undefined;
}

/** Loads the model in `dir` through wisp.model; the returned function loads the configured one again. */
export async function switchModel(dir: string): Promise<() => Promise<void>> {
  const wisp = await api();
  const loaded = (modelDir: string) =>
    waitFor(`the engine to load ${modelDir}`, () => {
      const state = wisp.state() as { status: string; info?: { modelDir?: string } };
      return state.status === 'ready' && state.info?.modelDir === modelDir;
    });
  const original = configuredModel();
  await setSetting('model', dir);
  await loaded(dir);
  return async () => {
    await setSetting('model', original);
    await loaded(original);
  };
}

/** `node dist/cli.js complete` on the same prefix and suffix: what the engine alone produces. */
export async function cliComplete(prefix: string, suffix: string, args: string[] = []): Promise<string> {
  return (await runCli(prefix, suffix, args)).stdout;
}

/** The engine's statistics for the same request as cliComplete's (`--stats`). */
export async function cliStats(prefix: string, suffix: string, args: string[] = []): Promise<Record<string, unknown>> {
  const { stderr } = await runCli(prefix, suffix, [...args, '--stats']);
  return JSON.parse(stderr.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function runCli(prefix: string, suffix: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-cli-'));
  try {
    const prefixFile = path.join(dir, 'prefix.txt');
    const suffixFile = path.join(dir, 'suffix.txt');
    fs.writeFileSync(prefixFile, prefix);
    fs.writeFileSync(suffixFile, suffix);
    const cli = path.join(extension().extensionPath, 'dist', 'cli.js');
    return await new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [
          cli,
          'complete',
          '--model',
          configuredModel(),
          '--prefix-file',
          prefixFile,
          // The suites run with the context cache off (run-suites.js).
          '--suffix-file',
          suffixFile,
          '--temperature',
          '0',
          '--context-cache',
          '0',
          // The harness shows every suggestion (run-suites.js).
          '--min-confidence',
          '0',
          ...args,
        ],
        // The extension host's own node: ELECTRON_RUN_AS_NODE makes that work under desktop VS Code too.
        { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 60_000, maxBuffer: 1 << 20 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`cli.js complete failed: ${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
      );
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
