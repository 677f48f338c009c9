// Headless Debian chromium driven by playwright-core, pointed at a code-server workbench.
'use strict';
const fs = require('fs');
const path = require('path');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-dev-shm-usage',
  // Only loopback resolves, so nothing in the page can reach the network.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/** Launches chromium with a throw-away profile. Returns { context, page, close() }. */
async function launchBrowser({ viewport = { width: 1280, height: 800 } } = {}) {
  const { chromium } = require('playwright-core');
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  const profile = fs.mkdtempSync(path.join('/tmp', 'wisp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ARGS,
    env: {
      ...process.env,
      HOME: profile,
      XDG_CONFIG_HOME: path.join(profile, 'config'),
      XDG_CACHE_HOME: path.join(profile, 'cache'),
    },
  });
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

module.exports = { launchBrowser, CHROMIUM };
