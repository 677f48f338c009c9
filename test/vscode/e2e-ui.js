#!/usr/bin/env node
// UI end-to-end test: a real VS Code (code-server) in headless chromium with Wisp loaded as
// the extension under development. Types in a TypeScript file, waits for the model's ghost
// text, accepts it with Tab, runs "Wisp: Generate Code" from the command palette, and checks
// what reached the file on disk (the editor's DOM is virtualised; the saved file is not).
// Saves a screenshot of the ghost text to media/ghost-text.png and everything to --out.
// Closing line: "N passed, N failed".
//
// usage: node test/vscode/e2e-ui.js [--ext DIR] [--model DIR] [--out DIR] [--no-media]
//   The model defaults to the bundled one (models/wisp-code-small) when it is there, else the
//   tiny test fixture; WISP_E2E_MODEL also chooses it.
'use strict';
const fs = require('fs');
const path = require('path');
const {
  ROOT,
  ensureCodeServer,
  startCodeServer,
  workbenchUrl,
  collectLogs,
  extensionHostLog,
  sleep,
} = require('./lib/code-server.js');
const { launchBrowser } = require('./lib/browser.js');
const { copyWorkspace } = require('./lib/workspace.js');
const {
  QUICK_INPUT,
  QUIET_EDITOR,
  chooseModel,
  createReport,
  runCommand,
  openFile,
  showSuggestion,
} = require('./lib/ui.js');
const { arg, flag } = require('./lib/args.js');

const EXT = path.resolve(arg('ext', ROOT));
const OUT = path.resolve(arg('out', path.join(ROOT, 'ci-artifacts', 'e2e')));
const MODEL = chooseModel(EXT); // null: the bundled default
const HARD_TIMEOUT_MS = 10 * 60 * 1000;

const GHOST_INLINE = '.ghost-text-decoration'; // the rest of the cursor's line
const GHOST_BLOCK = '.ghost-text .view-line'; // further lines of a multi-line suggestion

const { log, check, finish } = createReport(path.basename(__filename), OUT, HARD_TIMEOUT_MS);

// Settings that keep other UI out of the way: no suggest widget competing for Tab.
// The outcome must not depend on the machine's speed: a time budget that cannot run out, and the
// CPU rather than whatever adapter `auto` finds (wisp.device is machine-scoped).
const SETTINGS = {
  ...QUIET_EDITOR,
  'wisp.temperature': 0,
  'wisp.timeBudgetMs': 60000,
  // Which places get ghost text must not hang on how sure the model is there (wisp.minConfidence).
  'wisp.minConfidence': 0,
};
const MACHINE_SETTINGS = { 'wisp.device': 'cpu' };

async function ghostText(page) {
  return page.evaluate(
    ([inline, block]) => {
      const text = (els) => [...document.querySelectorAll(els)].map((e) => e.textContent.replace(/\u00a0/g, ' '));
      return { inline: text(inline).join(''), block: text(block) };
    },
    [GHOST_INLINE, GHOST_BLOCK],
  );
}

/**
 * Saves with Ctrl+S until the file on disk is `done` (by default: differs from `from`) and has
 * stopped changing; returns its text.
 */
async function saveWhenSettled(page, file, { settleMs = 3000, timeoutMs = 120000, from, done } = {}) {
  const ready = done || ((text) => text !== from);
  const end = Date.now() + timeoutMs;
  let last = null;
  let since = Date.now();
  while (Date.now() < end) {
    await page.keyboard.press('Control+S');
    await sleep(500);
    const text = fs.readFileSync(file, 'utf8');
    if (text !== last) {
      last = text;
      since = Date.now();
    } else if (ready(text) && Date.now() - since >= settleMs) break;
  }
  return last;
}

