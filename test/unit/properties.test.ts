// Property-based tests on random text and random edit sequences: prompt building, windowing,
// post-processing and KV-cache reuse never throw, stay in range, and reuse equals recomputation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { windowAroundCursor } from '../../src/completion/context-window';
import { editorContext } from '../../src/completion/inline-request';
import { postprocess } from '../../src/completion/postprocess';
import { Engine } from '../../src/engine/engine';
import { buildPrompt } from '../../src/engine/prompt-format';
import { TINY_MODEL } from './fixture';

const codeText = fc.string({
  unit: fc.constantFrom(
    'a',
    'b',
    ' ',
    '\n',
    '\t',
    '(',
    ')',
    '{',
    '}',
    '"',
    '\r',
    'é',
    '日',
    '\u0000',
    '\uD800',
    '<|endoftext|>',
    '<fim_middle>',
  ),
  maxLength: 300,
});

describe('properties', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load({ modelDir: TINY_MODEL, device: 'cpu', threads: 1 });
  });
  after(() => engine.dispose());

  it('windowing keeps both sides of the cursor inside the document', () => {
    fc.assert(
      fc.property(codeText, fc.nat(), fc.integer({ min: 1, max: 200 }), (text, at, chars) => {
        const cursor = at % (text.length + 1);
        const w = windowAroundCursor((s, e) => text.slice(s, e), text.length, cursor, {
          prefixChars: chars,
          suffixChars: chars,
        });
        assert.ok(w.prefixStart >= 0 && w.prefixStart <= cursor);
        assert.equal(text.slice(w.prefixStart, cursor), w.prefix);
        assert.ok(text.slice(cursor).startsWith(w.suffix));
      }),
    );
  });

  it('post-processing never throws and returns text or nothing', () => {
    fc.assert(
      fc.property(codeText, codeText, codeText, fc.boolean(), (raw, prefix, suffix, crlf) => {
        const out = postprocess(raw, editorContext(prefix, suffix), {
          eol: crlf ? '\r\n' : '\n',
          insertSpaces: !crlf,
          tabSize: 4,
        });
        assert.ok(out === undefined || typeof out === 'string');
        if (out && !crlf) assert.ok(!out.includes('\r\n') || raw.includes('\r'));
      }),
    );
  });

  it('prompts stay within their budget and never contain a document-made control token', () => {
    fc.assert(
      fc.property(codeText, codeText, fc.integer({ min: 8, max: 120 }), (prefix, suffix, budget) => {
        const p = buildPrompt(engine.tokenizer, prefix, suffix, { contextTokens: budget, suffixShare: 0.25 });
        assert.ok(p.ids.length <= budget, `${p.ids.length} > ${budget}`);
        const controls = p.ids.filter((id) => engine.tokenizer.stopIds.has(id));
        assert.equal(controls.length, 3, 'only the three FIM sentinels');
      }),
    );
  });

  it('cache reuse equals recomputation on the tokens it claims to reuse, over random edit sequences', async () => {
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.integer({ min: 0, max: 5 }),
      insert: fc.array(fc.integer({ min: 4, max: 511 }), { maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 4, max: 511 }), { minLength: 2, maxLength: 60 }),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        async (start, edits) => {
          engine.clearCache();
          let ids = start;
          for (const e of [{ at: 0, remove: 0, insert: [] as number[] }, ...edits]) {
            const at = e.at % (ids.length + 1);
            const next = ids.slice(0, at).concat(e.insert, ids.slice(at + e.remove));
            if (next.length < 1) continue;
            ids = next.slice(0, 200);
            const { stepper, logits, reused } = await engine.prefill(ids, true);
            engine.remember(stepper.ids, stepper.past);
            const full = await engine.session.forward(ids, engine.session.emptyPast());
            assert.ok(reused < ids.length);
            let diff = 0;
            for (let i = 0; i < logits.length; i++) diff = Math.max(diff, Math.abs(logits[i] - full.logits[i]));
            assert.ok(diff <= 1e-4, `max |Δ| ${diff} after reusing ${reused} of ${ids.length}`);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('greedy text is the same with and without prompt-lookup drafts, with token healing and the context cache', async () => {
    const repetitive = fc
      .array(fc.constantFrom('x = f(a)\n', 'y = g(b, c)\n', '    return x\n', 'if a:\n', 'f(', 'g', ' '), {
        maxLength: 30,
      })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(repetitive, fc.constantFrom(0, 0.5), async (prefix, contextCacheWeight) => {
        const request = {
          prefix,
          suffix: '\n',
          sampling: { temperature: 0, topK: 0, topP: 1 },
          seed: 0,
          maxNewTokens: 12,
          stop: [],
          timeBudgetMs: 60_000,
          contextTokens: 200,
          contextCacheWeight,
        };
        engine.clearCache();
        const plain = await engine.complete({ ...request, promptLookup: false });
        engine.clearCache();
        const drafted = await engine.complete(request);
        assert.equal(drafted.text, plain.text);
      }),
      { numRuns: 40 },
    );
  });
});
