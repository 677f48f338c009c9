// Reading Wisp's settings from VS Code. The settings that choose what runs (model, device) are
// machine-scoped in package.json; they are also read here from user/default values only, so a
// workspace's .vscode/settings.json can never point Wisp at a model of its choosing.
import * as vscode from 'vscode';
import { WispSettings, normalizeSettings } from '../settings';

const MACHINE_ONLY = new Set(['model', 'device']);

function userValue<T>(config: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const inspected = config.inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue;
}

export function readSettings(scope?: vscode.ConfigurationScope): WispSettings {
  const config = vscode.workspace.getConfiguration('wisp', scope);
  const keys: Array<keyof WispSettings> = [
    'temperature', 'topK', 'topP', 'seed', 'maxNewTokens', 'generateMaxNewTokens',
    'debounceMs', 'contextTokens', 'timeBudgetMs', 'contextCache', 'contextCacheWeight', 'contextFromOtherFiles', 'model', 'device', 'enable',
  ];
  const raw: Partial<Record<keyof WispSettings, unknown>> = {};
  for (const key of keys) raw[key] = MACHINE_ONLY.has(key) ? userValue(config, key) : config.get(key);
  return normalizeSettings(raw);
}
