#!/usr/bin/env node
// Stands in for a desktop VS Code executable (VSCODE_EXECUTABLE for run-electron.js) where none
// can be installed: takes the flags @vscode/test-electron passes (--extensionDevelopmentPath=,
// --extensionTestsPath=, --user-data-dir=, a folder), runs the tests in code-server's extension
// host like run-suites.js does, prints their output and exits with their exit code.
// Desktop-only flags (--no-sandbox, --disable-gpu-sandbox, ...) are accepted and ignored.
'use strict';
const fs = require('fs');
const { runExtensionTests } = require('./lib/extension-tests.js');

const opts = { dev: [], folders: [] };
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) {
    if (!a.startsWith('-')) opts.folders.push(a);
    continue;
  }
  if (m[1] === 'extensionDevelopmentPath') opts.dev.push(m[2]);
  else if (m[1] === 'extensionTestsPath') opts.tests = m[2];
  else if (m[1] === 'user-data-dir') opts.userDataDir = m[2];
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

runExtensionTests({
  extensionDevelopmentPath: opts.dev,
  extensionTestsPath: opts.tests,
  userDataDir: opts.userDataDir,
  folder: opts.folders.find((f) => fs.existsSync(f)),
  timeoutMs: Number(process.env.WISP_TEST_TIMEOUT_S || 300) * 1000,
}).then(
  ({ code }) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
