// Wires Wisp together: settings, the engine process, the inline provider, commands, status bar.
import * as vscode from 'vscode';
import { DownloadPrompts, downloadModelCommand } from './commands/download-model';
import { generateCode } from './commands/generate-code';
import { runTestCompletion } from './commands/run-test-completion';
import { ServerPrompts, useModelServer } from './commands/use-model-server';
import { SelectModelPrompts, selectModel } from './commands/select-model';
import { BackendSwitch } from './backends/backend-switch';
import { watchContextFiles } from './completion/context-files-watcher';
import { ACCEPTED_COMMAND, ShownSuggestion, WispInlineProvider } from './completion/provider';
import { EngineClient, EngineState } from './engine/process/engine-client';
import type { DeviceSpeeds } from './engine/process/protocol';
import { resolveModelDir } from './shared/model-location';
import type { WispSettings } from './settings';
import { readSettings } from './ui/read-settings';
import { StatusBar } from './ui/status-bar';
import { TokenView, TokenViewTestHook } from './ui/token-view';

export interface WispApi {
  provider: vscode.InlineCompletionItemProvider;
  state(): EngineState;
  /** Resolves when the current model load has finished, whether it succeeded or not. */
  whenReady(): Promise<void>;
  /** The open token view, for the real-editor tests. */
  tokenView(): TokenViewTestHook | undefined;
  /** Select Model and Download Model… with scripted answers in place of the pickers, for the real-editor tests. */
  modelCommands: {
    selectModel(prompts: SelectModelPrompts): Promise<string | undefined>;
    downloadModel(prompts: DownloadPrompts, hubUrl: string, suggestedRepo?: string): Promise<string | undefined>;
  };
  /** Use a Model Server… with scripted answers, for the real-editor tests. */
  useModelServer(prompts: ServerPrompts): Promise<Partial<WispSettings> | undefined>;
}

/** `<publisher>.<name>#<walkthrough id>`, as workbench.action.openWalkthrough takes it. */
export const WALKTHROUGH_ID = 'wisp-dev.wisp#wisp.gettingStarted';

const ENABLED_KEY = 'wisp.inlineEnabled';
/** Decode speeds per model, device and onnxruntime version, measured by the engine (device-speed.ts). */
const DEVICE_SPEEDS_KEY = 'wisp.deviceSpeeds';
/** The model server's API key, in VS Code's secret storage: never in settings, never logged. */
const API_KEY_SECRET = 'wisp.server.apiKey';

/** Files on disk, untitled documents and notebook cells; not output panes or settings editors. */
const COMPLETION_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file' },
  { scheme: 'untitled' },
  { scheme: 'vscode-notebook-cell' },
  { scheme: 'vscode-remote' },
];

