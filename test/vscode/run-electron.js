#!/usr/bin/env node
// The same extension-host suites (out/test/suite) through @vscode/test-electron, for machines
// where desktop VS Code can run: it downloads VS Code (or uses VSCODE_EXECUTABLE) and starts it
// with --extensionDevelopmentPath / --extensionTestsPath. CI, which cannot download VS Code,
// uses run-suites.js instead. Closing line: "N passed, N failed".
//
// usage: node test/vscode/run-electron.js [--model DIR]
//   env: VSCODE_VERSION (default 1.100.3), VSCODE_EXECUTABLE (an installed VS Code binary),
//        WISP_TEST_MODEL (the model folder; default the tiny fixture).
// Needs the devDependency @vscode/test-electron.
'use strict';
const fs = require('fs');
const path = require('path');
const { Writable } = require('stream');
const { copyWorkspace, testModel } = require('./lib/workspace.js');
const { arg } = require('./lib/args.js');

const ROOT = path.resolve(__dirname, '../..');
const MODEL = path.resolve(arg('model', testModel()));

function tee(target, counts) {
  let pending = '';
  return new Writable({
    write(chunk, _encoding, done) {
      target.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const m = /^\s*(\d+) (passing|failing)\b/.exec(line);
        if (m) counts[m[2] === 'passing' ? 'passed' : 'failed'] += Number(m[1]);
      }
      done();
    },
  });
}

async function main() {
  let testElectron;
  try {
    testElectron = require('@vscode/test-electron');
  } catch {
    throw new Error('@vscode/test-electron is not installed (npm install --save-dev @vscode/test-electron)');
  }
  const ws = copyWorkspace();
  const userDataDir = fs.mkdtempSync(path.join('/tmp', 'wisp-vscode-'));
  // A desktop window reads machine-scoped settings such as wisp.model from the user settings.
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'wisp.model': MODEL,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'workbench.startupEditor': 'none',
      },
      null,
      2,
    ),
  );
  const counts = { passed: 0, failed: 0 };
  try {
    await testElectron.runTests({
      version: process.env.VSCODE_VERSION || '1.100.3',
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: path.join(ROOT, 'out', 'test', 'suite'),
      launchArgs: [ws.dir, `--user-data-dir=${userDataDir}`, '--disable-extensions'],
      extensionTestsEnv: { WISP_TEST_MODEL: MODEL },
      stdout: tee(process.stdout, counts),
      stderr: tee(process.stderr, counts),
    });
  } catch (err) {
    console.error(err.message || err);
    if (counts.failed === 0) counts.failed = 1;
  } finally {
    ws.remove();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  return counts;
}

main().then(
  ({ passed, failed }) => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  },
  (err) => {
    console.error(err.message || err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
