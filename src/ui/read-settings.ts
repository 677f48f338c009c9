// Reading Wisp's settings from VS Code. Which settings exist, their defaults and which are
// machine-only are all stated in settings.ts; this file only knows how to ask VS Code. The
// machine-only ones (what runs, where code is sent) are machine-scoped in package.json and are also
// read here from user/default values only, so a workspace's .vscode/settings.json can never point
// Wisp at a model or a server of its choosing.
import * as vscode from 'vscode';
import { DEFAULT_SETTINGS, MACHINE_ONLY_SETTINGS, WispSettings, normalizeSettings } from '../settings';

function userValue<T>(config: vscode.WorkspaceConfiguration, key: string): T | undefined {
  const inspected = config.inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue;
}

export function readSettings(scope?: vscode.ConfigurationScope): WispSettings {
  const config = vscode.workspace.getConfiguration('wisp', scope);
  const raw: Partial<Record<keyof WispSettings, unknown>> = {};
  for (const key of Object.keys(DEFAULT_SETTINGS) as Array<keyof WispSettings>) {
    raw[key] = MACHINE_ONLY_SETTINGS.has(key) ? userValue(config, key) : config.get(key);
  }
  return normalizeSettings(raw);
}