export function activate(context: vscode.ExtensionContext): WispApi {
  const channel = vscode.window.createOutputChannel('Wisp', { log: true });
  const log = (line: string) => channel.info(line);
  const status = new StatusBar();
  const localEngine = new EngineClient({
    enginePath: context.asAbsolutePath('dist/engine.js'),
    log,
    debug: (line) => channel.debug(line),
  });
  const engine = new BackendSwitch(localEngine, log, () => Promise.resolve(context.secrets.get(API_KEY_SECRET)));
  let enabled = context.globalState.get<boolean>(ENABLED_KEY, true);
  status.setEnabled(enabled);

  let announcedCrash = false;
  engine.onStateChange((state) => {
    status.setEngineState(state);
    if (state.status === 'loading' && state.message?.includes('crashed') && !announcedCrash) {
      announcedCrash = true;
      void vscode.window.showWarningMessage(`Wisp: ${state.message}. You will not be told again this session.`);
    }
    if (state.status === 'disabled') {
      void vscode.window.showErrorMessage(`Wisp: ${state.message}`, 'Restart Engine').then((choice) => {
        if (choice) void vscode.commands.executeCommand('wisp.restartEngine');
      });
    }
  });

  let loading: Promise<void> = Promise.resolve();
  let lastLoadError: string | undefined;
  let loaded: string | undefined;
  /** Loads the model the settings name; `onlyIfChanged` skips a reload of the same model and device. */
  const loadModel = (onlyIfChanged = false) => {
    const settings = readSettings();
    // A model server does the model work: the local engine stays unloaded.
    if (!engine.use(settings)) return (loading = Promise.resolve());
    const modelDir = resolveModelDir(settings.model, context.extensionPath);
    const wanted = `${modelDir}\n${settings.device}`;
    if (onlyIfChanged && wanted === loaded) return loading;
    loaded = wanted;
    log(`loading model ${modelDir} (device ${settings.device})`);
    const deviceSpeeds = context.globalState.get<DeviceSpeeds>(DEVICE_SPEEDS_KEY, {});
    loading = localEngine.load({ modelDir, device: settings.device, deviceSpeeds }).then(
      (info) => {
        lastLoadError = undefined; // the client logs "model ready", after a crash restart too
        if (info.deviceSpeeds) void context.globalState.update(DEVICE_SPEEDS_KEY, info.deviceSpeeds);
        if (info.deviceWarning) channel.warn(info.deviceWarning);
      },
      (err: Error) => {
        log(`model failed to load: ${err.message}`);
        if (err.message !== lastLoadError) {
          lastLoadError = err.message;
          void vscode.window
            .showErrorMessage(`Wisp could not load its model: ${err.message}`, 'Open Settings')
            .then((choice) => {
              if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'wisp.model');
            });
        }
      },
    );
    return loading;
  };

  let tokenView: TokenView | undefined;
  // The suggestion on screen when the view opens is the first one it should shade.
  let lastSuggestion: ShownSuggestion | undefined;
  const showTokenView = () => {
    if (!tokenView) {
      tokenView = new TokenView(
        { engine, settings: () => readSettings(), mediaRoot: vscode.Uri.joinPath(context.extensionUri, 'media'), log },
        () => (tokenView = undefined),
      );
      if (lastSuggestion) tokenView.setSuggestion(lastSuggestion);
    }
    tokenView.reveal();
  };

  const modelDeps = { extensionRoot: context.extensionPath, storageDir: context.globalStorageUri.fsPath, log };

  const provider = new WispInlineProvider({
    engine,
    settings: () => readSettings(),
    enabled: () => enabled,
    log,
    onSpeed: (text) => status.setLastSpeed(text),
    onNoSuggestion: (reason) => status.setLastNoSuggestion(reason),
    startThinking: () => status.startThinking(),
    onSuggestion: (shown) => {
      lastSuggestion = shown;
      tokenView?.setSuggestion(shown);
    },
  });

  context.subscriptions.push(
    channel,
    status,
    { dispose: () => engine.dispose() },
    { dispose: () => localEngine.dispose() },
    vscode.languages.registerInlineCompletionItemProvider(COMPLETION_SELECTOR, provider),
    vscode.commands.registerCommand(ACCEPTED_COMMAND, (documentKey: string, offset: number) =>
      provider.accepted(documentKey, offset),
    ),
    watchContextFiles(engine, () => readSettings()),
    vscode.commands.registerCommand('wisp.generate', () =>
      generateCode({ engine, settings: () => readSettings(), log }),
    ),
    vscode.commands.registerCommand('wisp.toggle', async () => {
      enabled = !enabled;
      await context.globalState.update(ENABLED_KEY, enabled);
      status.setEnabled(enabled);
      void vscode.window.setStatusBarMessage(`Wisp inline completions ${enabled ? 'on' : 'off'}`, 2000);
    }),
    vscode.commands.registerCommand('wisp.showLog', () => channel.show(true)),
    vscode.commands.registerCommand('wisp.showTokenView', showTokenView),
    vscode.commands.registerCommand('wisp.selectModel', () => selectModel(modelDeps)),
    // The public hub: the only network Wisp uses, and only from here.
    // `repo`: the id the walkthrough's Download button proposes (a command-link argument).
    vscode.commands.registerCommand('wisp.downloadModel', (repo?: unknown) =>
      downloadModelCommand({ ...modelDeps, endpoint: {} }, undefined, typeof repo === 'string' ? repo : undefined),
    ),
    vscode.commands.registerCommand('wisp.testCompletion', () =>
      // The backend follows the settings as they are now, even before their change event arrives.
      runTestCompletion({ engine, settings: () => readSettings(), whenReady: () => loadModel(true), log }),
    ),
    vscode.commands.registerCommand('wisp.useModelServer', () => useModelServer(readSettings(), log)),
    vscode.commands.registerCommand('wisp.gettingStarted', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
    ),
    { dispose: () => tokenView?.dispose() },
    vscode.commands.registerCommand('wisp.setServerApiKey', async () => {
      const key = await vscode.window.showInputBox({
        title: 'Wisp: Set Server API Key',
        prompt: 'The bearer token sent to wisp.server.url. Kept in secret storage. Leave empty to remove it.',
        password: true,
        ignoreFocusOut: true,
      });
      if (key === undefined) return;
      if (key.trim()) await context.secrets.store(API_KEY_SECRET, key.trim());
      else await context.secrets.delete(API_KEY_SECRET);
      log(key.trim() ? 'server API key stored in secret storage' : 'server API key removed');
    }),
    vscode.commands.registerCommand('wisp.restartEngine', () => {
      lastLoadError = undefined;
      return loadModel();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('wisp')) provider.forgetSuggestions();
      if (
        e.affectsConfiguration('wisp.model') ||
        e.affectsConfiguration('wisp.device') ||
        e.affectsConfiguration('wisp.backend') ||
        e.affectsConfiguration('wisp.server')
      )
        void loadModel(true);
    }),
  );

  void loadModel();
  return {
    provider,
    state: () => engine.state,
    whenReady: () => loading,
    tokenView: () => tokenView,
    modelCommands: {
      selectModel: (prompts) => selectModel(modelDeps, prompts),
      downloadModel: (prompts, hubUrl, suggestedRepo) =>
        downloadModelCommand({ ...modelDeps, endpoint: { hubUrl } }, prompts, suggestedRepo),
    },
    useModelServer: (prompts) => useModelServer(readSettings(), log, prompts),
  };
}
