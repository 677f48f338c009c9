#!/usr/bin/env node
// Everything `npm test` runs, after `npm run compile`:
//   unit     node --test out/test/unit/              (plain Node, no VS Code)
//   recipe   python3 -m unittest recipe/test_*.py    (the training recipe, Debian's torch)
//   server   node --test out/test/server/            (a real llama-server; built into ~/.cache/wisp when missing)
//   suites   test/vscode/run-suites.js               (mocha inside a real VS Code extension host)
//   ui       test/vscode/e2e-ui.js                   (a real workbench driven through chromium)
//   walkthrough test/vscode/walkthrough-ui.js        (the Getting Started page in that workbench)
//   vsix     test/vscode/vsix.js                     (the packaged VSIX, installed into code-server)
// Each stage's output goes to the console and to ci-artifacts/<stage>.log. The closing line,
// "N passed, N failed", counts every test of every stage; a stage that crashes or times out
// without saying what failed counts as one failure. Exit code 0 only when nothing failed.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const ARTIFACTS = path.join(ROOT, 'ci-artifacts');
const MIN = 60 * 1000;

// Counts from a stage's output: each pattern's last match.
const ourLine = (out) => {
  const m = [...out.matchAll(/^(\d+) passed, (\d+) failed$/gm)].pop();
  return m && { passed: Number(m[1]), failed: Number(m[2]) };
};
const tapTotals = (out) => {
  const last = (name) => {
    const m = [...out.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))].pop();
    return m && Number(m[1]);
  };
  const passed = last('pass');
  return passed === undefined ? undefined : { passed, failed: (last('fail') ?? 0) + (last('cancelled') ?? 0) };
};

// unittest's summary: "Ran N tests in …", then "OK", "OK (skipped=K)" or "FAILED (failures=F, errors=E, …)".
const unittestTotals = (out) => {
  const ran = [...out.matchAll(/^Ran (\d+) tests? in /gm)].pop();
  const status = [...out.matchAll(/^(OK|FAILED)(?: \((.*)\))?$/gm)].pop();
  if (!ran || !status) return undefined;
  const count = (name) => Number(new RegExp(`${name}=(\\d+)`).exec(status[2] ?? '')?.[1] ?? 0);
  const failed = count('failures') + count('errors') + count('unexpected successes');
  return { passed: Number(ran[1]) - failed - count('skipped') - count('expected failures'), failed };
};

// Debian's torch links the reference BLAS; OpenBLAS, where installed, is much faster.
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const withOpenBlas = () =>
  fs.existsSync(OPENBLAS) ? { LD_LIBRARY_PATH: [OPENBLAS, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') } : {};

const STAGES = [
  {
    name: 'unit',
    cmd: [process.execPath, '--test', '--test-reporter=tap', 'out/test/unit/'],
    parse: tapTotals,
    timeoutMs: 10 * MIN,
  },
  {
    // The training recipe's Python (recipe/test_*.py) with Debian's torch: the lever pieces, the
    // data-parallel CPU training, and a tiny run of the GPU training script on the CPU, exported
    // and loaded by onnxruntime-node.
    name: 'recipe',
    cmd: ['/usr/bin/python3', '-m', 'unittest', 'discover', '-s', 'recipe', '-p', 'test_*.py', '-v'],
    env: withOpenBlas(),
    parse: unittestTotals,
    timeoutMs: 10 * MIN,
  },
  {
    name: 'server',
    cmd: [process.execPath, '--test', '--test-reporter=tap', 'out/test/server/'],
    parse: tapTotals,
    // On a fresh machine scripts/llama-server.sh builds llama-server first: 5–21 min on 2 cores.
    timeoutMs: 40 * MIN,
  },
  {
    name: 'suites',
    cmd: [process.execPath, 'test/vscode/run-suites.js', '--timeout', '600'],
    parse: ourLine,
    timeoutMs: 12 * MIN,
    needsVSCode: true,
  },
  {
    name: 'ui',
    cmd: [process.execPath, 'test/vscode/e2e-ui.js'],
    parse: ourLine,
    timeoutMs: 12 * MIN,
    needsVSCode: true,
  },
  {
    name: 'walkthrough',
    cmd: [process.execPath, 'test/vscode/walkthrough-ui.js', '--no-media'],
    parse: ourLine,
    timeoutMs: 8 * MIN,
    needsVSCode: true,
  },
  {
    name: 'vsix',
    cmd: [process.execPath, 'test/vscode/vsix.js'],
    parse: ourLine,
    timeoutMs: 12 * MIN,
    needsVSCode: true,
  },
];

const results = [];
let current; // the running stage's process: its own group, so a timeout can stop all of it

// Ctrl-C: pass it on to the stage (which stops its VS Code), then stop.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (current)
      try {
        process.kill(-current.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    setTimeout(() => process.exit(130), 3000).unref();
  });
}

function run(stage) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const log = fs.createWriteStream(path.join(ARTIFACTS, `${stage.name}.log`));
    let out = '';
    const child = spawn(stage.cmd[0], stage.cmd.slice(1), {
      cwd: ROOT,
      env: { ...process.env, ...stage.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    current = child;
    const take = (stream) => (chunk) => {
      stream.write(chunk);
      log.write(chunk);
      out += chunk;
    };
    child.stdout.on('data', take(process.stdout));
    child.stderr.on('data', take(process.stderr));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\n${stage.name}: no result after ${stage.timeoutMs / MIN} min; stopping it`);
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 10000).unref();
    }, stage.timeoutMs);
    const finish = (code, error) => {
      clearTimeout(timer);
      current = undefined;
      log.end();
      const counts = stage.parse(out) || { passed: 0, failed: 0 };
      // Exited badly, or timed out, without reporting a failure of its own: count one.
      if ((code !== 0 || timedOut || error) && counts.failed === 0) counts.failed = 1;
      resolve({
        name: stage.name,
        ...counts,
        code,
        seconds: (Date.now() - t0) / 1000,
        note: error?.message || (timedOut ? 'timed out' : ''),
      });
    };
    child.on('error', (err) => finish(null, err));
    child.on('close', (code) => finish(code));
  });
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  let vscodeError;
  for (const stage of STAGES) {
    console.log(`\n=== ${stage.name}: ${stage.cmd.slice(1).join(' ')}`);
    if (stage.needsVSCode && vscodeError === undefined) {
      try {
        const t0 = Date.now();
        const { ensureCodeServer } = require('./vscode/lib/code-server');
        ensureCodeServer({ logFile: path.join(ARTIFACTS, 'code-server-install.log') });
        vscodeError = null;
        if (Date.now() - t0 > 5000) console.log(`code-server installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      } catch (err) {
        vscodeError = err;
      }
    }
    if (stage.needsVSCode && vscodeError) {
      console.error(`${stage.name}: skipped, VS Code is not available: ${vscodeError.message}`);
      results.push({ name: stage.name, passed: 0, failed: 1, code: null, seconds: 0, note: 'no VS Code' });
      continue;
    }
    results.push(await run(stage));
  }

  console.log('\n=== summary');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(8)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed  ` +
        `${r.seconds.toFixed(0).padStart(4)} s${r.note ? `  (${r.note})` : ''}`,
    );
  }
}

function close(crash) {
  if (crash) console.error(crash);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0) + (crash ? 1 : 0);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().then(() => close(), close);
