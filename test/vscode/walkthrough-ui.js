#!/usr/bin/env node
// The Getting Started walkthrough in a real workbench (code-server in headless chromium): "Wisp:
// Getting Started" opens it (workbench.action.openWalkthrough with wisp-dev.wisp#wisp.gettingStarted),
// its three choices are on the page, and the first step's Test Completion button runs a completion
// whose answer comes up as a notification. Saves the page to media/walkthrough.png (and to --out).
// The mocha suites cannot check the page itself: in extension-test mode the workbench never
// registers an extension's walkthrough (openWalkthrough falls back to its first one).
// Closing line: "N passed, N failed".
//
// usage: node test/vscode/walkthrough-ui.js [--ext DIR] [--model DIR] [--out DIR] [--no-media]
//   The model defaults to the bundled one (models/wisp-code-small) when it is there, else the
//   tiny test fixture; WISP_E2E_MODEL also chooses it.
'use strict';
const fs = require('fs');
const path = require('path');
const { ROOT, ensureCodeServer, startCodeServer, workbenchUrl, collectLogs, sleep } = require('./lib/code-server.js');
const { launchBrowser } = require('./lib/browser.js');
const { copyWorkspace } = require('./lib/workspace.js');
const { QUIET_EDITOR, chooseModel, createReport, runCommand } = require('./lib/ui.js');
const { arg, flag } = require('./lib/args.js');

const EXT = path.resolve(arg('ext', ROOT));
const OUT = path.resolve(arg('out', path.join(ROOT, 'ci-artifacts', 'walkthrough')));
const MODEL = chooseModel(EXT); // null: the bundled default
const HARD_TIMEOUT_MS = 6 * 60 * 1000;

const { log, check, finish } = createReport(path.basename(__filename), OUT, HARD_TIMEOUT_MS);

const manifest = JSON.parse(fs.readFileSync(path.join(EXT, 'package.json'), 'utf8'));
const TITLE = `Walkthrough: ${manifest.displayName}`;
const WALKTHROUGH = manifest.contributes.walkthroughs[0].title;
const STEPS = manifest.contributes.walkthroughs[0].steps.map((s) => s.title);

const tabLabels = (page) =>
  page.evaluate(() => [...document.querySelectorAll('.tabs-container .tab .label-name')].map((e) => e.textContent));

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  ensureCodeServer();
  const ws = copyWorkspace();
  const model = MODEL ? { 'wisp.model': path.resolve(MODEL) } : {};
  const cs = await startCodeServer({ settings: { ...QUIET_EDITOR, ...model }, machineSettings: model });
  log(`code-server on ${cs.host}; model ${MODEL ? path.resolve(MODEL) : 'bundled wisp-code-small'}`);
  const browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
  const { page } = browser;
  page.on('pageerror', (e) => log('page error:', e.message));
  try {
    await page.goto(workbenchUrl({ host: cs.host, folder: ws.dir, extensionDevelopmentPath: EXT }));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 120000 });
    log('workbench up');
    // Wisp's commands reach the palette once the extension host has registered it.
    await page.locator('.part.statusbar').getByText('Wisp').first().waitFor({ timeout: 120000 });
    log('Wisp is in the status bar');

    // The text of the walkthrough on show: the page's details slide, while the page shows it (the
    // categories slide lists every walkthrough's title too).
    const pageText = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('.showDetails .gettingStartedSlideDetails')].map((e) => e.innerText).join('\n'),
      );
    // Extensions' walkthroughs are registered some seconds after start-up; before that, the page
    // shows another one. Ask again until ours is on the page.
    let text = '';
    const end = Date.now() + 90000;
    while (Date.now() < end && !text.includes(WALKTHROUGH)) {
      await page.keyboard.press('Escape');
      await runCommand(page, 'Wisp: Getting Started');
      await sleep(3000);
      text = await pageText();
    }
    check('Wisp: Getting Started opens the walkthrough', text.includes(WALKTHROUGH), text.slice(0, 200));
    const labels = await tabLabels(page);
    check(`its tab is "${TITLE}"`, labels.includes(TITLE), `tabs: ${labels.join(' | ')}`);
    for (const step of STEPS)
      check(`the step "${step}" is on the page`, text.includes(step.slice(0, 30)), text.slice(0, 300));

    await page.locator('.getting-started-step.expanded').getByText('Test Completion', { exact: true }).click();
    const note = page.locator('.notification-list-item-message', { hasText: 'Wisp: the local engine (' });
    const shown = await note
      .first()
      .waitFor({ timeout: 60000 })
      .then(
        () => true,
        () => false,
      );
    const message = shown ? await note.first().innerText() : '';
    check(
      'its Test Completion button shows what the model wrote',
      shown && /completed "return ▌" with ".*" in \d+ ms/.test(message),
      message,
    );
    await sleep(1000);
    await page.screenshot({ path: path.join(OUT, 'walkthrough.png') });
    if (!flag('no-media'))
      fs.copyFileSync(path.join(OUT, 'walkthrough.png'), path.join(ROOT, 'media', 'walkthrough.png'));
  } finally {
    await browser.close();
    collectLogs(cs.userDataDir, OUT);
    ws.remove();
  }
}

finish(main);
