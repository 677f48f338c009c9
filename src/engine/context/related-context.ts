// The files besides the one being edited that the engine draws on: the other open editors and the
// files edited recently (the host picks and ranks them: completion/context-files.ts). Each is
// tokenized once per version and its n-grams go into the context cache at a weight below the
// prompt's. The work is cut into slices of a few milliseconds that the engine process runs only
// while no completion is running or waiting, so a large file never delays a suggestion. Memory is
// bounded by a token budget over all files, most relevant first.
import type { NgramIndex } from './context-cache';
import type { CrossFileSource } from './cross-file';
import { MAX_CONTEXT_FILE_CHARS } from '../process/protocol';

export interface ContextFile {
  /** The document's URI, or any string unique to it. */
  key: string;
  /** Changes whenever the text does. */
  version: number;
  /** Workspace-relative path (what a repository-level prompt names the file by). */
  path: string;
  /** Weight of its n-grams in the cache, 0–1 (the prompt's are 1). */
  weight: number;
  /** The text, when the engine may not hold this version yet. */
  text?: string;
}

export interface RelatedContextLimits {
  /** Tokens held for all files together. */
  budgetTokens: number;
  /** Characters of a file that are read (its start). */
  maxFileChars: number;
  /** Characters tokenized in one slice of work. */
  sliceChars: number;
}

export const DEFAULT_RELATED_LIMITS: RelatedContextLimits = {
  budgetTokens: 24_576,
  maxFileChars: MAX_CONTEXT_FILE_CHARS,
  sliceChars: 1024,
};

interface HeldFile {
  version: number;
  path: string;
  weight: number;
  text: string;
  /** Characters of `text` already tokenized and indexed. */
  indexedChars: number;
  /** Whether the token budget stopped its indexing short. */
  cutShort: boolean;
}

export class RelatedContext {
  private files = new Map<string, HeldFile>();

  constructor(
    private readonly index: NgramIndex,
    private readonly encode: (text: string) => number[],
    private readonly limits: RelatedContextLimits = DEFAULT_RELATED_LIMITS,
  ) {}

  /**
   * Take the host's list, most relevant first. Files missing from it are dropped; a file whose
   * version or weight changed is indexed again. A listed file without text that the engine does
   * not hold (e.g. after an engine restart) is skipped: the host sends full texts then.
   */
  set(list: readonly ContextFile[]): void {
    const next = new Map<string, HeldFile>();
    for (const file of list) {
      const held = this.files.get(file.key);
      if (held && held.version === file.version && held.weight === file.weight) {
        held.path = file.path;
        next.set(file.key, held);
        continue;
      }
      const text = file.text ?? (held?.version === file.version ? held.text : undefined);
      if (held) this.index.removeDocument(file.key);
      if (text === undefined) continue;
      next.set(file.key, {
        version: file.version,
        path: file.path,
        weight: file.weight,
        text: text.slice(0, this.limits.maxFileChars),
        indexedChars: 0,
        cutShort: false,
      });
    }
    for (const key of this.files.keys()) if (!next.has(key)) this.index.removeDocument(key);
    this.files = next;
  }

  /** Whether some file still waits to be indexed within the budget. */
  get pending(): boolean {
    return this.nextFile() !== undefined;
  }

  /** Tokenize and index one slice of the most relevant file still waiting. Returns whether work remains. */
  step(): boolean {
    const next = this.nextFile();
    if (!next) return false;
    const [key, file] = next;
    const end = sliceEnd(file.text, file.indexedChars, this.limits.sliceChars);
    const ids = this.encode(file.text.slice(file.indexedChars, end));
    const room = this.limits.budgetTokens - this.index.documentTokens;
    this.index.extendDocument(key, ids.length > room ? ids.slice(0, room) : ids, file.weight);
    file.indexedChars = end;
    if (ids.length >= room) file.cutShort = true;
    return this.pending;
  }

  /** Index everything that fits (tests and command-line tools; the engine process uses `step`). */
  indexAll(): void {
    while (this.step());
  }

  /** The held files, most relevant first, for cross-file prompts. */
  texts(): CrossFileSource[] {
    return [...this.files.values()].map((f) => ({ path: f.path, text: f.text }));
  }

  get fileCount(): number {
    return this.files.size;
  }

  private nextFile(): [string, HeldFile] | undefined {
    if (this.index.documentTokens >= this.limits.budgetTokens) return undefined;
    for (const entry of this.files) {
      const file = entry[1];
      if (!file.cutShort && file.indexedChars < file.text.length) return entry;
    }
    return undefined;
  }
}

/** End of a slice: at most `sliceChars` past `start`, after a line break when there is one. */
function sliceEnd(text: string, start: number, sliceChars: number): number {
  const limit = start + sliceChars;
  if (limit >= text.length) return text.length;
  const newline = text.lastIndexOf('\n', limit - 1);
  return newline >= start ? newline + 1 : limit;
}
