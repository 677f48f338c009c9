// Entry point of the extension-host test run (the extensionTestsPath contract that
// @vscode/test-electron and test/vscode/run-suites.js both follow): VS Code loads this module
// inside the extension host and awaits run(); a rejection means the run failed.
import * as fs from 'fs';
import * as path from 'path';
import * as mochaModule from 'mocha';

// mocha 12 is an ES module; required from CommonJS its namespace carries the class as `default`.
const Mocha = ((mochaModule as { default?: unknown }).default ?? mochaModule) as typeof import('mocha');

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false, // the output is forwarded as plain log lines
    timeout: 180_000, // a deadline for hangs, far above what a busy 2-core machine needs
    grep: process.env.WISP_SUITE_GREP,
  });
  // Each *.test.js is a self-contained bundle next to this file.
  for (const file of fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .sort()) {
    mocha.addFile(path.join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
    } catch (err) {
      reject(err);
    }
  });
}
