#!/usr/bin/env node
// `npm start`: a real VS Code (code-server) on this machine with Wisp loaded as the extension
// under development, opened on test/workspace. Open the printed address in a browser; Ctrl-C
// stops it. Binds to 127.0.0.1 only, without a password; the marketplace, telemetry and the
// update check are off, so nothing reaches the network.
//
// usage: node test/vscode/start.js [--port 8080] [--folder DIR] [--model DIR]
//   env: WISP_PORT (or PORT) instead of --port; CODE_SERVER_BIN to use another code-server.
// Settings changed in the browser are kept in .vscode-test/user-data.
'use strict';
const fs = require('fs');
const { spawnSync } = require('child_process');
const path = require('path');
const { ROOT, VERSION, ensureCodeServer, startCodeServer, workbenchUrl } = require('./lib/code-server.js');
const { arg } = require('./lib/args.js');

const port = Number(arg('port', process.env.WISP_PORT || process.env.PORT || 8080));
const folder = path.resolve(arg('folder', path.join(ROOT, 'test', 'workspace')));
const model = arg('model');
const userDataDir = path.join(ROOT, '.vscode-test', 'user-data');

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
    console.warn('dist/extension.js is missing: run `npm run compile` (npm start does) or Wisp will not load');
  }
  ensureCodeServer();
  // A software Vulkan driver, so wisp.device webgpu can be tried on a machine without a GPU; the
  // script skips, saying why, where it cannot install (not root, not Debian 12).
  spawnSync('bash', [path.join(ROOT, 'scripts', 'software-vulkan.sh')], { stdio: 'inherit' });
  // wisp.model is machine-scoped: code-server takes it from Machine/settings.json.
  const machineSettings = model ? { 'wisp.model': path.resolve(model) } : {};
  const cs = await startCodeServer({ port, userDataDir, machineSettings, isolateHome: false });
  const url = workbenchUrl({ host: cs.host, folder, extensionDevelopmentPath: ROOT });
  console.log(`
VS Code (code-server ${VERSION}) is running with Wisp loaded from ${ROOT}.
Open this address in a browser (the payload loads the extension under development):

  ${url}

Logs: ${path.relative(process.cwd(), cs.logFile)} and ${path.relative(process.cwd(), path.join(userDataDir, 'logs'))}/ (Wisp: "Wisp: Show Log").
Ctrl-C stops it.
`);
  let stopping = false;
  const stop = async (why) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping code-server`);
    await cs.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => stop('Ctrl-C'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const code = await cs.exited;
  if (!stopping) {
    console.error(`code-server exited on its own (${code}); see ${cs.logFile}`);
    await cs.stop();
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
