// wisp.exclude: files Wisp never reads. A document matching one of the globs gets no suggestion, no
// Generate Code and no token view, and is never handed to the engine as another file's context, so
// its text is never tokenized. No `vscode` import: callers pass the paths they know.
import { Minimatch } from 'minimatch';

/** A document's names: its workspace-relative path and, for a file on disk, its absolute path. */
export interface DocumentPaths {
  relative?: string;
  absolute?: string;
}

/** Settings are read afresh on every keystroke: compile each list of globs once. */
let compiled: { key: string; matchers: Minimatch[] } | undefined;

function matchers(globs: readonly string[]): Minimatch[] {
  const key = globs.join('\0');
  if (compiled?.key !== key) {
    // `dot`: .env and .ssh are exactly the files this is for.
    const options = { dot: true, nocase: process.platform === 'win32' };
    compiled = { key, matchers: globs.map((g) => new Minimatch(g, options)) };
  }
  return compiled.matchers;
}

/** The first glob that matches the document, or undefined when Wisp may read it. */
export function excludingGlob(paths: DocumentPaths, globs: readonly string[]): string | undefined {
  const names = [paths.relative, paths.absolute].filter((p): p is string => !!p).map((p) => p.replace(/\\/g, '/'));
  if (names.length === 0) return undefined;
  return matchers(globs).find((m) => names.some((name) => m.match(name)))?.pattern;
}
