// What the UI scripts (e2e-ui.js, token-view-shot.js) share: the checks they report, the model
// they run, editor settings that keep other UI out of the way, and keyboard-driven steps in the
// workbench. Each script prints its checks and the closing line "N passed, N failed".
'use strict';
const fs = require('fs');
const path = require('path');
const { testModel } = require('./workspace.js');
const { arg } = require('./args.js');

const QUICK_INPUT = '.quick-input-widget input';
const GHOST = '.ghost-text-decoration, .ghost-text .view-line';

/** No suggest widget or parameter hints competing with the ghost text for Tab. */
const QUIET_EDITOR = {
  'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
  'editor.suggestOnTriggerCharacters': false,
  'editor.wordBasedSuggestions': 'off',
  'editor.parameterHints.enabled': false,
  'editor.inlineSuggest.enabled': true,
  'files.autoSave': 'off',
};

/**
 * --model or WISP_E2E_MODEL; otherwise null (the bundled default) when the bundled model is
 * there, else the tiny test fixture.
 */
function chooseModel(extensionDir) {
  const bundled = path.join(extensionDir, 'models', 'wisp-code-small', 'config.json');
  return arg('model', process.env.WISP_E2E_MODEL) || (fs.existsSync(bundled) ? null : testModel());
}

/** Checks printed as they happen, a results.json in `outDir`, and the closing line on exit. */
function createReport(name, outDir, hardTimeoutMs) {
  const t0 = Date.now();
  const results = [];
  const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
  const check = (what, ok, detail = '') => {
    results.push({ name: what, ok: !!ok, detail });
    console.log(`${ok ? '  ✔' : '  ✘'} ${what}${detail ? ` — ${String(detail).slice(0, 400)}` : ''}`);
    return !!ok;
  };
  const finish = (main) =>
    main()
      .catch((err) => check(`${name} ran to the end`, false, err.stack || err))
      .finally(() => {
        const failed = results.filter((r) => !r.ok).length;
        fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify(results, null, 2));
        console.log(`${results.length - failed} passed, ${failed} failed`);
        process.exit(failed ? 1 : 0);
      });
  // Ctrl-C or a supervisor's SIGTERM: exit, which stops code-server (see code-server.js).
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  setTimeout(() => {
    console.error(`${name}: hard timeout`);
    console.log(`0 passed, ${results.length + 1} failed`);
    process.exit(124);
  }, hardTimeoutMs).unref();
  return { log, check, finish };
}

async function runCommand(page, title) {
  await page.keyboard.press('Control+Shift+P');
  await page.waitForSelector(QUICK_INPUT, { state: 'visible', timeout: 15000 });
  await page.keyboard.type(title);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 15000 });
  await page.keyboard.press('Enter');
}

/** Puts the cursor at the end of a 1-based line. */
async function gotoLine(page, line) {
  await page.keyboard.press('Control+G');
  await page.waitForSelector(QUICK_INPUT, { state: 'visible', timeout: 15000 });
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await page.waitForSelector(QUICK_INPUT, { state: 'hidden', timeout: 15000 });
  await page.keyboard.press('End');
}

/** Opens a workspace file with Quick Open (which searches with ripgrep) and focuses its editor. */
async function openFile(page, name) {
  await page.keyboard.press('Control+P');
  await page.waitForSelector(QUICK_INPUT, { state: 'visible', timeout: 15000 });
  await page.keyboard.type(name);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${name}"]`, { timeout: 30000 });
  await page.keyboard.press('Enter');
  await page.waitForSelector('.editor-instance .monaco-editor .view-lines', { timeout: 30000 });
  await page.click('.editor-instance .monaco-editor .view-lines');
}

/**
 * Gets a suggestion on screen: types `text` at the end of `line` and waits for ghost text; where
 * the model suggests nothing there (a small model often ends at once), types a space at each line
 * end in turn, taking it back where nothing comes. Returns the line and what was typed, or null.
 */
async function showSuggestion(page, { line, text, lineCount, waitMs = 20000 }) {
  const appears = (ms) =>
    page.waitForSelector(GHOST, { timeout: ms }).then(
      () => true,
      () => false,
    );
  await gotoLine(page, line);
  await page.keyboard.type(text, { delay: 40 });
  if (await appears(waitMs)) return { line, typed: text };
  for (let other = 1; other <= lineCount; other++) {
    await gotoLine(page, other);
    await page.keyboard.type(' ');
    if (await appears(4000)) return { line: other, typed: ' ' };
    await page.keyboard.press('Backspace');
  }
  return null;
}

module.exports = {
  QUICK_INPUT,
  QUIET_EDITOR,
  GHOST,
  chooseModel,
  createReport,
  runCommand,
  gotoLine,
  openFile,
  showSuggestion,
};
