// Every request that ends without a suggestion says why: the reasons the completer gives, with the
// real engine on the tiny fixture model, and how each one reads in the log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InlineCompleter, InlineQuery } from '../../../src/completion/inline-completer';
import { editorContext } from '../../../src/completion/inline-request';
import { describeNoSuggestion, whyNothingShown } from '../../../src/completion/no-suggestion';
import { runFilters } from '../../../src/completion/postprocess';
import { CompletionRequest, Engine } from '../../../src/engine/engine';
import type { CompleteOptions } from '../../../src/engine/process/engine-client';
import { CompletionResult, cancelledResult } from '../../../src/engine/process/protocol';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../../src/settings';
import { TINY_MODEL } from '../fixture';

const STYLE = { eol: '\n' as const, insertSpaces: true, tabSize: 4 };
const TEXT = 'def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    ';

function query(signal: AbortSignal, relative = 'src/ops.py', key = relative): InlineQuery {
  return {
    slice: (s, e) => TEXT.slice(s, e),
    documentLength: TEXT.length,
    cursor: TEXT.length,
    documentKey: key,
    paths: { relative, absolute: `/work/project/${relative}` },
    style: { eol: '\n', insertSpaces: true, tabSize: 4 },
    signal,
  };
}

describe('why nothing was shown, from the completer', () => {
  let engine: Engine;
  const asked: CompletionRequest[] = [];
  let completer: InlineCompleter;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
    // One generation at a time, as the engine client sends them: a generation the editor cancelled
    // runs on until a keystroke that does not follow it stops it (inline-completer.ts).
    let last: Promise<unknown> = Promise.resolve();
    completer = new InlineCompleter({
      complete: (request: CompletionRequest, options?: CompleteOptions) => {
        asked.push(request);
        const run = last.then(() => engine.complete(request, { isCancelled: () => options?.signal?.aborted ?? false }));
        last = run.catch(() => {});
        return run;
      },
    });
  });
  after(async () => {
    await completer.settled();
    engine.dispose();
  });

  it('an excluded file: the engine is never asked and the document never read', async () => {
    const settings = normalizeSettings({ ...DEFAULT_SETTINGS, debounceMs: 0 });
    const before = asked.length;
    const q = { ...query(new AbortController().signal, 'config/.env.local'), slice: () => assert.fail('read') };
    const answer = await completer.complete(q, settings);
    assert.deepEqual(answer.reason, { kind: 'excluded', glob: '**/.env.*' });
    assert.equal(answer.text, '');
    assert.equal(asked.length, before);
    const key = await completer.complete(query(new AbortController().signal, 'deploy/tls.key'), settings);
    assert.equal(key.reason?.kind, 'excluded');
  });

  it('a keystroke during the debounce: debounced away, the engine never asked', async () => {
    const settings = normalizeSettings({ ...DEFAULT_SETTINGS, debounceMs: 60_000 });
    const before = asked.length;
    const abort = new AbortController();
    const pending = completer.complete(query(abort.signal, 'a.py'), settings);
    abort.abort();
    assert.deepEqual((await pending).reason, { kind: 'debounced' });
    assert.equal(asked.length, before);
  });

  it('a wait cut short still says how long it was to be (the bench averages the waits chosen)', async () => {
    const settings = normalizeSettings({ ...DEFAULT_SETTINGS, debounceMs: 2000, adaptiveDebounce: false });
    const abort = new AbortController();
    const pending = completer.complete(query(abort.signal, 'a.py'), settings);
    abort.abort();
    const answer = await pending;
    assert.deepEqual(answer.reason, { kind: 'debounced' });
    assert.equal(answer.waitedMs, 2000);
  });

  it('a keystroke while the engine runs: cancelled by that keystroke; Escape: cancelled by the editor', async () => {
    const settings = normalizeSettings({
      ...DEFAULT_SETTINGS,
      debounceMs: 0,
      maxNewTokens: 1024,
      timeBudgetMs: 60_000,
    });
    const started = async (signal: AbortSignal, path: string) => {
      const count = asked.length;
      const pending = completer.complete(query(signal, path), settings);
      while (asked.length === count) await new Promise((r) => setImmediate(r));
      return { pending };
    };
    const first = new AbortController();
    const { pending } = await started(first.signal, 'b.py');
    first.abort();
    // The next keystroke's request (the in-process engine runs one generation at a time: this one
    // is cancelled in its debounce).
    const typed = new AbortController();
    typed.abort();
    const next = await completer.complete(query(typed.signal, 'b.py'), settings);
    const answer = await pending;
    assert.deepEqual(answer.reason, { kind: 'cancelled', keystroke: next.keystroke });
    assert.equal(next.keystroke, answer.keystroke + 1);

    const escaped = new AbortController();
    const { pending: alone } = await started(escaped.signal, 'c.py');
    escaped.abort();
    assert.deepEqual((await alone).reason, { kind: 'cancelled', keystroke: undefined });
  });

  it('a finished answer is shown, or says which filter dropped it', async () => {
    // A time budget no starved machine runs out of: the time-budget reason has a test of its own.
    const settings = normalizeSettings({
      ...DEFAULT_SETTINGS,
      debounceMs: 0,
      maxNewTokens: 8,
      minConfidence: 0,
      timeBudgetMs: 60_000,
    });
    const answer = await completer.complete(query(new AbortController().signal, 'd.py'), settings);
    assert.ok(answer.result);
    if (answer.text) assert.equal(answer.reason, undefined);
    else assert.ok(['filtered', 'empty'].includes(answer.reason!.kind), JSON.stringify(answer.reason));
  });

  it('a suggestion the model is less sure of than wisp.minConfidence: not shown, with its confidence', async () => {
    const settings = normalizeSettings({
      ...DEFAULT_SETTINGS,
      debounceMs: 0,
      maxNewTokens: 8,
      multiline: 'always',
      minConfidence: 0,
      timeBudgetMs: 60_000,
    });
    const shown = await completer.complete(query(new AbortController().signal, 'e.py'), settings);
    assert.ok(shown.text, 'the fixture model suggests something here');
    const strict = await completer.complete(query(new AbortController().signal, 'f.py'), {
      ...settings,
      minConfidence: 1,
    });
    assert.equal(strict.text, '');
    assert.equal(strict.reason?.kind, 'low-confidence');
    if (strict.reason?.kind !== 'low-confidence') return;
    assert.equal(strict.reason.text, shown.text);
    assert.ok(strict.reason.confidence > 0 && strict.reason.confidence < 1);
    assert.match(describeNoSuggestion(strict.reason), /^confidence 0\.\d\d below wisp.minConfidence 1 for "/);
  });
});

