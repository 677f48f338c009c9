// Stopping while decoding (shared/scope-rules.ts through stop-rules.ts `endOfText`) must not change
// what is shown: every golden case of post-processing is generated again one character at a time,
// as a decoder would stream it, with the early stop on and off, and the filters must show the same
// text from both, while the early stop generates fewer characters.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { editorContext } from '../../../src/completion/inline-request';
import { DocumentStyle, FilterContext, runFilters } from '../../../src/completion/postprocess';
import type { MultilineMode } from '../../../src/settings';
import { repeatsFollowingLine, ruleStop, scopeEndLine, unmatchedCloser } from '../../../src/shared/scope-rules';
import { endOfText } from '../../../src/shared/stop-rules';
import { DATA_DIR } from '../fixture';

interface GoldenCase {
  name: string;
  document: string;
  raw: string;
  style?: DocumentStyle;
  multiline?: MultilineMode;
}

const CURSOR = '█';
const dir = path.join(DATA_DIR, 'postprocess');

function contextOf(c: GoldenCase): FilterContext {
  const at = c.document.indexOf(CURSOR);
  const ctx = editorContext(c.document.slice(0, at), c.document.slice(at + CURSOR.length));
  return { ...ctx, style: c.style ?? { eol: '\n', insertSpaces: true, tabSize: 4 }, multiline: c.multiline ?? 'auto' };
}

/** The text a generation streaming `raw` one character at a time ends with, and how many characters it took. */
function streamed(raw: string, ctx: FilterContext | undefined): { text: string; steps: number } {
  for (let n = 1; n <= raw.length; n++) {
    const end = endOfText(raw.slice(0, n), [], undefined, ctx);
    if (end) return { text: end.text, steps: n };
  }
  return { text: raw, steps: raw.length };
}

const cases: Array<GoldenCase & { file: string }> = fs
  .readdirSync(dir)
  .flatMap((file) =>
    (JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as GoldenCase[]).map((c) => ({ ...c, file })),
  );

describe('stopping while decoding, over the golden cases of post-processing', () => {
  it('shows the same text with the early stop on and off, and generates fewer characters', () => {
    let stepsOn = 0;
    let stepsOff = 0;
    const stoppedEarly = new Set<string>();
    for (const c of cases) {
      const ctx = contextOf(c);
      const off = streamed(c.raw, undefined);
      const on = streamed(c.raw, ctx);
      assert.equal(runFilters(on.text, ctx).text, runFilters(off.text, ctx).text, `${c.file}: ${c.name}`);
      stepsOn += on.steps;
      stepsOff += off.steps;
      if (on.steps < off.steps) stoppedEarly.add(c.file);
    }
    assert.ok(stepsOn < stepsOff, `${stepsOn} characters with the early stop, ${stepsOff} without`);
    for (const file of ['scope-end.json', 'unmatched-closer.json', 'repeats-following-text.json'])
      assert.ok(stoppedEarly.has(file), `a case of ${file} stops early`);
  });
});

describe('a first line the filters would drop as a repeat of what follows', () => {
  it('is found only where the filters show nothing, over the golden cases', () => {
    let found = 0;
    for (const c of cases) {
      const ctx = contextOf(c);
      if (!repeatsFollowingLine(c.raw, ctx)) continue;
      found++;
      assert.equal(runFilters(c.raw, ctx).text, undefined, `${c.file}: ${c.name}`);
    }
    assert.ok(found >= 2, `${found} golden cases repeat what follows`);
  });

  it('covers the rest of the line and the next line, not a blank text', () => {
    const ctx = editorContext('    ', 'return x\n    y = 1\n');
    assert.ok(repeatsFollowingLine('return x\n', ctx));
    assert.ok(repeatsFollowingLine('y = 1', { ...ctx, lineSuffix: '' }));
    assert.equal(repeatsFollowingLine('  \n', ctx), false);
    assert.equal(repeatsFollowingLine('return y', ctx), false);
  });
});

describe('the scope rules', () => {
  const ctx = { linePrefix: '    ', lineSuffix: '', nextLines: ['    return total', '}'] };

  it('find the first dedented line after the first, skipping blank lines', () => {
    assert.equal(scopeEndLine(['x = 1', '', '  y', 'z'], ctx), 2);
    assert.equal(scopeEndLine(['x = 1', '    y'], ctx), -1);
    // The first line continues the cursor's: its indentation says nothing.
    assert.equal(scopeEndLine(['x'], { ...ctx, linePrefix: '' }), -1);
  });

  it('find the first closer without an opener, outside strings', () => {
    assert.equal(unmatchedCloser('a(b)) + c'), 4);
    assert.equal(unmatchedCloser('")" + (x)'), -1);
    assert.equal(unmatchedCloser('[(])'), 2);
  });

  it('stop just after the character that fired, and not before it is known', () => {
    // A dedented line is known at its first character; one of spaces only is not yet.
    assert.equal(ruleStop('total += x\n  ', ctx), -1);
    assert.equal(ruleStop('total += x\n}\nfunction f() {', ctx), 'total += x\n}'.length);
    assert.equal(ruleStop('a, b) + 1;\n', ctx), 'a, b)'.length);
    // A first line that is the next line of the document: stop at its line break.
    assert.equal(ruleStop('return total\n    x', ctx), 'return total\n'.length);
    assert.equal(ruleStop('return total', ctx), -1);
  });

  it('do not stop where the kept text would end in a repetition loop the filters cut first', () => {
    assert.equal(ruleStop('((a)a)a)', ctx), -1);
    assert.equal(ruleStop('((a)b)c)', ctx), '((a)b)c)'.length);
  });
});
