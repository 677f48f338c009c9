import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PromptBudget } from '../../../src/backends/prompt-budget';

const line = (i: number) => `  const value${i} = compute(${i}, "${'x'.repeat(i % 17)}");\n`;
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => line(from + k)).join('');

describe('the prompt cut to what a server’s context holds', () => {
  it('sends the text as it is until a prompt did not fit', () => {
    const budget = new PromptBudget();
    const request = { prefix: lines(0, 500), suffix: lines(500, 900), maxNewTokens: 64 };
    assert.equal(budget.fit(request), request);
    assert.equal(budget.maxChars(64), undefined);
  });

  it('after one overflow: at most the measured fit, the prefix’s end and the suffix’s start kept, cut at line starts', () => {
    const budget = new PromptBudget();
    const request = { prefix: lines(0, 300) + '  return val', suffix: ';\n' + lines(300, 400), maxNewTokens: 64 };
    const sentChars = request.prefix.length + request.suffix.length;
    // The server counted 4 characters a token and holds 512 tokens.
    budget.learn(sentChars, { promptTokens: Math.ceil(sentChars / 4), contextTokens: 512 });
    const max = budget.maxChars(64)!;
    assert.ok(max < (512 - 64) * 4 && max > (512 - 64) * 4 * 0.8, `${max}`);
    const fit = budget.fit(request);
    assert.ok(!('tooSmall' in fit));
    assert.ok(fit.prefix.length + fit.suffix.length <= max);
    assert.ok(fit.prefix.length + fit.suffix.length > max * 0.75, 'most of the budget is used');
    assert.ok(request.prefix.endsWith(fit.prefix) && fit.prefix.startsWith('  const value'));
    assert.ok(request.suffix.startsWith(fit.suffix) && fit.suffix.endsWith('\n'));
    // More new tokens, less text.
    assert.ok(budget.maxChars(128)! < max);
  });

  it('the cut prefix starts at the same place while the user types on', () => {
    const budget = new PromptBudget();
    const head = lines(0, 300);
    budget.learn(20_000, { promptTokens: 5_000, contextTokens: 1024 });
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }).filter((typed) => !typed.includes('\n')),
        (typed) => {
          const before = budget.fit({ prefix: head + '  x', suffix: '\n}\n', maxNewTokens: 32 });
          const after = budget.fit({ prefix: head + '  x' + typed, suffix: '\n}\n', maxNewTokens: 32 });
          assert.ok(!('tooSmall' in before) && !('tooSmall' in after));
          assert.equal(after.prefix, before.prefix + typed);
        },
      ),
    );
  });

  it('follows the server’s counts of answered prompts when they differ by more than a tenth', () => {
    const budget = new PromptBudget();
    budget.observe(40_000, 10_000);
    assert.equal(budget.maxChars(64), undefined, 'nothing is cut before a prompt did not fit');
    budget.learn(8_000, { promptTokens: 2_000, contextTokens: 1024 });
    const at4 = budget.maxChars(64)!;
    budget.observe(3_000, 800);
    assert.equal(budget.maxChars(64), at4, '3.75 characters a token: within a tenth, the cut stays put');
    budget.observe(3_000, 2_000);
    assert.ok(Math.abs(budget.maxChars(64)! / at4 - 1.5 / 4) < 0.01, 'a denser file: 1.5 characters a token');
    budget.observe(100, 20);
    assert.ok(Math.abs(budget.maxChars(64)! / at4 - 1.5 / 4) < 0.01, 'too short a prompt to say');
    budget.observe(3_000, 1_000);
    assert.ok(Math.abs(budget.maxChars(64)! / at4 - 3 / 4) < 0.01, 'and back');
  });

  it('a prompt that still did not fit lowers the budget; no room for a prompt is a reason, not a request', () => {
    const budget = new PromptBudget();
    budget.learn(8_000, { promptTokens: 2_000, contextTokens: 1024 });
    const first = budget.maxChars(64)!;
    budget.learn(first, { promptTokens: 1_100, contextTokens: 1024 });
    assert.ok(budget.maxChars(64)! < first);
    const fit = budget.fit({ prefix: 'a'.repeat(100), suffix: '', maxNewTokens: 1000 });
    assert.ok('tooSmall' in fit);
    assert.match(fit.tooSmall, /holds 1024 tokens: too few for a prompt and 1000 new tokens/);
  });

  it('a context the server said: nothing cut until it counts a prompt, then cut to fit; too small known at once', () => {
    const budget = new PromptBudget();
    budget.know(512);
    const request = { prefix: lines(0, 300), suffix: lines(300, 400), maxNewTokens: 64 };
    assert.equal(budget.fit(request), request);
    const tooSmall = budget.fit({ ...request, maxNewTokens: 500 });
    assert.ok('tooSmall' in tooSmall && /holds 512 tokens/.test(tooSmall.tooSmall));
    budget.observe(1_200, 300);
    const max = budget.maxChars(64)!;
    assert.ok(max < (512 - 64) * 4 && max > (512 - 64) * 4 * 0.8, `${max}`);
    const fit = budget.fit(request);
    assert.ok(!('tooSmall' in fit) && fit.prefix.length + fit.suffix.length <= max);
  });
});