/** Waits until Generate Code's progress notification has gone: the generation has ended. */
async function generationEnded(page, timeoutMs) {
  const progress = '.notification-toast:has-text("Wisp: generating")';
  await page.waitForSelector(progress, { state: 'visible', timeout: 30000 }).catch(() => {});
  return page.waitForSelector(progress, { state: 'detached', timeout: timeoutMs }).then(
    () => true,
    () => false,
  );
}

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true }); // screenshots and logs of this run only
  fs.mkdirSync(OUT, { recursive: true });
  ensureCodeServer();
  const ws = copyWorkspace();
  const file = path.join(ws.dir, 'sample.ts');
  const model = MODEL ? { 'wisp.model': path.resolve(MODEL) } : {};
  const cs = await startCodeServer({
    settings: { ...SETTINGS, ...model },
    machineSettings: { ...MACHINE_SETTINGS, ...model },
  });
  log(
    `code-server on ${cs.host} after ${cs.startMs} ms; model ${MODEL ? path.resolve(MODEL) : 'bundled wisp-code-small'}`,
  );
  let browser;
  let page;
  try {
    browser = await launchBrowser();
    page = browser.page;
    page.on('pageerror', (e) => log('page error:', e.message));
    await page.goto(workbenchUrl({ host: cs.host, folder: ws.dir, extensionDevelopmentPath: EXT }));
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 120000 });
    log('workbench up');
    const activated = await waitForLog(cs.userDataDir, /_doActivateExtension wisp-dev\.wisp/, 60000);
    check('Wisp activates in the Node extension host', activated);

    // Quick Open searches files with ripgrep: this also proves the seeded rg works.
    await openFile(page, 'sample.ts');

    // Inside the empty body of fibonacci(), or at another line end if the model suggests nothing there.
    const original = fs.readFileSync(file, 'utf8');
    const lines = original.split('\n');
    const bodyLine = lines.findIndex((l) => l.startsWith('export function fibonacci')) + 2;
    const typedAt = Date.now();
    const place = await showSuggestion(page, {
      line: bodyLine,
      text: 'return n < 2 ? n : ',
      lineCount: lines.length,
      waitMs: 60000,
    });
    const ghost = await settledGhost(page, 60000);
    const shown = check(
      'ghost text from the model appears after typing',
      place && (ghost.inline || ghost.block.length),
      `${Date.now() - typedAt} ms after typing began, line ${place && place.line}: ${JSON.stringify(ghost)}`,
    );
    if (shown) {
      await page.screenshot({ path: path.join(OUT, 'ghost-text.png') });
      if (!flag('no-media')) {
        fs.mkdirSync(path.join(ROOT, 'media'), { recursive: true });
        fs.copyFileSync(path.join(OUT, 'ghost-text.png'), path.join(ROOT, 'media', 'ghost-text.png'));
      }
      await page.keyboard.press('Tab');
      const accepted = await saveWhenSettled(page, file, { settleMs: 1000, timeoutMs: 60000, from: original });
      const expected = place.typed + ghost.inline;
      check(
        'Tab inserts the ghost text into the document',
        accepted.includes(expected) && accepted.length > original.length + place.typed.length,
        `expected the file to contain ${JSON.stringify(expected)}`,
      );
    }

    // Wisp: Generate Code on a new line at the end. With nothing selected it asks what to write,
    // puts that in a comment and streams the code under it.
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    const before = await saveWhenSettled(page, file, { settleMs: 500, timeoutMs: 30000, done: () => true });
    await runCommand(page, 'Wisp: Generate Code');
    const instruction = 'a function that returns the sum of an array of numbers';
    // The palette's own input starts with '>': wait for an input box that does not.
    const asked = await page
      .waitForFunction(
        (sel) => {
          const input = document.querySelector(sel);
          return input && input.offsetParent !== null && !input.value.startsWith('>');
        },
        QUICK_INPUT,
        { timeout: 30000 },
      )
      .then(
        () => true,
        () => false,
      );
    check('Generate Code asks what to write', asked);
    if (asked) {
      await page.keyboard.type(instruction);
      await page.keyboard.press('Enter');
    }
    // The code streams in after the header line, at the speed of the machine: wait for the
    // generation to end, then for the file on disk to hold it.
    const header = `// ${instruction}\n`;
    const codeAfter = (text) => {
      const added = text.slice(before.length);
      return added.startsWith(header) ? added.slice(header.length) : added;
    };
    const ended = await generationEnded(page, 300000);
    log(`generation ${ended ? 'ended' : 'still running after 300 s'}`);
    const generated = await saveWhenSettled(page, file, {
      settleMs: 1000,
      timeoutMs: 60000,
      done: (text) => codeAfter(text).trim().length > 0,
    });
    await page.screenshot({ path: path.join(OUT, 'generate.png') });
    const added = generated.slice(before.length);
    const code = codeAfter(generated);
    check(
      'Generate Code streams code into the document',
      generated.startsWith(before) && code.trim().length > 0,
      JSON.stringify(added.slice(0, 300)),
    );
    fs.copyFileSync(file, path.join(OUT, 'sample.ts.after'));

    // One Ctrl+Z takes back the whole generation, the header line with the code.
    await page.keyboard.press('Control+Z');
    const undone = await saveWhenSettled(page, file, { settleMs: 1000, timeoutMs: 30000, from: generated });
    check(
      'one Ctrl+Z undoes the whole generation',
      undone === before,
      `left ${JSON.stringify(undone.slice(before.length, before.length + 200))} after the text before it`,
    );

    const errors = extensionHostLog(cs.userDataDir)
      .split('\n')
      .filter((l) => /\[error\]/.test(l) && /wisp/i.test(l));
    check('no Wisp errors in the extension host log', errors.length === 0, errors.slice(0, 5).join('\n'));
  } finally {
    if (browser) {
      await page.screenshot({ path: path.join(OUT, 'last.png') }).catch(() => {});
      await browser.close();
    }
    collectLogs(cs.userDataDir, OUT);
    await cs.stop();
    ws.remove();
  }
}

/** The ghost text once it has stopped changing (a suggestion streams in as it is generated). */
async function settledGhost(page, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let last = await ghostText(page);
  let since = Date.now();
  while (Date.now() < end) {
    await sleep(250);
    const now = await ghostText(page);
    if (JSON.stringify(now) !== JSON.stringify(last)) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= 1000) break;
  }
  return last;
}

async function waitForLog(userDataDir, pattern, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pattern.test(extensionHostLog(userDataDir))) return true;
    await sleep(500);
  }
  return false;
}

finish(main);
