#!/usr/bin/env node
// Runs the mocha suites of out/test/suite inside a real VS Code extension host (code-server's
// Node extension host, where onnxruntime-node loads), with Wisp loaded as the extension under
// development and test/workspace (a copy) open. The model is the tiny test fixture unless
// --model or WISP_TEST_MODEL says otherwise.
// Closing line: "N passed, N failed"; exit code 0 only when all passed.
//
// usage: node test/vscode/run-suites.js [--ext DIR] [--tests DIR] [--model DIR]
//                                       [--timeout SECONDS] [--artifacts DIR]
//   env: WISP_SUITE_GREP runs only the tests whose title matches.
'use strict';
const fs = require('fs');
const path = require('path');
const { ROOT, ensureCodeServer } = require('./lib/code-server.js');
const { runExtensionTests } = require('./lib/extension-tests.js');
const { copyWorkspace, testModel } = require('./lib/workspace.js');
const { arg } = require('./lib/args.js');
const os = require('os');

const EXT = path.resolve(arg('ext', ROOT));
const TESTS = path.resolve(arg('tests', path.join(ROOT, 'out', 'test', 'suite')));
const MODEL = path.resolve(arg('model', testModel()));
const TIMEOUT_MS = Number(arg('timeout', '240')) * 1000;
const ARTIFACTS = path.resolve(arg('artifacts', path.join(ROOT, 'ci-artifacts', 'suites')));

/** User settings of every suite run; a suite that changes one puts the harness value back. */
const HARNESS_SETTINGS = {
  'wisp.contextCache': false,
  'wisp.contextFromOtherFiles': false,
  'wisp.timeBudgetMs': 60000,
  'wisp.device': 'cpu',
  // The fixture model is random, so never confident: every suggestion is shown here (and in the
  // cli.js runs the suites compare with); confidence.test.ts turns the threshold on.
  'wisp.minConfidence': 0,
};

const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1)}s]`;

async function main() {
  if (!fs.existsSync(path.join(TESTS, 'index.js'))) throw new Error(`no ${TESTS}/index.js: run npm run compile first`);
  fs.rmSync(ARTIFACTS, { recursive: true, force: true }); // logs of this run only
  ensureCodeServer();
  const ws = copyWorkspace();
  console.log(`${stamp()} model ${MODEL}`);
  try {
    // wisp.model is machine-scoped. code-server takes machine settings from User/settings.json
    // and from Machine/settings.json (which wins); both say the same here. The fixture model is
    // random: the context cache would outvote it everywhere (it copies text the post-processing
    // then drops) and other open editors would change its suggestions from one test to the next.
    // Both are off here, as they are in the cli.js runs the suites compare with, and on in
    // context-files.test.ts, which is about them. The suites are about the editor, not the device:
    // they pin the CPU (machine-scoped like wisp.model), whatever accelerator the machine has.
    const result = await runExtensionTests({
      extensionDevelopmentPath: EXT,
      extensionTestsPath: TESTS,
      folder: ws.dir,
      // A test's outcome must not depend on the machine's speed: no time budget that a slow or
      // busy machine runs out of, and the CPU rather than whatever adapter `auto` finds.
      settings: { ...HARNESS_SETTINGS, 'wisp.model': MODEL },
      machineSettings: { 'wisp.model': MODEL, 'wisp.device': 'cpu' },
      // The extension host gets a HOME of its own: the llama-server build and GGUFs stay in the user's cache.
      env: {
        WISP_TEST_MODEL: MODEL,
        WISP_CACHE:
          process.env.WISP_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'wisp'),
      },
      timeoutMs: TIMEOUT_MS,
      artifacts: ARTIFACTS,
    });
    console.log(`${stamp()} extension tests exited with ${result.code}`);
    // A run that stopped early (crash, timeout) has failed even if mocha counted no failure.
    if (result.code !== 0 && result.failed === 0) result.failed = 1;
    return result;
  } finally {
    ws.remove();
  }
}

// Ctrl-C or a supervisor's SIGTERM: exit, which stops code-server (see lib/code-server.js).
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
// Never hang CI, even if stopping things gets stuck.
setTimeout(() => {
  console.error('run-suites: hard timeout');
  console.log('0 passed, 1 failed');
  process.exit(124);
}, TIMEOUT_MS + 60000).unref();

main().then(
  ({ passed, failed }) => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  },
  (err) => {
    console.error(err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
