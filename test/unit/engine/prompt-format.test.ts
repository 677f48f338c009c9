import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readModelFolder } from '../../../src/shared/model-folder';
import { PREFIX_TRIM_BLOCK, buildPrompt, trimPrefixTokens } from '../../../src/engine/prompt-format';
import { ModelTokenizer } from '../../../src/engine/model/tokenizer';
import { DATA_DIR, TINY_MODEL } from '../fixture';

const folder = readModelFolder(TINY_MODEL);
const tokenizer = new ModelTokenizer(
  folder.tokenizerJson,
  folder.tokenizerConfig,
  folder.config,
  folder.generationConfig,
);

describe('prompt format', () => {
  const cases = JSON.parse(fs.readFileSync(path.join(DATA_DIR, 'prompt', 'fim.json'), 'utf8'));
  for (const c of cases) {
    it(`golden: ${c.name}`, () => {
      const built = buildPrompt(tokenizer, c.prefix, c.suffix, { contextTokens: c.contextTokens, suffixShare: 0.25 });
      assert.equal(tokenizer.decode(built.ids), c.expectedText);
      assert.equal(built.fim, true);
    });
  }

  it('matches the FIM prompt ids the Python recipe built', () => {
    const reference = JSON.parse(fs.readFileSync(path.join(TINY_MODEL, 'reference.json'), 'utf8'));
    const built = buildPrompt(tokenizer, reference.fim_prefix, reference.fim_suffix, {
      contextTokens: 250,
      suffixShare: 0.25,
    });
    assert.deepEqual(built.ids, reference.fim_prompt_ids);
  });

  it('stays within the budget, and the prefix start moves in whole blocks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 500 }), (n, budget) => {
        const ids = Array.from({ length: n }, (_, i) => i);
        const kept = trimPrefixTokens(ids, budget);
        assert.ok(kept.length <= budget);
        assert.equal((n - kept.length) % PREFIX_TRIM_BLOCK === 0 || kept.length === 0, true);
        assert.deepEqual(kept, ids.slice(n - kept.length));
      }),
    );
  });

  it('typing one more character keeps the prompt start while the block lasts', () => {
    const text = 'x = compute(value)\n'.repeat(200);
    const a = buildPrompt(tokenizer, text + 'y', '', { contextTokens: 300, suffixShare: 0.25 });
    const b = buildPrompt(tokenizer, text + 'y =', '', { contextTokens: 300, suffixShare: 0.25 });
    assert.ok(a.ids.length <= 300 && b.ids.length <= 300);
    assert.deepEqual(b.ids.slice(0, 100), a.ids.slice(0, 100));
  });

  it('SPM order puts the prefix last, so typing only appends', () => {
    const spm = { encode: (t: string) => tokenizer.encode(t), fim: tokenizer.fim, fimOrder: 'spm' as const };
    const a = buildPrompt(spm, 'def f(x):\n    return x', '\n\nprint(f(1))\n', {
      contextTokens: 200,
      suffixShare: 0.25,
    });
    assert.equal(
      tokenizer.decode(a.ids),
      '<fim_prefix><fim_suffix>\n\nprint(f(1))\n<fim_middle>def f(x):\n    return x',
    );
    const b = buildPrompt(spm, 'def f(x):\n    return x +', '\n\nprint(f(1))\n', {
      contextTokens: 200,
      suffixShare: 0.25,
    });
    const common = a.ids.findIndex((id, i) => b.ids[i] !== id);
    assert.ok(common < 0 || common >= a.ids.length - 2, 'only the last token or two differ');
  });

  it('the suffix gives way to the prefix beyond its share', () => {
    const built = buildPrompt(tokenizer, 'a = 1\n'.repeat(100), 'b = 2\n'.repeat(100), {
      contextTokens: 120,
      suffixShare: 0.25,
    });
    assert.ok(built.ids.length <= 120);
    assert.ok(built.suffixTokens <= Math.floor(117 * 0.25) + 1);
    assert.ok(built.prefixTokens > built.suffixTokens);
  });
});
