// The token view's webview is a web page: only well-formed messages with in-range values may
// reach the settings or the engine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseViewMessage } from '../../../src/ui/token-view-messages';

describe('token view messages from the webview', () => {
  it('accepts the messages the page sends', () => {
    assert.deepEqual(parseViewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseViewMessage({ type: 'sample', extra: 1 }), { type: 'sample' });
    assert.deepEqual(parseViewMessage({ type: 'clear-preview' }), { type: 'clear-preview' });
    assert.deepEqual(parseViewMessage({ type: 'set-setting', key: 'temperature', value: 0.7 }), {
      type: 'set-setting',
      key: 'temperature',
      value: 0.7,
    });
    assert.deepEqual(parseViewMessage({ type: 'set-setting', key: 'topK', value: 0 }), {
      type: 'set-setting',
      key: 'topK',
      value: 0,
    });
    assert.deepEqual(parseViewMessage({ type: 'set-setting', key: 'topP', value: 1 }), {
      type: 'set-setting',
      key: 'topP',
      value: 1,
    });
  });

  it('rejects other settings, values out of range or of the wrong kind, and unknown types', () => {
    const rejected: unknown[] = [
      null,
      'sample',
      42,
      {},
      { type: 'run' },
      { type: 'set-setting', key: 'model', value: 1 },
      { type: 'set-setting', key: '__proto__', value: 1 },
      { type: 'set-setting', key: 'toString', value: 1 },
      { type: 'set-setting', key: 'temperature', value: 2.5 },
      { type: 'set-setting', key: 'temperature', value: -0.1 },
      { type: 'set-setting', key: 'temperature', value: Number.NaN },
      { type: 'set-setting', key: 'temperature', value: '0.5' },
      { type: 'set-setting', key: 'topK', value: 3.5 },
      { type: 'set-setting', key: 'topK', value: 1001 },
      { type: 'set-setting', key: 'topP', value: 0 },
    ];
    for (const message of rejected) assert.equal(parseViewMessage(message), undefined, JSON.stringify(message));
  });
});
