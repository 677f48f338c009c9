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
const HARD_TIMEOUT_MS = 5 * 60 * 1000;

const GHOST_INLINE = '.ghost-text-decoration'; // the rest of the cursor's line
const GHOST_BLOCK = '.ghost-text .view-line'; // further lines of a multi-line suggestion

const { log, check, finish } = createReport(path.basename(__filename), OUT, HARD_TIMEOUT_MS);

// Settings that keep other UI out of the way: no suggest widget competing for Tab.
const SETTINGS = {
  ...QUIET_EDITOR,
  'wisp.temperature': 0,
};

async function ghostText(page) {
  return page.evaluate(
    ([inline, block]) => {
      const text = (els) => [...document.querySelectorAll(els)].map((e) => e.textContent.replace(/\u00a0/g, ' '));
      return { inline: text(inline).join(''), block: text(block) };
    },
    [GHOST_INLINE, GHOST_BLOCK],
  );
}

/** Saves with Ctrl+S until the file on disk stops changing; returns its text. */
async function saveWhenSettled(page, file, { settleMs = 3000, timeoutMs = 120000, from } = {}) {
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
    } else if (text !== from && Date.now() - since >= settleMs) break;
  }
  return last;
}

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true }); // screenshots and logs of this run only
  fs.mkdirSync(OUT, { recursive: true });
  ensureCodeServer();
  const ws = copyWorkspace();
  const file = path.join(ws.dir, 'sample.ts');
  // The UI tests are about the editor, not the device: the CPU is pinned (a machine-scoped setting).
  const machine = { 'wisp.device': 'cpu', ...(MODEL ? { 'wisp.model': path.resolve(MODEL) } : {}) };
  const cs = await startCodeServer({ settings: { ...SETTINGS, ...machine }, machineSettings: machine });
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
    const ghost = await waitForGhost(page, 5000);
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
      await sleep(500);
      const accepted = await saveWhenSettled(page, file, { settleMs: 1000, timeoutMs: 15000, from: original });
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
    const before = await saveWhenSettled(page, file, { settleMs: 500, timeoutMs: 10000 });
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
        { timeout: 10000 },
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
    const generated = await saveWhenSettled(page, file, { settleMs: 3000, timeoutMs: 120000, from: before });
    await page.screenshot({ path: path.join(OUT, 'generate.png') });
    const header = `// ${instruction}\n`;
    const added = generated.slice(before.length);
    const code = added.startsWith(header) ? added.slice(header.length) : added;
    check(
      'Generate Code streams code into the document',
      generated.startsWith(before) && code.trim().length > 0,
      JSON.stringify(added.slice(0, 300)),
    );
    fs.copyFileSync(file, path.join(OUT, 'sample.ts.after'));

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

async function waitForGhost(page, timeoutMs) {
  await page.waitForSelector(`${GHOST_INLINE}, ${GHOST_BLOCK}`, { timeout: timeoutMs }).catch(() => {});
  await sleep(300); // let a streaming suggestion finish rendering
  return ghostText(page);
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
