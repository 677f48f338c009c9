// Wires Wisp together: settings, the engine process, the inline provider, commands, status bar.
import * as vscode from 'vscode';
import { DownloadPrompts, downloadModelCommand } from './commands/download-model';
import { generateCode } from './commands/generate-code';
import { SelectModelPrompts, selectModel } from './commands/select-model';
import { watchContextFiles } from './completion/context-files-watcher';
import { ShownSuggestion, WispInlineProvider } from './completion/provider';
import { EngineClient, EngineState } from './engine/process/engine-client';
import { resolveModelDir } from './shared/model-location';
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
    downloadModel(prompts: DownloadPrompts, hubUrl: string): Promise<string | undefined>;
  };
}

const ENABLED_KEY = 'wisp.inlineEnabled';

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
  const engine = new EngineClient({ enginePath: context.asAbsolutePath('dist/engine.js'), log });
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
    const modelDir = resolveModelDir(settings.model, context.extensionPath);
    const wanted = `${modelDir}\n${settings.device}`;
    if (onlyIfChanged && wanted === loaded) return loading;
    loaded = wanted;
    log(`loading model ${modelDir} (device ${settings.device})`);
    loading = engine.load({ modelDir, device: settings.device }).then(
      (info) => {
        lastLoadError = undefined;
        log(
          `model ready: ${info.modelName} ${info.variant} on ${info.providers.join('+')}, ${info.numLayers} layers, vocab ${info.vocabSize}, context ${info.maxPositions}, FIM ${info.fim}`,
        );
        if (info.fallbackReason) log(info.fallbackReason);
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
    vscode.languages.registerInlineCompletionItemProvider(COMPLETION_SELECTOR, provider),
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
    vscode.commands.registerCommand('wisp.downloadModel', () => downloadModelCommand({ ...modelDeps, endpoint: {} })),
    { dispose: () => tokenView?.dispose() },
    vscode.commands.registerCommand('wisp.restartEngine', () => {
      lastLoadError = undefined;
      return loadModel();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('wisp')) provider.forgetSuggestions();
      if (e.affectsConfiguration('wisp.model') || e.affectsConfiguration('wisp.device')) void loadModel(true);
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
      downloadModel: (prompts, hubUrl) => downloadModelCommand({ ...modelDeps, endpoint: { hubUrl } }, prompts),
    },
  };
}
