'use strict';
const fs = require('fs');
const path = require('path');
const { ROOT } = require('./code-server.js');

/** A throw-away copy of test/workspace, so tests can edit files and workspace settings.
 *  Also removed at process exit, should a run end early. */
function copyWorkspace() {
  const parent = fs.mkdtempSync(path.join('/tmp', 'wisp-ws-'));
  const dir = path.join(parent, 'workspace'); // the name the window shows
  fs.cpSync(path.join(ROOT, 'test', 'workspace'), dir, { recursive: true });
  const remove = () => fs.rmSync(parent, { recursive: true, force: true });
  process.on('exit', remove);
  return { dir, remove };
}

/** The model the tests load: WISP_TEST_MODEL, else the tiny fixture (fast, random weights). */
function testModel() {
  return path.resolve(process.env.WISP_TEST_MODEL || path.join(ROOT, 'test', 'fixtures', 'tiny-gpt'));
}

module.exports = { copyWorkspace, testModel };
