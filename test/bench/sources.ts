// The source files whose typing is replayed. Permissively licensed code that is on every machine
// that can build Wisp: TypeScript and JavaScript from packages in node_modules (MIT), Python from
// the system's standard library (PSF licence). A file that is missing is skipped with a note.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SourceSpec {
  /** Relative to the repository root, or absolute. */
  file: string;
  language: string;
  license: string;
  /** Where typing starts, as a share of the file (snapped to the next line start). */
  at: number;
}

export const SOURCES: SourceSpec[] = [
  {
    file: 'node_modules/onnxruntime-common/lib/tensor-impl.ts',
    language: 'typescript',
    license: 'MIT (onnxruntime-common 1.30.0)',
    at: 0.45,
  },
  {
    file: '/usr/lib/python3.11/textwrap.py',
    language: 'python',
    license: 'PSF-2.0 (CPython 3.11 standard library)',
    at: 0.5,
  },
  { file: 'node_modules/mocha/lib/runner.js', language: 'javascript', license: 'MIT (mocha 12.0.3)', at: 0.4 },
];

export interface TypingSegment {
  spec: SourceSpec;
  path: string;
  text: string;
  /** Offset where typing starts; the typed characters are text[start, start + length). */
  start: number;
  length: number;
}

/** A segment of `keys` characters starting at a line start, ending where a line ends if one is near. */
export function typingSegment(root: string, spec: SourceSpec, keys: number): TypingSegment | undefined {
  const file = path.isAbsolute(spec.file) ? spec.file : path.join(root, spec.file);
  if (!fs.existsSync(file)) return undefined;
  const text = fs.readFileSync(file, 'utf8').replace(/\r\n/g, '\n');
  let start = text.indexOf('\n', Math.floor(text.length * spec.at)) + 1;
  // skip blank lines so the first keystroke is code
  while (start < text.length && text[start] === '\n') start++;
  const length = Math.min(keys, text.length - start);
  return { spec, path: file, text, start, length };
}
