import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readModelFolder } from '../../../src/shared/model-folder';
import { ModelTokenizer } from '../../../src/engine/model/tokenizer';
import { TINY_MODEL } from '../fixture';

const folder = readModelFolder(TINY_MODEL);
const tokenizer = new ModelTokenizer(
  folder.tokenizerJson,
  folder.tokenizerConfig,
  folder.config,
  folder.generationConfig,
);
const reference = JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'reference.json'), 'utf8'));

describe('tokenizer', () => {
  it('produces the ids the Python recipe produced', () => {
    assert.deepEqual(tokenizer.encode(reference.prompt), reference.prompt_ids);
  });

  it('finds the FIM tokens and stops on end-of-text', () => {
    assert.deepEqual(tokenizer.fim, { prefix: 1, suffix: 3, middle: 2 });
    assert.equal(tokenizer.eosId, 0);
    assert.ok(tokenizer.stopIds.has(0));
  });

  it('round-trips text, including non-ASCII', () => {
    for (const text of ['x = 1\n', '    return "héllo → wörld" # 日本', '\t\tif (a) {\r\n}\r\n']) {
      assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
    }
  });

  it('encodes special-token spellings in a document as plain text', () => {
    const text = 'print("<|endoftext|>") # <fim_middle>';
    const ids = tokenizer.encode(text);
    for (const special of tokenizer.stopIds) assert.ok(!ids.includes(special));
    assert.equal(tokenizer.decode(ids), text);
  });
});
