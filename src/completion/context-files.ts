// Which other files the engine draws on besides the one being edited, most relevant first: the
// files in visible editors, then the other open documents and the files edited this session (kept
// after they close), by how recently they were edited or looked at. The engine indexes them into
// its context cache and, for models with repository tokens, takes similar chunks from them
// (engine/related-context.ts, engine/cross-file.ts). A file wisp.exclude names is never read: it is
// neither indexed nor kept. No `vscode` import: context-files-watcher.ts feeds it the editor's state.
import type { ContextFile } from '../engine/process/protocol';
import { excludingGlob } from './excluded-files';

export interface OpenDocument {
  key: string;
  /** Workspace-relative path. */
  path: string;
  /** Absolute path of a file on disk (wisp.exclude matches either). */
  absolutePath?: string;
  version: number;
  /** The start of the text (read only when the version changed). */
  text: () => string;
}

export interface EditorState {
  documents: readonly OpenDocument[];
  visibleKeys: ReadonlySet<string>;
  /** The document being edited: its text is the prompt itself. */
  activeKey: string | undefined;
  /** wisp.exclude's globs. */
  exclude: readonly string[];
}

export interface ContextFileLimits {
  maxFiles: number;
  /** Closed files kept because they were edited. */
  maxClosedEdited: number;
}

export const DEFAULT_CONTEXT_FILE_LIMITS: ContextFileLimits = { maxFiles: 8, maxClosedEdited: 4 };

/** Cache weights: the prompt's n-grams count 1. */
export const VISIBLE_WEIGHT = 0.5;
export const BACKGROUND_WEIGHT = 0.25;

interface Entry {
  path: string;
  absolutePath?: string;
  /** The editor's version of the document (restarts when a document is opened again). */
  docVersion: number;
  /** This tracker's version of the text, sent to the engine: it never repeats for another text. */
  version: number;
  text: string;
  /** When it was last edited or active (a counter, so ties never happen). */
  touched: number;
  edited: boolean;
  open: boolean;
  visible: boolean;
}

export class ContextFileTracker {
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  private versions = 0;

  constructor(private readonly limits: ContextFileLimits = DEFAULT_CONTEXT_FILE_LIMITS) {}

  /** Take the editor's current state; returns the ranked files for the engine. */
  sync(state: EditorState): ContextFile[] {
    const tick = ++this.clock;
    const openKeys = new Set<string>();
    for (const doc of state.documents) {
      if (excludingGlob({ relative: doc.path, absolute: doc.absolutePath }, state.exclude) !== undefined) {
        // Excluded now, perhaps not when it was read: forget what was read.
        this.entries.delete(doc.key);
        continue;
      }
      openKeys.add(doc.key);
      const entry = this.entries.get(doc.key);
      const visible = state.visibleKeys.has(doc.key);
      if (!entry) {
        const text = doc.text();
        this.entries.set(doc.key, {
          path: doc.path,
          absolutePath: doc.absolutePath,
          docVersion: doc.version,
          version: ++this.versions,
          text,
          touched: doc.key === state.activeKey ? tick : 0,
          edited: false,
          open: true,
          visible,
        });
        continue;
      }
      if (entry.docVersion !== doc.version || !entry.open) {
        const text = doc.text();
        if (text !== entry.text) {
          entry.text = text;
          entry.version = ++this.versions;
          if (entry.open) {
            entry.edited = true;
            entry.touched = tick;
          }
        }
        entry.docVersion = doc.version;
      }
      if (doc.key === state.activeKey) entry.touched = tick;
      entry.path = doc.path;
      entry.absolutePath = doc.absolutePath;
      entry.open = true;
      entry.visible = visible;
    }
    for (const [key, entry] of this.entries) {
      if (openKeys.has(key)) continue;
      entry.open = false;
      entry.visible = false;
      const excluded = excludingGlob({ relative: entry.path, absolute: entry.absolutePath }, state.exclude);
      if (!entry.edited || excluded !== undefined) this.entries.delete(key);
    }
    const closedEdited = [...this.entries].filter(([, e]) => !e.open).sort((a, b) => b[1].touched - a[1].touched);
    for (const [key] of closedEdited.slice(this.limits.maxClosedEdited)) this.entries.delete(key);
    return this.ranked(state.activeKey);
  }

  private ranked(activeKey: string | undefined): ContextFile[] {
    return [...this.entries]
      .filter(([key]) => key !== activeKey)
      .sort(
        (a, b) =>
          Number(b[1].visible) - Number(a[1].visible) ||
          b[1].touched - a[1].touched ||
          a[1].path.localeCompare(b[1].path),
      )
      .slice(0, this.limits.maxFiles)
      .map(([key, e]) => ({
        key,
        version: e.version,
        path: e.path,
        weight: e.visible ? VISIBLE_WEIGHT : BACKGROUND_WEIGHT,
        text: e.text,
      }));
  }
}
