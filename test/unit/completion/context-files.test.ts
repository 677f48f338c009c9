import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BACKGROUND_WEIGHT,
  ContextFileTracker,
  OpenDocument,
  VISIBLE_WEIGHT,
} from '../../../src/completion/context-files';
import { DEFAULT_SETTINGS } from '../../../src/settings';

function doc(key: string, version: number, text = `${key} v${version}`): OpenDocument {
  return { key, path: `${key}.ts`, version, text: () => text };
}

describe('related files chosen for the engine', () => {
  it('leaves out the active document, puts visible editors first, then the most recently touched', () => {
    const tracker = new ContextFileTracker();
    tracker.sync({
      documents: [doc('a', 1), doc('b', 1), doc('c', 1)],
      visibleKeys: new Set(['a']),
      activeKey: 'b',
      exclude: [],
    });
    tracker.sync({
      documents: [doc('a', 1), doc('b', 1), doc('c', 1)],
      visibleKeys: new Set(['a']),
      activeKey: 'c',
      exclude: [],
    });
    const files = tracker.sync({
      documents: [doc('a', 1), doc('b', 1), doc('c', 1), doc('d', 1)],
      visibleKeys: new Set(['a', 'd']),
      activeKey: 'd',
      exclude: [],
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
    tracker.sync({ documents: [doc('a', 1), doc('b', 1)], visibleKeys: new Set(), activeKey: 'a', exclude: [] });
    tracker.sync({ documents: [doc('a', 2), doc('b', 1)], visibleKeys: new Set(), activeKey: 'b', exclude: [] });
    const files = tracker.sync({ documents: [doc('c', 1)], visibleKeys: new Set(), activeKey: 'c', exclude: [] });
    assert.deepEqual(
      files.map((f) => [f.key, f.text]),
      [['a', 'a v2']],
    );
  });

  it('keeps only the most recent closed edited files', () => {
    const tracker = new ContextFileTracker({ maxFiles: 8, maxClosedEdited: 2 });
    for (const key of ['a', 'b', 'c']) {
      tracker.sync({ documents: [doc(key, 1)], visibleKeys: new Set(), activeKey: 'x', exclude: [] });
      tracker.sync({ documents: [doc(key, 2)], visibleKeys: new Set(), activeKey: 'x', exclude: [] });
    }
    const files = tracker.sync({ documents: [], visibleKeys: new Set(), activeKey: undefined, exclude: [] });
    assert.deepEqual(
      files.map((f) => f.key),
      ['c', 'b'],
    );
  });

  it("gives a new version whenever the text changes, even when the editor's version number repeats", () => {
    const tracker = new ContextFileTracker();
    const v1 = tracker.sync({
      documents: [doc('a', 1, 'one'), doc('z', 1)],
      visibleKeys: new Set(),
      activeKey: 'z',
      exclude: [],
    })[0].version;
    const same = tracker.sync({
      documents: [doc('a', 1, 'one'), doc('z', 1)],
      visibleKeys: new Set(),
      activeKey: 'z',
      exclude: [],
    })[0].version;
    assert.equal(same, v1);
    tracker.sync({ documents: [doc('a', 2, 'two'), doc('z', 1)], visibleKeys: new Set(), activeKey: 'z', exclude: [] });
    tracker.sync({ documents: [doc('z', 1)], visibleKeys: new Set(), activeKey: 'z', exclude: [] });
    // reopened: the editor starts counting at 1 again, with other text
    const reopened = tracker.sync({
      documents: [doc('a', 1, 'three'), doc('z', 1)],
      visibleKeys: new Set(),
      activeKey: 'z',
      exclude: [],
    })[0];
    assert.equal(reopened.text, 'three');
    assert.ok(reopened.version > v1 + 1);
  });

  it('sends at most maxFiles', () => {
    const tracker = new ContextFileTracker({ maxFiles: 3, maxClosedEdited: 4 });
    const docs = Array.from({ length: 10 }, (_, i) => doc(`f${i}`, 1));
    assert.equal(tracker.sync({ documents: docs, visibleKeys: new Set(), activeKey: 'f0', exclude: [] }).length, 3);
  });

  it('never reads a file wisp.exclude names, and forgets one read before it was excluded', () => {
    const tracker = new ContextFileTracker();
    const unreadable = (key: string, path: string, absolutePath?: string): OpenDocument => ({
      key,
      path,
      absolutePath,
      version: 1,
      text: () => assert.fail(`${path} was read`),
    });
    const exclude = DEFAULT_SETTINGS.exclude;
    const files = tracker.sync({
      documents: [
        unreadable('env', '.env'),
        unreadable('envlocal', 'config/.env.local'),
        unreadable('key', 'certs/server.key'),
        unreadable('pem', 'tls.pem'),
        unreadable('secrets', 'app/secrets.json'),
        unreadable('ssh', 'id_ed25519', '/home/u/.ssh/id_ed25519'),
        doc('code', 1),
        doc('z', 1),
      ],
      visibleKeys: new Set(['env']),
      activeKey: 'z',
      exclude,
    });
    assert.deepEqual(
      files.map((f) => f.key),
      ['code'],
    );

    const later = new ContextFileTracker();
    later.sync({ documents: [doc('notes', 1), doc('z', 1)], visibleKeys: new Set(), activeKey: 'z', exclude: [] });
    later.sync({ documents: [doc('notes', 2), doc('z', 1)], visibleKeys: new Set(), activeKey: 'z', exclude: [] });
    // Edited, then closed: kept; the user then excludes it.
    assert.equal(
      later.sync({ documents: [doc('z', 1)], visibleKeys: new Set(), activeKey: 'z', exclude: [] }).length,
      1,
    );
    const excluded = later.sync({
      documents: [doc('z', 1)],
      visibleKeys: new Set(),
      activeKey: 'z',
      exclude: ['notes.*'],
    });
    assert.deepEqual(excluded, []);
  });
});
