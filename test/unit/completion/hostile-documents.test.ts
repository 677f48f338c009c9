// Documents that break naive completers: huge, one-line, binary-looking, broken Unicode, CRLF,
// tab-indented. The prompt stays within its token budget, suggestions keep the document's line
// endings and indentation, and nothing throws.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InlineAnswer, InlineCompleter } from '../../../src/completion/inline-completer';
import type { DocumentStyle } from '../../../src/completion/postprocess';
import { CompletionRequest, Engine } from '../../../src/engine/engine';
import type { CompleteOptions } from '../../../src/engine/process/engine-client';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../../src/settings';
import { TINY_MODEL } from '../fixture';

const SPACES: DocumentStyle = { eol: '\n', insertSpaces: true, tabSize: 4 };
const settings = normalizeSettings({ ...DEFAULT_SETTINGS, debounceMs: 0, contextTokens: 200, maxNewTokens: 24 });

describe('hostile documents', () => {
  let engine: Engine;
  let completer: InlineCompleter;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    completer = new InlineCompleter({
      complete: (request: CompletionRequest, options?: CompleteOptions) =>
        engine.complete(request, { isCancelled: () => options?.signal?.aborted ?? false }),
    });
  });
  after(() => engine.dispose());

  let n = 0;
  async function completeAt(text: string, cursor: number, style = SPACES): Promise<InlineAnswer> {
    const answer = await completer.complete(
      {
        slice: (s, e) => text.slice(s, e),
        documentLength: text.length,
        cursor,
        documentKey: `doc${n}`,
        paths: { relative: `doc${n++}.ts` },
        style,
        signal: new AbortController().signal,
      },
      settings,
    );
    assert.ok(answer?.result, 'the engine was asked');
    assert.ok(
      answer.result.stats.promptTokens <= settings.contextTokens,
      `prompt of ${answer.result.stats.promptTokens} tokens`,
    );
    return answer;
  }

  it('a 5 MB single-line file', async () => {
    const text = 'const values = ['.concat('1234, '.repeat(840_000), '];');
    assert.ok(text.length > 5_000_000);
    await completeAt(text, Math.floor(text.length / 2));
    await completeAt(text, text.length);
  });

  it('a 200,000-line file', async () => {
    const text = Array.from({ length: 200_000 }, (_, i) => `x${i} = compute(${i})`).join('\n');
    await completeAt(text, text.indexOf('x100000 ='));
  });

  it('binary-looking text with NUL characters', async () => {
    let text = '';
    for (let i = 0; i < 4000; i++) text += String.fromCharCode((i * 7919) % 256);
    await completeAt(text, 2000);
  });

  it('invalid surrogates', async () => {
    const text = 'name = "\uD800\uDFFF\uDC00 x \uD83D"\nvalue = ';
    await completeAt(text, text.length);
  });

  it('CRLF documents get CRLF suggestions', async () => {
    const text = 'def f(x):\r\n    if x:\r\n        return 1\r\n    ';
    const answer = await completeAt(text, text.length, { eol: '\r\n', insertSpaces: true, tabSize: 4 });
    assert.equal(/(^|[^\r])\n/.test(answer.text), false, JSON.stringify(answer.text));
  });

  it('tab-indented documents get tab indentation', async () => {
    const text = 'def f(x):\n\tif x:\n\t\treturn 1\n\t';
    const answer = await completeAt(text, text.length, { eol: '\n', insertSpaces: false, tabSize: 4 });
    for (const line of answer.text.split('\n').slice(1))
      assert.doesNotMatch(line, /^ {4}/, JSON.stringify(answer.text));
  });
});
