// What Generate Code writes around the model's text: the instruction as a comment in the document's
// language, and where the generated code ends. A small model rarely emits its end token at the end
// of a function; left alone it writes the next function, or a page of comment lines, until the
// token budget runs out. The end is decided on whole lines only, so the cut found on a stream never
// moves as more text arrives: the command can stop the engine the moment it fires, and the
// evaluation, which cuts the finished text, gets the same code.

const HASH_COMMENT = new Set([
  'python',
  'shellscript',
  'ruby',
  'perl',
  'r',
  'yaml',
  'toml',
  'dockerfile',
  'makefile',
  'powershell',
  'julia',
  'elixir',
  'coffeescript',
]);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell']);
/** Languages whose blocks end by indentation rather than a closing brace. */
const INDENT_BLOCKS = new Set(['python', 'coffeescript', 'yaml']);
/** Consecutive comment-only lines at the starting indentation that end a generation. */
export const COMMENT_RUN_LINES = 3;

export function commentLine(languageId: string, text: string): string {
  const body = text.replace(/\s+/g, ' ').trim();
  if (HASH_COMMENT.has(languageId)) return `# ${body}`;
  if (DASH_COMMENT.has(languageId)) return `-- ${body}`;
  if (languageId === 'html' || languageId === 'xml' || languageId === 'markdown') return `<!-- ${body} -->`;
  if (languageId === 'css') return `/* ${body} */`;
  return `// ${body}`;
}

export type GenerateStop = 'block-complete' | 'comment-run';

export interface GenerateCut {
  /** Characters of the generated text to keep. */
  end: number;
  reason: GenerateStop;
}

function isCommentOnly(line: string, languageId: string): boolean {
  const t = line.trim();
  if (HASH_COMMENT.has(languageId)) return t.startsWith('#');
  if (DASH_COMMENT.has(languageId)) return t.startsWith('--');
  return t.startsWith('//') || t.startsWith('/*') || t.startsWith('*');
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Net `{`/`}` of a line, skipping string literals and line comments (good enough to find a block's end). */
function braceDelta(line: string): number {
  let delta = 0;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '/' && line[i + 1] === '/') break;
    else if (c === '{') delta++;
    else if (c === '}') delta--;
  }
  return delta;
}

function lastCodeLine(text: string): string {
  return (
    text
      .split('\n')
      .reverse()
      .find((l) => l.trim()) ?? ''
  );
}

/**
 * Where generated code should end, or undefined while it should go on. `before` is the document's
 * text before the cursor, `text` what the model wrote there. The block being written is complete
 * when the text closes the block that the line above the cursor opened (a signature the user
 * wrote), or else the first block the text itself opened: for brace languages when the braces
 * balance again, for indentation languages at the first code line back at the opener's
 * indentation. A run of comment-only lines at the generation's outer indentation ends it too.
 * Only whole lines (up to the last newline) are judged.
 */
export function generateCut(before: string, text: string, languageId: string): GenerateCut | undefined {
  const lines = text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .slice(0, -1);
  const byIndent = INDENT_BLOCKS.has(languageId);
  const above = lastCodeLine(before);
  const opensAbove = byIndent ? /:\s*(#.*)?$/.test(above) : braceDelta(above) > 0;
  let openerIndent = opensAbove && byIndent ? indentOf(above) : undefined;
  let depth = opensAbove && !byIndent ? braceDelta(above) : 0;
  let outerIndent: number | undefined;
  let offset = 0;
  let commentRun = 0;
  let commentRunStart = 0;
  let inTripleQuote = false;
  for (const line of lines) {
    const lineStart = offset;
    offset += line.length + 1;
    // A docstring's lines say nothing of where the code's blocks end.
    const insideString = inTripleQuote;
    if (byIndent && (line.split('"""').length + line.split("'''").length) % 2 === 1) inTripleQuote = !inTripleQuote;
    if (!line.trim() || insideString) continue;
    outerIndent ??= indentOf(line);
    if (isCommentOnly(line, languageId)) {
      if (indentOf(line) > outerIndent) continue;
      if (commentRun++ === 0) commentRunStart = lineStart;
      if (commentRun >= COMMENT_RUN_LINES) return { end: commentRunStart, reason: 'comment-run' };
      continue;
    }
    commentRun = 0;
    if (byIndent) {
      if (openerIndent !== undefined && indentOf(line) <= openerIndent)
        return { end: lineStart, reason: 'block-complete' };
      if (openerIndent === undefined && /:\s*(#.*)?$/.test(line)) openerIndent = indentOf(line);
    } else {
      const wasOpen = depth > 0;
      depth += braceDelta(line);
      // Closing a block the generation did not open (the one around the cursor) is past the end.
      if (!wasOpen && depth < 0) return { end: lineStart, reason: 'block-complete' };
      if (wasOpen && depth <= 0) return { end: offset, reason: 'block-complete' };
    }
  }
  return undefined;
}
