// Starts code-server (VS Code 1.100 server + web workbench) on loopback with an isolated
// user-data dir, so a run sees only the settings and extensions we give it.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');

const ROOT = path.resolve(__dirname, '../../..');
const VERSION = process.env.CODE_SERVER_VERSION || '4.100.3';
const INSTALL_DIR = path.join(ROOT, '.vscode-test', `code-server-${VERSION}`);

// Settings every harness run wants: no first-run UI, nothing that phones home.
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'npm.fetchOnlinePackageInfo': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'typescript.surveys.enabled': false,
  'git.autofetch': false,
  'git.openRepositoryInParentFolders': 'never', // test/workspace sits inside this repository
  'window.restoreWindows': 'none',
};

// Servers not stopped yet. A script that exits early (an error, Ctrl-C, a timeout) must not leave
// a server and its extension host running: they live in their own process group, not ours.
const running = new Set();
process.on('exit', () => {
  for (const { pid, base } of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    fs.rmSync(base, { recursive: true, force: true });
  }
});

function codeServerBin() {
  return process.env.CODE_SERVER_BIN || path.join(INSTALL_DIR, 'node_modules', '.bin', 'code-server');
}

/** Installs code-server into .vscode-test/ unless it is there already (about 2 minutes). */
function ensureCodeServer({ logFile } = {}) {
  if (fs.existsSync(codeServerBin())) return codeServerBin();
  console.log(`installing code-server ${VERSION} into ${path.relative(ROOT, INSTALL_DIR)} ...`);
  const out = logFile ? fs.openSync(logFile, 'w') : 'inherit';
  const r = spawnSync('bash', [path.join(__dirname, '..', 'install-code-server.sh'), INSTALL_DIR, VERSION], {
    stdio: ['ignore', out, out],
  });
  if (r.status !== 0)
    throw new Error(`code-server install failed (exit ${r.status})${logFile ? `; see ${logFile}` : ''}`);
  return codeServerBin();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Starts code-server and waits until it answers /healthz.
 *  userDataDir   kept when given (npm start); a fresh temporary one otherwise.
 *  settings      user settings (User/settings.json).
 *  machineSettings  machine-scoped settings such as wisp.model: a remote window (which a
 *                code-server window is) reads those only from the server's Machine/settings.json.
 *  isolateHome   give the server its own HOME and XDG dirs (tests) or keep the user's (npm start).
 * Returns { host, port, userDataDir, logFile, startMs, exited (a promise), stop() }.
 */
async function startCodeServer({
  port,
  userDataDir,
  settings = {},
  machineSettings = {},
  isolateHome = true,
  env = {},
  logFile,
  startTimeoutMs = 90000,
} = {}) {
  const bin = codeServerBin();
  if (!fs.existsSync(bin)) throw new Error(`code-server not found at ${bin}; run test/vscode/install-code-server.sh`);
  port = port || (await freePort());
  // The server's IPC sockets go to TMPDIR and a unix socket path must stay under 108 bytes,
  // so this lives directly in /tmp whatever TMPDIR says.
  const base = fs.mkdtempSync(path.join('/tmp', 'wisp-cs-'));
  const ownUserData = !userDataDir;
  userDataDir = userDataDir || path.join(base, 'user-data');
  const extensionsDir = path.join(userDataDir, 'extensions');
  fs.mkdirSync(extensionsDir, { recursive: true });

  const userFile = path.join(userDataDir, 'User', 'settings.json');
  const machineFile = path.join(userDataDir, 'Machine', 'settings.json');
  const readJson = (f) => {
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch {
      return {};
    }
  };
  // A kept user-data dir keeps what the user changed; our values only fill in or override.
  writeJson(userFile, { ...QUIET_SETTINGS, ...(ownUserData ? {} : readJson(userFile)), ...settings });
  writeJson(machineFile, { ...(ownUserData ? {} : readJson(machineFile)), ...machineSettings });

  logFile = logFile || path.join(userDataDir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  const homeEnv = isolateHome
    ? {
        HOME: path.join(base, 'home'),
        XDG_CONFIG_HOME: path.join(base, 'config'),
        XDG_DATA_HOME: path.join(base, 'data'),
        XDG_CACHE_HOME: path.join(base, 'cache'),
      }
    : {};
  if (isolateHome) fs.mkdirSync(homeEnv.HOME, { recursive: true });
  const configFile = path.join(base, 'config.yaml'); // or code-server writes one into ~/.config
  fs.writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);

  const child = spawn(
    bin,
    [
      '--config',
      configFile,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
    ],
    {
      stdio: ['ignore', out, out],
      detached: true, // its own process group, so stop() also ends the extension host and watchers
      env: {
        ...process.env,
        ...homeEnv,
        TMPDIR: base,
        EXTENSIONS_GALLERY: '{}', // no marketplace: without a serviceUrl the gallery is off
        ...env,
      },
    },
  );
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));

  const entry = { pid: child.pid, base };
  running.add(entry);
  const stop = async () => {
    for (const signal of ['SIGTERM', 'SIGKILL']) {
      try {
        process.kill(-child.pid, signal);
      } catch {
        break;
      }
      for (let i = 0; i < 30 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
    }
    running.delete(entry);
    if (!process.env.WISP_KEEP_TMP) fs.rmSync(base, { recursive: true, force: true });
  };

  const t0 = Date.now();
  while (!(await healthy(port))) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`code-server exited with ${child.exitCode}:\n${tail(logFile, 30)}`);
    }
    if (Date.now() - t0 > startTimeoutMs) {
      await stop();
      throw new Error(`code-server did not answer within ${startTimeoutMs} ms:\n${tail(logFile, 30)}`);
    }
    await sleep(200);
  }
  return { host: `127.0.0.1:${port}`, port, userDataDir, logFile, startMs: Date.now() - t0, exited, stop };
}

/** The workbench address that opens `folder` with the extension(s) under development loaded. */
function workbenchUrl({ host, folder, extensionDevelopmentPath, extensionTestsPath }) {
  const remote = (p) => `vscode-remote://${host}${path.resolve(p)}`;
  const payload = [].concat(extensionDevelopmentPath || []).map((p) => ['extensionDevelopmentPath', remote(p)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  payload.push(['skipWelcome', 'true']);
  const query = folder ? `folder=${encodeURIComponent(path.resolve(folder))}` : 'ew=true';
  return `http://${host}/?${query}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Copies every log code-server and its extension host wrote into `dest` (for CI artifacts). */
function collectLogs(userDataDir, dest) {
  try {
    fs.mkdirSync(dest, { recursive: true });
    const logs = path.join(userDataDir, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(dest, 'logs'), { recursive: true });
    const main = path.join(userDataDir, 'code-server.log');
    if (fs.existsSync(main)) fs.copyFileSync(main, path.join(dest, 'code-server.log'));
  } catch (e) {
    console.error(`could not copy logs: ${e.message}`);
  }
}

/** Lines of the extension host's log, where an extension's activation errors end up. */
function extensionHostLog(userDataDir) {
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/exthost.*\.log$/.test(e.name)) found.push(p);
    }
  };
  try {
    walk(path.join(userDataDir, 'logs'));
  } catch {
    return '';
  }
  return found.map((f) => `--- ${path.relative(userDataDir, f)}\n${fs.readFileSync(f, 'utf8')}`).join('\n');
}

function tail(file, lines) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = {
  ROOT,
  VERSION,
  codeServerBin,
  ensureCodeServer,
  startCodeServer,
  workbenchUrl,
  collectLogs,
  extensionHostLog,
  tail,
  sleep,
};
