// Keeping the generation the user types along with, and the prefetch after an accept, through the
// completer and the real engine process on the tiny fixture model (greedy, so every run at the same
// place writes the same text).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InlineCompleter, InlineQuery } from '../../../src/completion/inline-completer';
import type { CompletionRequest } from '../../../src/engine/engine';
import { CompleteOptions, EngineClient } from '../../../src/engine/process/engine-client';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../../src/settings';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const TEXT = 'def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    ';
const settings = normalizeSettings({
  ...DEFAULT_SETTINGS,
  debounceMs: 0,
  temperature: 0,
  maxNewTokens: 24,
  timeBudgetMs: 60_000,
  multiline: 'always',
  // The random-weight fixture is never confident: nothing would be shown at the default threshold.
  minConfidence: 0,
});

/** The document with `typed` typed at its end. */
function query(signal: AbortSignal, typed = '', key = 'ops.py'): InlineQuery {
  const text = TEXT + typed;
  return {
    slice: (s, e) => text.slice(s, e),
    documentLength: text.length,
    cursor: text.length,
    documentKey: key,
    paths: { relative: key },
    style: { eol: '\n', insertSpaces: true, tabSize: 4 },
    signal,
  };
}

const open = () => new AbortController().signal;

describe('generations kept while typing, and the prefetch', () => {
  let client: EngineClient;
  let calls = 0;
  /** Called with each partial text the engine streams. */
  let onStream: ((text: string) => void) | undefined;
  const backend = {
    complete: (request: CompletionRequest, options?: CompleteOptions) => {
      calls++;
      return client.complete(request, {
        ...options,
        onPartial: (text) => {
          options?.onPartial?.(text);
          onStream?.(text);
        },
      });
    },
  };
  /** What the engine shows at the place, from a completer of its own. */
  let shown = '';

  before(async () => {
    client = new EngineClient({ enginePath: path.join(REPO_ROOT, 'dist', 'engine.js'), log: () => {} });
    await client.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    shown = (await new InlineCompleter(backend).complete(query(open()), settings)).text;
    assert.ok(shown.length > 1, `the fixture model shows ${JSON.stringify(shown)} here: nothing to type along with`);
  });
  after(() => client.dispose());

  /**
   * Keystroke 1 at the place; at its first streamed text the editor cancels it and keystroke 2
   * types `typed`. Returns both answers.
   */
  async function typeWhileStreaming(completer: InlineCompleter, typed: string) {
    const first = new AbortController();
    let second: ReturnType<InlineCompleter['complete']> | undefined;
    const streamed = new Promise<void>((resolve) => {
      onStream = (text) => {
        // The first token may only restore what token healing took back: nothing streamed yet.
        if (text === '') return;
        onStream = undefined;
        first.abort();
        second = completer.complete(query(open(), typed), settings);
        resolve();
      };
    });
    const one = await completer.complete(query(first.signal), settings);
    await streamed;
    const two = await second!;
    await completer.settled();
    return { one, two };
  }

  it('a keystroke that types what the generation streamed does not cancel it: its remainder is the answer', async () => {
    const completer = new InlineCompleter(backend);
    calls = 0;
    const { one, two } = await typeWhileStreaming(completer, shown[0]);
    assert.equal(one.reason?.kind, 'cancelled');
    assert.equal(two.source, 'kept');
    assert.equal(two.text, shown.slice(1));
    assert.equal(calls, 1, 'one generation for both keystrokes');
    assert.deepEqual(completer.stats.served, { memory: 0, model: 0, kept: 1, prefetch: 0 });
    assert.equal(completer.stats.stopped, 0);
    assert.equal(completer.stats.discardedTokens, 0);
    assert.ok(completer.stats.generatedTokens > 0);
  });

  it('a keystroke that types something else stops it, and its streamed tokens count as discarded', async () => {
    const completer = new InlineCompleter(backend);
    calls = 0;
    const { two } = await typeWhileStreaming(completer, shown[0] === 'Z' ? 'Y' : 'Z');
    assert.notEqual(two.source, 'kept');
    assert.equal(calls, 2);
    assert.equal(completer.stats.stopped, 1);
    assert.ok(completer.stats.discardedTokens >= 1);
  });

  it('without keeping, the editor cancelling a keystroke cancels its generation', async () => {
    const completer = new InlineCompleter(backend, undefined, { keepGenerations: false });
    calls = 0;
    const { two } = await typeWhileStreaming(completer, shown[0]);
    assert.equal(two.source, 'model');
    assert.equal(calls, 2);
    assert.equal(completer.stats.stopped, 1);
  });

  it('after an accept, the next request is answered from the prefetch without another generation', async () => {
    const completer = new InlineCompleter(backend);
    completer.prefetch(query(open()), settings);
    await completer.settled();
    calls = 0;
    const answer = await completer.complete(query(open()), settings);
    assert.equal(answer.source, 'prefetch');
    assert.equal(answer.text, shown);
    assert.equal(calls, 0);
    // Asked while the prefetch still runs, the request waits for it.
    const other = new InlineCompleter(backend);
    other.prefetch(query(open(), '', 'other.py'), settings);
    const waited = await other.complete(query(open(), '', 'other.py'), settings);
    assert.equal(waited.source, 'prefetch');
    assert.equal(waited.text, shown);
    assert.equal(calls, 1);
  });
});