describe('why a finished answer shows nothing', () => {
  const ctx = { ...editorContext('    ', '\n    return a + b\n'), style: STYLE, multiline: 'auto' as const };
  const answer = (text: string, stopReason: CompletionResult['stats']['stopReason']): CompletionResult => {
    const r = cancelledResult();
    return { text, stats: { ...r.stats, stopReason } };
  };

  it('a filter that dropped it is named with what it removed', () => {
    const result = answer('return a + b', 'eos');
    const reason = whyNothingShown(result, runFilters(result.text, ctx), 1500);
    assert.equal(describeNoSuggestion(reason), 'dropped by filter repeats-following-text dropped "return a + b"');
  });

  it('a blank answer is the model answering nothing, or the time budget when it ended the decoding', () => {
    const blank = answer('  ', 'eos');
    assert.deepEqual(whyNothingShown(blank, runFilters(blank.text, ctx), 1500), { kind: 'empty' });
    const late = answer('', 'time');
    const reason = whyNothingShown(late, runFilters(late.text, ctx), 1500);
    assert.equal(describeNoSuggestion(reason), 'the time budget ran out (1500 ms)');
  });

  it('each reason reads as one line', () => {
    assert.equal(describeNoSuggestion({ kind: 'cancelled', keystroke: 7 }), 'cancelled by keystroke 7');
    assert.equal(describeNoSuggestion({ kind: 'cancelled', keystroke: undefined }), 'cancelled by the editor');
    assert.equal(
      describeNoSuggestion({ kind: 'excluded', glob: '**/secrets.*' }),
      'excluded file (wisp.exclude: **/secrets.*)',
    );
    assert.match(describeNoSuggestion({ kind: 'debounced' }), /^debounced away/);
  });
});
