#!/usr/bin/env node
// The token view in a real VS Code (code-server in headless chromium), for the README: types in a
// TypeScript file, waits for the ghost text, opens "Wisp: Show Token View" from the command
// palette, samples two tokens, and saves a screenshot to media/token-view.png (and to --out, with
// one at a narrow window width). Checks on the way that the view rendered its tokens, both charts
// and the preview, with no Content-Security-Policy violation in the page.
// Closing line: "N passed, N failed".
//
// usage: node test/vscode/token-view-shot.js [--ext DIR] [--model DIR] [--out DIR] [--no-media]
//   The model defaults to the bundled one (models/wisp-code-small) when it is there, else the
//   tiny test fixture; WISP_E2E_MODEL also chooses it.
'use strict';
const fs = require('fs');
const path = require('path');
const { ROOT, ensureCodeServer, startCodeServer, workbenchUrl, collectLogs, sleep } = require('./lib/code-server.js');
const { launchBrowser } = require('./lib/browser.js');
const { copyWorkspace } = require('./lib/workspace.js');
const { QUIET_EDITOR, chooseModel, createReport, runCommand, openFile, showSuggestion } = require('./lib/ui.js');
const { arg, flag } = require('./lib/args.js');

const EXT = path.resolve(arg('ext', ROOT));
const OUT = path.resolve(arg('out', path.join(ROOT, 'ci-artifacts', 'token-view')));
const MODEL = chooseModel(EXT); // null: the bundled default
const HARD_TIMEOUT_MS = 6 * 60 * 1000;

const { log, check, finish } = createReport(path.basename(__filename), OUT, HARD_TIMEOUT_MS);

// Sampling that shows both sides of the filter: ten kept, the rest of the top 20 excluded.
const SETTINGS = {
  ...QUIET_EDITOR,
  'editor.minimap.enabled': false,
  'wisp.temperature': 0.8,
  'wisp.topK': 10,
  'wisp.topP': 0.95,
};

/** The frame holding the token view's page (webviews are nested iframes), once it shows data. */
async function tokenViewFrame(page, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const frame of page.frames()) {
      const rows = await frame.evaluate(() => document.querySelectorAll('#root .bar-row').length).catch(() => 0);
      if (rows > 0) return frame;
    }
    await sleep(300);
  }
  return undefined;
}

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true }); // screenshots and logs of this run only
  fs.mkdirSync(OUT, { recursive: true });
  ensureCodeServer();
  const ws = copyWorkspace();
  const model = MODEL ? { 'wisp.model': path.resolve(MODEL) } : {};
  const cs = await startCodeServer({ settings: { ...SETTINGS, ...model }, machineSettings: model });
  log(
    `code-server on ${cs.host} after ${cs.startMs} ms; model ${MODEL ? path.resolve(MODEL) : 'bundled wisp-code-small'}`,
  );
  const browser = await launchBrowser({ viewport: { width: 1440, height: 1280 } });
  const { page } = browser;
  const cspViolations = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => log('page error:', e.message));
  try {
    await page.goto(workbenchUrl({ host: cs.host, folder: ws.dir, extensionDevelopmentPath: EXT }));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 120000 });
    log('workbench up');

    await openFile(page, 'sample.ts');

    const lines = fs.readFileSync(path.join(ws.dir, 'sample.ts'), 'utf8').split('\n');
    const fibLine = lines.findIndex((l) => l.startsWith('export function fibonacci')) + 2;
    check(
      'a suggestion is on screen before the view opens',
      await showSuggestion(page, { line: fibLine, text: 'return n < 2 ? n : ', lineCount: lines.length }),
    );

    await runCommand(page, 'Wisp: Show Token View');
    const frame = await tokenViewFrame(page, 60000);
    if (!check('the token view shows its charts', frame)) return;

    const summary = () =>
      frame.evaluate(() => ({
        tokens: document.querySelectorAll('.tokens .token').length,
        charts: document.querySelectorAll('.chart').length,
        excluded: document.querySelectorAll('.bar-row.excluded').length,
        sliders: document.querySelectorAll('input[type=range]').length,
        drawn: document.querySelectorAll('.preview .drawn').length,
        suggestion: document.querySelectorAll('.suggestion .scored').length,
      }));
    const before = await summary();
    check(
      'context tokens, two charts with excluded candidates, three sliders',
      before.tokens > 0 && before.charts === 2 && before.excluded > 0 && before.sliders === 3,
      JSON.stringify(before),
    );
    check('the suggestion is shaded token by token', before.suggestion > 0, JSON.stringify(before));

    for (let i = 1; i <= 2; i++) {
      await frame.click('button.sample');
      await frame
        .waitForFunction((n) => document.querySelectorAll('.preview .drawn').length >= n, i, { timeout: 15000 })
        .catch(() => {});
    }
    const after = await summary();
    check('the sample button appends drawn tokens to the preview', after.drawn === 2, JSON.stringify(after));
    // The clicks scrolled the panel down; the picture starts at its top.
    await frame.evaluate(() => window.scrollTo(0, 0));
    await sleep(500);

    await page.screenshot({ path: path.join(OUT, 'token-view.png') });
    if (!flag('no-media')) {
      fs.mkdirSync(path.join(ROOT, 'media'), { recursive: true });
      fs.copyFileSync(path.join(OUT, 'token-view.png'), path.join(ROOT, 'media', 'token-view.png'));
    }

    // Narrow window: the panel gets a third of it; the charts stack and nothing spills sideways.
    await page.setViewportSize({ width: 760, height: 1280 });
    await sleep(1000);
    const narrow = await frame.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      width: document.documentElement.clientWidth,
    }));
    await page.screenshot({ path: path.join(OUT, 'token-view-narrow.png') });
    check('usable at a narrow width (no horizontal overflow)', narrow.overflow <= 1, JSON.stringify(narrow));

    check('no Content-Security-Policy violations', cspViolations.length === 0, cspViolations.slice(0, 3).join('\n'));
  } finally {
    await page.screenshot({ path: path.join(OUT, 'last.png') }).catch(() => {});
    await browser.close();
    collectLogs(cs.userDataDir, OUT);
    await cs.stop();
    ws.remove();
  }
}

finish(main);
