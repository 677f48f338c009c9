// Completion and generation open no network sockets. The engine process runs under strace, which
// records every socket the process tree creates; only Unix-domain sockets (the IPC channel with the
// host) may appear.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

/** A host that forks the bundled engine process and asks it for a completion and a streamed generation. */
const HOST = `
const { fork } = require('node:child_process');
const engine = fork(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'engine.js'))}, [], { serialization: 'advanced' });
const request = { prefix: 'def add(a, b):\\n    return', suffix: '\\n', sampling: { temperature: 0.8, topK: 20, topP: 0.9 },
  seed: 1, maxNewTokens: 12, stop: [], timeBudgetMs: 30000, contextTokens: 200, contextCacheWeight: 0.5 };
let done = 0;
engine.on('message', (m) => {
  if (m.type === 'loaded') { engine.send({ type: 'complete', id: 1, request, stream: false }); }
  else if (m.type === 'done' && m.id === 1) { engine.send({ type: 'complete', id: 2, request: { ...request, maxNewTokens: 40 }, stream: true }); }
  else if (m.type === 'done' && m.id === 2) { console.log('generated', m.result.stats.generatedTokens); engine.kill(); }
  else if (m.type === 'load-failed' || m.type === 'failed') { console.error(m.message); process.exit(1); }
});
engine.send({ type: 'load', options: { modelDir: ${JSON.stringify(TINY_MODEL)}, device: 'cpu' } });
`;

function traced(args: string[]): { calls: string[]; stdout: string } {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-strace-')), 'trace');
  const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=socket,socketpair,connect', '-o', log, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `${args.join(' ')} failed: ${run.stderr}`);
  const calls = fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => /socket\(|socketpair\(|connect\(/.test(l));
  fs.rmSync(path.dirname(log), { recursive: true, force: true });
  return { calls, stdout: run.stdout };
}

const networkCalls = (calls: string[]) => calls.filter((l) => /AF_INET6?|PF_INET6?|AF_NETLINK|sin_port/.test(l));

describe('no network at run time', () => {
  it('the engine process completes and generates without opening a network socket', () => {
    const { calls, stdout } = traced([process.execPath, '-e', HOST]);
    assert.match(stdout, /generated \d+/);
    assert.ok(
      calls.some((l) => /AF_UNIX|PF_LOCAL|AF_LOCAL/.test(l)),
      'strace saw no socket at all: is it tracing?',
    );
    assert.deepEqual(networkCalls(calls), []);
  });

  it('the command line completes without opening a network socket', () => {
    const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-prefix-')), 'p.py');
    fs.writeFileSync(prefix, 'import os\n\ndef main():\n    ');
    const { calls } = traced([
      process.execPath,
      path.join(REPO_ROOT, 'dist', 'cli.js'),
      'complete',
      '--model',
      TINY_MODEL,
      '--prefix-file',
      prefix,
    ]);
    fs.rmSync(path.dirname(prefix), { recursive: true, force: true });
    assert.deepEqual(networkCalls(calls), []);
  });
});
