// What the settings put into an engine request: the repeat penalty, for suggestions and Generate Code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editorContext, inlineRequest } from '../../../src/completion/inline-request';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../../src/settings';
import { DEFAULT_REPEAT_PENALTY } from '../../../src/shared/repeat-penalty';

describe('inline request', () => {
  const ctx = editorContext('x = ', '\n');
  it('carries wisp.repeatPenalty as the penalty multiplier, for suggestions and Generate Code', () => {
    const settings = normalizeSettings({ ...DEFAULT_SETTINGS, repeatPenalty: 1.5 });
    for (const purpose of ['inline', 'generate'] as const) {
      const request = inlineRequest('x = ', '\n', ctx, settings, purpose);
      assert.deepEqual(request.repeatPenalty, { ...DEFAULT_REPEAT_PENALTY, multiplier: 1.5 });
    }
  });
  it('has no penalty at wisp.repeatPenalty 0, and a negative setting is read as 0', () => {
    for (const repeatPenalty of [0, -1]) {
      const settings = normalizeSettings({ ...DEFAULT_SETTINGS, repeatPenalty });
      assert.equal(inlineRequest('x = ', '\n', ctx, settings).repeatPenalty, undefined);
    }
  });
});
