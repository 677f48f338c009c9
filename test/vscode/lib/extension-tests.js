// Runs an extensionTestsPath (a module exporting run()) inside code-server's Node extension
// host. The workbench, opened in headless chromium, reports the extension host's output and
// the run's exit code through window.codeAutomationLog / codeAutomationExit when the page
// defines them: the same hooks desktop VS Code's test mode uses, so suites written for
// @vscode/test-electron run unchanged.
'use strict';
const util = require('util');
const { startCodeServer, workbenchUrl, collectLogs, extensionHostLog } = require('./code-server.js');
const { launchBrowser } = require('./browser.js');

// Noise of an offline workbench, not of the tests.
const NOISE =
  /vsda|Ignoring fetching additional builtin extensions|Creating a socket|connection token|Service Worker|ChatSessionStore|Updating additional builtin/;

/**
 * Resolves to { code, passed, failed }: the exit code the run reported (124 on timeout) and
 * the counts from mocha's "N passing" / "N failing" lines.
 */
async function runExtensionTests({
  extensionDevelopmentPath,
  extensionTestsPath,
  folder,
  userDataDir,
  settings,
  machineSettings,
  env,
  timeoutMs = 300000,
  artifacts,
  print = console.log,
}) {
  const cs = await startCodeServer({ userDataDir, settings, machineSettings, env });
  print(`code-server on ${cs.host} after ${cs.startMs} ms`);
  const counts = { passed: 0, failed: 0 };
  let code = 1;
  let browser;
  try {
    browser = await launchBrowser();
    let exit;
    const exited = new Promise((resolve) => {
      exit = resolve;
    });
    await browser.page.exposeFunction('codeAutomationLog', (type, args) => {
      const line = util.format(...(args || []));
      if (NOISE.test(line)) return;
      const m = /^\s*(\d+) (passing|failing)\b/.exec(line);
      if (m) counts[m[2] === 'passing' ? 'passed' : 'failed'] += Number(m[1]);
      print(line);
    });
    await browser.page.exposeFunction('codeAutomationExit', (c) => exit(c));
    browser.page.on('pageerror', (e) => print(`page error: ${e.message}`));
    await browser.page.goto(workbenchUrl({ host: cs.host, folder, extensionDevelopmentPath, extensionTestsPath }));
    const timer = setTimeout(() => {
      print(`extension tests timed out after ${timeoutMs / 1000} s`);
      exit(124);
    }, timeoutMs);
    code = await exited;
    clearTimeout(timer);
  } finally {
    if (browser) await browser.close();
    if (artifacts) collectLogs(cs.userDataDir, artifacts);
    if (code !== 0) {
      print(`--- extension host log (tail${artifacts ? `; all logs in ${artifacts}` : ''}) ---`);
      print(
        extensionHostLog(cs.userDataDir)
          .split('\n')
          .filter((l) => !/Accessing a resource scoped configuration/.test(l))
          .slice(-30)
          .join('\n'),
      );
    }
    await cs.stop();
  }
  return { code: typeof code === 'number' ? code : 1, ...counts };
}

module.exports = { runExtensionTests };
