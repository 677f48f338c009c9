// Golden cases for post-processing. test/unit/data/postprocess/<filter>.json holds each filter's own
// cases, run through that filter alone; pipeline.json holds cases for the whole list. A case is
// {name, document, raw, expected, style?, multiline?, acted?}: `document` is the text around the
// cursor, with █ where the cursor is; `expected` is '' (a filter's own case) or null (pipeline) when
// the suggestion is dropped; `acted` lists the filters a pipeline case expects to change the text.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { editorContext } from '../../../src/completion/inline-request';
import {
  DocumentStyle,
  FILTERS,
  FilterContext,
  describeAction,
  postprocess,
  runFilters,
} from '../../../src/completion/postprocess';
import type { MultilineMode } from '../../../src/settings';
import { cutLoop, trailingLoop } from '../../../src/shared/repetition';
import { DATA_DIR } from '../fixture';

interface GoldenCase {
  name: string;
  document: string;
  raw: string;
  expected: string | null;
  style?: DocumentStyle;
  multiline?: MultilineMode;
  acted?: string[];
}

const CURSOR = '█';
const DEFAULT_STYLE: DocumentStyle = { eol: '\n', insertSpaces: true, tabSize: 4 };
const dir = path.join(DATA_DIR, 'postprocess');

function contextOf(c: GoldenCase): FilterContext {
  const at = c.document.indexOf(CURSOR);
  assert.ok(at >= 0 && c.document.indexOf(CURSOR, at + 1) < 0, `${c.name}: one cursor marker`);
  const ctx = editorContext(c.document.slice(0, at), c.document.slice(at + CURSOR.length));
  return { ...ctx, style: c.style ?? DEFAULT_STYLE, multiline: c.multiline ?? 'auto' };
}

const load = (file: string): GoldenCase[] => JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));

describe('each filter, on its own golden cases', () => {
  for (const filter of FILTERS) {
    describe(filter.name, () => {
      const cases = load(`${filter.name}.json`);
      it('has cases where it acts and cases where it leaves the text alone', () => {
        assert.ok(cases.some((c) => c.expected !== c.raw));
        assert.ok(cases.some((c) => c.expected === c.raw));
      });
      for (const c of cases) {
        it(c.name, () => {
          const ctx = contextOf(c);
          assert.equal(filter.run(c.raw, ctx), c.expected);
          // Reported exactly when it changes the text.
          const report = runFilters(c.raw, ctx, [filter]);
          assert.deepEqual(
            report.actions.map((a) => a.filter),
            c.expected === c.raw ? [] : [filter.name],
          );
        });
      }
    });
  }

  it('every case file names a filter', () => {
    const names = new Set([...FILTERS.map((f) => `${f.name}.json`), 'pipeline.json']);
    for (const file of fs.readdirSync(dir)) assert.ok(names.has(file), `${file} names no filter`);
  });
});

describe('the whole list, on pipeline.json', () => {
  for (const c of load('pipeline.json')) {
    it(c.name, () => {
      const ctx = contextOf(c);
      const report = runFilters(c.raw, ctx);
      assert.equal(report.text ?? null, c.expected);
      assert.equal(postprocess(c.raw, ctx, ctx.style, ctx.multiline) ?? null, c.expected);
      if (c.acted) {
        assert.deepEqual(
          report.actions.map((a) => a.filter),
          c.acted,
        );
      }
      if (c.expected === null && c.raw.trim() !== '') assert.ok(report.droppedBy, 'says which filter dropped it');
    });
  }
});

describe('what the log says a filter did', () => {
  it('names the filter and what it removed, dropped or rewrote', () => {
    assert.equal(
      describeAction({ filter: 'scope-end', before: 'return a\ndef b():', after: 'return a' }),
      'scope-end removed "\\ndef b():"',
    );
    assert.equal(
      describeAction({ filter: 'repeats-following-text', before: 'b)', after: '' }),
      'repeats-following-text dropped "b)"',
    );
    assert.equal(
      describeAction({ filter: 'line-endings', before: 'a\r\nb', after: 'a\nb' }),
      'line-endings rewrote "a\\r\\nb" as "a\\nb"',
    );
  });

  it('reports the filter that dropped a suggestion, with every filter that acted before it', () => {
    const ctx = contextOf({ name: '', document: '    █\n    return a + b\n', raw: '', expected: null });
    const report = runFilters('return a + b  ', ctx);
    assert.equal(report.text, undefined);
    assert.deepEqual(
      report.actions.map((a) => a.filter),
      ['trailing-space', 'repeats-following-text'],
    );
    assert.equal(report.droppedBy?.filter, 'repeats-following-text');
    // A blank answer is the model's doing, not a filter's.
    assert.equal(runFilters('  \n ', ctx).droppedBy, undefined);
  });
});

describe('repetition loops', () => {
  it('end a generation once a unit repeats eight times, with one copy kept; fewer copies do not', () => {
    const loop = '0 : '.repeat(8);
    const found = trailingLoop(`return ${loop}`, 8);
    assert.ok(found);
    assert.equal(cutLoop(`return ${loop}`, found), 'return 0');
    assert.equal(trailingLoop('[0, 0, 0, 0, 0, ', 8), undefined);
    assert.equal(trailingLoop('-'.repeat(40), 3), undefined);
  });
});
