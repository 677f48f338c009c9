// Where the `wisp.model` setting points: a bundled model id (a folder under the extension's
// models/) or an absolute folder path.
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';

export function bundledModelsDir(extensionRoot: string): string {
  return path.join(extensionRoot, 'models');
}

export function listBundledModels(extensionRoot: string): string[] {
  try {
    return fs
      .readdirSync(bundledModelsDir(extensionRoot), { withFileTypes: true })
      .filter(
        (d) => d.isDirectory() && fs.existsSync(path.join(bundledModelsDir(extensionRoot), d.name, 'config.json')),
      )
      .map((d) => d.name);
  } catch {
    return [];
  }
}

export function resolveModelDir(setting: string, extensionRoot: string): string {
  const value = setting.startsWith('~') ? path.join(os.homedir(), setting.slice(1)) : setting;
  if (path.isAbsolute(value)) return value;
  if (/^[\w.-]+$/.test(value)) return path.join(bundledModelsDir(extensionRoot), value);
  return path.resolve(value);
}
