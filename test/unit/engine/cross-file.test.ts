import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crossFileHeader, queryText, similarChunks } from '../../../src/engine/context/cross-file';
import { Engine } from '../../../src/engine/engine';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const QWEN2 = path.join(REPO_ROOT, 'test', 'fixtures', 'families', 'qwen2');

describe('cross-file context', () => {
  const sources = [
    { path: 'colors.py', text: 'RED = 1\nGREEN = 2\nBLUE = 3\n' },
    { path: 'shapes.py', text: 'def area(width, height):\n    return width * height\n' },
  ];

  it('picks the chunks whose identifiers match the lines above the cursor, best last', () => {
    const chunks = similarChunks(sources, 'def perimeter(width, height):\n    return 2 * (width + height)\n');
    assert.deepEqual(
      chunks.map((c) => c.path),
      ['shapes.py'],
    );
    const both = similarChunks(sources, 'RED GREEN width height area', {
      chunkLines: 12,
      queryLines: 12,
      maxChunks: 3,
      minScore: 0.1,
    });
    assert.equal(both.length, 2);
    assert.ok(both[0].score <= both[1].score);
    assert.deepEqual(similarChunks(sources, '    '), []);
  });

  it('the query leaves out the line being typed, so the choice holds while the user types on it', () => {
    const above = 'import shapes\nx = area(width, height)\n';
    assert.equal(queryText(`${above}    ret`, 12), queryText(`${above}    return width`, 12));
    assert.ok(!queryText(`${above}    ret`, 12).includes('ret'));
    assert.equal(queryText('a\nb\nc\nd\ncur', 2), 'c\nd\n');
  });

  it('the header keeps to its budget and is empty when no chunk fits', () => {
    const encode = (t: string) => Array.from(t, (c) => c.charCodeAt(0));
    const chunks = similarChunks(sources, 'RED GREEN width height area', {
      chunkLines: 12,
      queryLines: 12,
      maxChunks: 3,
      minScore: 0.1,
    });
    const repo = { fileSep: -1, repoName: -2 };
    const full = crossFileHeader(encode, repo, chunks, 'main.py', 'demo', 1000);
    assert.equal(full[0], -2);
    assert.equal(full.filter((id) => id === -1).length, 3);
    const tight = crossFileHeader(encode, repo, chunks, 'main.py', 'demo', 80);
    assert.ok(tight.length <= 80 && tight.length > 0);
    assert.equal(tight.filter((id) => id === -1).length, 2, 'the best chunk is kept, the other dropped');
    assert.deepEqual(crossFileHeader(encode, repo, chunks, 'main.py', 'demo', 20), []);
  });

  describe('in the engine', () => {
    let qwen: Engine;
    let tiny: Engine;
    before(async () => {
      qwen = await Engine.load({ modelDir: QWEN2, device: 'cpu', threads: 1 });
      tiny = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
      const files = [
        { key: 'lib', version: 1, path: 'lib.py', weight: 0.5, text: 'def area(w, h):\n    return w*h\n' },
      ];
      qwen.setContextFiles(files);
      tiny.setContextFiles(files);
    });
    after(async () => {
      await qwen.dispose();
      await tiny.dispose();
    });
    const request = {
      prefix: 'def area2(w, h):\n    return w*h\n\nx = ar',
      suffix: '',
      sampling: { temperature: 0, topK: 0, topP: 1 },
      seed: 0,
      maxNewTokens: 8,
      stop: [],
      timeBudgetMs: 60_000,
      contextTokens: 256,
      crossFile: { path: 'main.py', repoName: 'demo' },
    };

    it("a model with repository tokens gets other files' chunks before its FIM prompt", async () => {
      const prompt = qwen.promptFor(request);
      assert.ok(prompt.headerTokens > 0);
      const text = qwen.tokenizer.decode(prompt.ids);
      assert.ok(
        text.startsWith(
          '<|repo_name|>demo\n<|file_sep|>lib.py\ndef area(w, h):\n    return w*h\n<|file_sep|>main.py\n<|fim_prefix|>def area2',
        ),
        JSON.stringify(text),
      );
      assert.equal(qwen.promptFor({ ...request, crossFile: undefined }).headerTokens, 0);
      assert.equal(tiny.promptFor(request).headerTokens, 0, 'no repository tokens, no header');
    });

    it('typing on the line keeps the header, so the KV cache still covers it', async () => {
      const first = await qwen.complete(request);
      const next = await qwen.complete({ ...request, prefix: `${request.prefix}e` });
      assert.ok(first.stats.headerTokens! > 0);
      assert.equal(next.stats.headerTokens, first.stats.headerTokens);
      assert.ok(next.stats.reusedTokens >= next.stats.headerTokens!, JSON.stringify(next.stats));
      assert.ok(next.stats.prefilledTokens <= 4, JSON.stringify(next.stats));
    });
  });
});
