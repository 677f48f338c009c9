import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BACKGROUND_WEIGHT,
  ContextFileTracker,
  OpenDocument,
  VISIBLE_WEIGHT,
} from '../../../src/completion/context-files';

function doc(key: string, version: number, text = `${key} v${version}`): OpenDocument {
  return { key, path: `${key}.ts`, version, text: () => text };
}

describe('related files chosen for the engine', () => {
  it('leaves out the active document, puts visible editors first, then the most recently touched', () => {
    const tracker = new ContextFileTracker();
    tracker.sync({ documents: [doc('a', 1), doc('b', 1), doc('c', 1)], visibleKeys: new Set(['a']), activeKey: 'b' });
    tracker.sync({ documents: [doc('a', 1), doc('b', 1), doc('c', 1)], visibleKeys: new Set(['a']), activeKey: 'c' });
    const files = tracker.sync({
      documents: [doc('a', 1), doc('b', 1), doc('c', 1), doc('d', 1)],
      visibleKeys: new Set(['a', 'd']),
      activeKey: 'd',
    });
    assert.deepEqual(
      files.map((f) => f.key),
      ['a', 'c', 'b'],
    );
    assert.deepEqual(
      files.map((f) => f.weight),
      [VISIBLE_WEIGHT, BACKGROUND_WEIGHT, BACKGROUND_WEIGHT],
    );
    assert.equal(files[0].text, 'a v1');
  });

  it('keeps an edited file after it closes, forgets one that was only viewed', () => {
    const tracker = new ContextFileTracker();
    tracker.sync({ documents: [doc('a', 1), doc('b', 1)], visibleKeys: new Set(), activeKey: 'a' });
    tracker.sync({ documents: [doc('a', 2), doc('b', 1)], visibleKeys: new Set(), activeKey: 'b' });
    const files = tracker.sync({ documents: [doc('c', 1)], visibleKeys: new Set(), activeKey: 'c' });
    assert.deepEqual(
      files.map((f) => [f.key, f.text]),
      [['a', 'a v2']],
    );
  });

  it('keeps only the most recent closed edited files', () => {
    const tracker = new ContextFileTracker({ maxFiles: 8, maxClosedEdited: 2 });
    for (const key of ['a', 'b', 'c']) {
      tracker.sync({ documents: [doc(key, 1)], visibleKeys: new Set(), activeKey: 'x' });
      tracker.sync({ documents: [doc(key, 2)], visibleKeys: new Set(), activeKey: 'x' });
    }
    const files = tracker.sync({ documents: [], visibleKeys: new Set(), activeKey: undefined });
    assert.deepEqual(
      files.map((f) => f.key),
      ['c', 'b'],
    );
  });

  it("gives a new version whenever the text changes, even when the editor's version number repeats", () => {
    const tracker = new ContextFileTracker();
    const v1 = tracker.sync({ documents: [doc('a', 1, 'one'), doc('z', 1)], visibleKeys: new Set(), activeKey: 'z' })[0]
      .version;
    const same = tracker.sync({
      documents: [doc('a', 1, 'one'), doc('z', 1)],
      visibleKeys: new Set(),
      activeKey: 'z',
    })[0].version;
    assert.equal(same, v1);
    tracker.sync({ documents: [doc('a', 2, 'two'), doc('z', 1)], visibleKeys: new Set(), activeKey: 'z' });
    tracker.sync({ documents: [doc('z', 1)], visibleKeys: new Set(), activeKey: 'z' });
    // reopened: the editor starts counting at 1 again, with other text
    const reopened = tracker.sync({
      documents: [doc('a', 1, 'three'), doc('z', 1)],
      visibleKeys: new Set(),
      activeKey: 'z',
    })[0];
    assert.equal(reopened.text, 'three');
    assert.ok(reopened.version > v1 + 1);
  });

  it('sends at most maxFiles', () => {
    const tracker = new ContextFileTracker({ maxFiles: 3, maxClosedEdited: 4 });
    const docs = Array.from({ length: 10 }, (_, i) => doc(`f${i}`, 1));
    assert.equal(tracker.sync({ documents: docs, visibleKeys: new Set(), activeKey: 'f0' }).length, 3);
  });
});
