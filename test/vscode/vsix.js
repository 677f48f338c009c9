#!/usr/bin/env node
// The VSIX a user installs: builds it with scripts/package-vsix.js for this machine's platform,
// installs it into a fresh code-server (`--install-extension`), checks what it put on disk (no
// training state, recipe, sources or tests; onnxruntime's binaries for this platform only), then
// opens a workbench with no extension under development and sees Wisp activate from the installed
// copy and load its bundled model. Closing line: "N passed, N failed".
//
// usage: node test/vscode/vsix.js [--out DIR]
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const {
  ROOT,
  codeServerBin,
  ensureCodeServer,
  startCodeServer,
  workbenchUrl,
  collectLogs,
  sleep,
} = require('./lib/code-server.js');
const { launchBrowser } = require('./lib/browser.js');
const { copyWorkspace } = require('./lib/workspace.js');
const { createReport } = require('./lib/ui.js');
const { arg } = require('./lib/args.js');

const OUT = path.resolve(arg('out', path.join(ROOT, 'ci-artifacts', 'vsix')));
const TARGET = `${process.platform}-${process.arch}`;
const PLATFORM_DIR = `${process.platform}/${process.arch}`;
const { log, check, finish } = createReport(path.basename(__filename), OUT, 10 * 60 * 1000);

/** Every file under `dir`, relative to it. */
function files(dir) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
}

/** Every log file's text under `dir`. */
function logs(dir) {
  return files(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  ensureCodeServer();

  const vsix = path.join(OUT, `wisp-${TARGET}.vsix`);
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package-vsix.js'), '--target', TARGET, '--out', vsix], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const megabytes = fs.statSync(vsix).size / 1e6;
  check('npm run package builds a VSIX', fs.existsSync(vsix), `${megabytes.toFixed(1)} MB`);

  const base = fs.mkdtempSync(path.join('/tmp', 'wisp-vsix-'));
  const userDataDir = path.join(base, 'user-data');
  const extensionsDir = path.join(userDataDir, 'extensions');
  const ws = copyWorkspace();
  let cs;
  let browser;
  try {
    execFileSync(
      codeServerBin(),
      ['--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir],
      {
        stdio: 'inherit',
        // Nothing of this run in the user's own home and config.
        env: {
          ...process.env,
          HOME: base,
          XDG_CONFIG_HOME: path.join(base, 'config'),
          XDG_DATA_HOME: path.join(base, 'data'),
        },
      },
    );
    const installed = fs.readdirSync(extensionsDir).find((d) => d.startsWith('wisp-dev.wisp-'));
    if (!check('code-server installs the VSIX', installed, installed)) return;
    const dir = path.join(extensionsDir, installed);
    const list = files(dir);
    fs.writeFileSync(path.join(OUT, 'files.txt'), list.join('\n') + '\n');
    // What ships: the manifest, the readme, the bundles, media, the bundled model and onnxruntime.
    const TOP = ['.vsixmanifest', 'package.json', 'readme.md', 'dist', 'media', 'models', 'node_modules'];
    const unwanted = list.filter(
      (f) =>
        !TOP.includes(f.split('/')[0].toLowerCase()) ||
        /(^|\/)(train_state|recipe|tests?|__tests__)\//.test(f) ||
        /\.(py|pt|safetensors)$/.test(f),
    );
    check('no training state, recipe, sources or tests in it', unwanted.length === 0, unwanted.slice(0, 5).join(', '));
    const binaries = list.filter((f) => f.startsWith('node_modules/onnxruntime-node/bin/'));
    const otherPlatforms = binaries.filter((f) => !f.includes(`/napi-v6/${PLATFORM_DIR}/`));
    check(
      `onnxruntime binaries for ${TARGET} only`,
      binaries.some((f) => f.endsWith('onnxruntime_binding.node')) && otherPlatforms.length === 0,
      `${binaries.length} files; others: ${otherPlatforms.slice(0, 3).join(', ')}`,
    );
    check(
      'the bundles and the bundled model are in it',
      ['dist/extension.js', 'dist/engine.js', 'models/wisp-code-small/onnx/model.onnx', 'readme.md'].every((f) =>
        list.map((g) => g.toLowerCase()).includes(f.toLowerCase()),
      ),
    );

    // No extensionDevelopmentPath: the only Wisp this workbench knows is the installed one.
    cs = await startCodeServer({
      userDataDir,
      settings: { 'wisp.device': 'cpu' },
      machineSettings: { 'wisp.device': 'cpu' },
    });
    log(`code-server on ${cs.host} after ${cs.startMs} ms`);
    browser = await launchBrowser();
    await browser.page.goto(workbenchUrl({ host: cs.host, folder: ws.dir }));
    const bundledModel = path.join(dir, 'models', 'wisp-code-small');
    const end = Date.now() + 180000;
    let text = '';
    while (Date.now() < end && !/model ready/.test(text)) {
      await sleep(1000);
      text = logs(path.join(userDataDir, 'logs'));
    }
    check('Wisp activates from the installed VSIX', /_doActivateExtension wisp-dev\.wisp/.test(text));
    check(
      'and loads the model bundled in it',
      text.includes(`loading model ${bundledModel}`) && /model ready/.test(text),
      `looked for "loading model ${bundledModel}" and "model ready"`,
    );
  } finally {
    if (browser) await browser.close();
    if (cs) {
      collectLogs(cs.userDataDir, OUT);
      await cs.stop();
    }
    ws.remove();
    fs.rmSync(base, { recursive: true, force: true });
  }
}

finish(main);
