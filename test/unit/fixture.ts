// Paths of the committed fixtures. Tests run bundled from out/, at various depths, so the repository
// root is found by walking up to package.json rather than by a fixed relative path.
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no repository root above ${start}`);
  }
}

export const REPO_ROOT = findRepoRoot(__dirname);
export const TINY_MODEL = path.join(REPO_ROOT, 'test', 'fixtures', 'tiny-gpt');
export const DATA_DIR = path.join(REPO_ROOT, 'test', 'unit', 'data');
