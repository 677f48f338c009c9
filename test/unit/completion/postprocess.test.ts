// Golden cases for post-processing: each file in test/unit/data/postprocess holds
// {name, raw, linePrefix, lineSuffix, nextLines, style?, expected} entries.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DocumentStyle, postprocess } from '../../../src/completion/postprocess';
import { cutLoop, trailingLoop } from '../../../src/shared/repetition';
import { DATA_DIR } from '../fixture';

interface GoldenCase {
  name: string;
  raw: string;
  linePrefix: string;
  lineSuffix: string;
  nextLines: string[];
  style?: DocumentStyle;
  expected: string | null;
}

const DEFAULT_STYLE: DocumentStyle = { eol: '\n', insertSpaces: true, tabSize: 4 };
const dir = path.join(DATA_DIR, 'postprocess');

for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  describe(`postprocess golden cases: ${file}`, () => {
    const cases: GoldenCase[] = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    for (const c of cases) {
      it(c.name, () => {
        const got = postprocess(
          c.raw,
          { linePrefix: c.linePrefix, lineSuffix: c.lineSuffix, nextLines: c.nextLines },
          c.style ?? DEFAULT_STYLE,
        );
        assert.equal(got ?? null, c.expected);
      });
    }
  });
}

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
