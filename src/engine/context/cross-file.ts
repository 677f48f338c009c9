// Cross-file context for models trained on whole repositories (Qwen2.5-Coder's `<|file_sep|>`,
// StarCoder2's `<file_sep>`): a few chunks of other open files that look like the code around the
// cursor are put before the fill-in-the-middle prompt, each under its file's path, as the model saw
// files of one repository in training:
//
//   <repo_name>name\n <file_sep>a.py\n chunk … <file_sep>current/path.py\n <fim_prefix>…
//
// Chunks are ranked by the Jaccard similarity of their identifiers to the lines just above the
// cursor (Copilot's "neighboring tabs" idea). The query leaves out the line being typed, so the
// choice, and with it the start of the prompt the KV cache matches, stays put while the user types
// within a line.

export interface RepoTokens {
  fileSep: number;
  repoName: number | undefined;
}

/** The file being edited, as a repository header names it. */
export interface CrossFileTarget {
  /** Workspace-relative path. */
  path: string;
  /** The workspace folder's name. */
  repoName: string;
}

export interface CrossFileSource {
  path: string;
  text: string;
}

export interface Chunk {
  path: string;
  text: string;
  score: number;
}

export interface ChunkOptions {
  /** Lines per chunk; chunks start every half of this. */
  chunkLines: number;
  /** Lines above the cursor's line that make the query. */
  queryLines: number;
  maxChunks: number;
  /** Chunks scoring below this are not used. */
  minScore: number;
}

export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { chunkLines: 12, queryLines: 12, maxChunks: 3, minScore: 0.15 };

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/g;

function identifiers(text: string): Set<string> {
  return new Set(text.match(IDENTIFIER) ?? []);
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}

/** The lines above the cursor's line: what the chunks are compared with. */
export function queryText(prefix: string, queryLines: number): string {
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const lines = prefix.slice(0, lineStart).split('\n');
  return lines.slice(Math.max(0, lines.length - 1 - queryLines)).join('\n');
}

/** The best non-overlapping chunks of the sources for a query, best last (nearest the cursor). */
export function similarChunks(
  sources: readonly CrossFileSource[],
  query: string,
  options: ChunkOptions = DEFAULT_CHUNK_OPTIONS,
): Chunk[] {
  const wanted = identifiers(query);
  if (wanted.size === 0) return [];
  const candidates: Array<Chunk & { file: number; line: number }> = [];
  const stride = Math.max(1, Math.floor(options.chunkLines / 2));
  sources.forEach((source, file) => {
    const lines = source.text.split('\n');
    for (let line = 0; line < lines.length; line += stride) {
      const text = lines.slice(line, line + options.chunkLines).join('\n');
      const score = jaccard(wanted, identifiers(text));
      if (score >= options.minScore) candidates.push({ path: source.path, text, score, file, line });
      if (line + options.chunkLines >= lines.length) break;
    }
  });
  candidates.sort((a, b) => b.score - a.score || a.file - b.file || a.line - b.line);
  const chosen: typeof candidates = [];
  for (const c of candidates) {
    if (chosen.length >= options.maxChunks) break;
    const overlaps = chosen.some((o) => o.file === c.file && Math.abs(o.line - c.line) < options.chunkLines);
    if (!overlaps) chosen.push(c);
  }
  return chosen.reverse().map(({ path, text, score }) => ({ path, text, score }));
}

/**
 * Token ids of the repository header: the repository's name, the chunks that fit in `budget`
 * tokens (the best are kept first), and the current file's path. Empty when no chunk fits.
 */
export function crossFileHeader(
  encode: (text: string) => number[],
  repo: RepoTokens,
  chunks: readonly Chunk[],
  currentPath: string,
  repoName: string,
  budget: number,
): number[] {
  const head = repo.repoName !== undefined ? [repo.repoName, ...encode(`${repoName}\n`)] : [];
  const tail = [repo.fileSep, ...encode(`${currentPath}\n`)];
  let room = budget - head.length - tail.length;
  const parts: number[][] = [];
  for (let i = chunks.length - 1; i >= 0; i--) {
    const c = chunks[i];
    const ids = [repo.fileSep, ...encode(`${c.path}\n${c.text.endsWith('\n') ? c.text : `${c.text}\n`}`)];
    if (ids.length > room) continue;
    room -= ids.length;
    parts.unshift(ids);
  }
  if (parts.length === 0) return [];
  return [...head, ...parts.flat(), ...tail];
}
