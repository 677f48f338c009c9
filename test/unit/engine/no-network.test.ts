// Completion and generation open no network sockets. The engine process runs under strace, which
// records every socket the process tree creates; only Unix-domain sockets (the IPC channel with the
// host) may appear. onnxruntime's telemetry client (ort-telemetry-off.ts) looks its host up only
// about half a minute after the first session, later than these runs last on an idle machine, but
// it opens its debug log and its event store as the session is created: the trace's file opens
// show it at once.
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

function traced(args: string[]): { calls: string[]; stdout: string; telemetryFiles: string[] } {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-strace-')), 'trace');
  const trace = ['-f', '-qq', '-e', 'trace=socket,socketpair,connect,openat', '-o', log];
  // The environment of a user's editor: without the switch the engine sets itself.
  const env = { ...process.env };
  delete env.ORT_DISABLE_TELEMETRY;
  const run = spawnSync('strace', [...trace, ...args], { encoding: 'utf8', timeout: 120_000, env });
  assert.equal(run.status, 0, `${args.join(' ')} failed: ${run.stderr}`);
  const lines = fs.readFileSync(log, 'utf8').split('\n');
  const calls = lines.filter((l) => /socket\(|socketpair\(|connect\(/.test(l));
  const telemetryFiles = lines.filter((l) => /openat\(.*(mat-debug-|\/\.onnxruntime\/)/.test(l));
  fs.rmSync(path.dirname(log), { recursive: true, force: true });
  return { calls, stdout: run.stdout, telemetryFiles };
}

const networkCalls = (calls: string[]) => calls.filter((l) => /AF_INET6?|PF_INET6?|AF_NETLINK|sin_port/.test(l));

describe('no network at run time', () => {
  it('the engine process completes and generates without opening a network socket', () => {
    const { calls, stdout, telemetryFiles } = traced([process.execPath, '-e', HOST]);
    assert.match(stdout, /generated \d+/);
    assert.ok(
      calls.some((l) => /AF_UNIX|PF_LOCAL|AF_LOCAL/.test(l)),
      'strace saw no socket at all: is it tracing?',
    );
    assert.deepEqual(networkCalls(calls), []);
    assert.deepEqual(telemetryFiles, [], 'onnxruntime’s telemetry client is off');
  });

  it('the command line completes without opening a network socket', () => {
    const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-prefix-')), 'p.py');
    fs.writeFileSync(prefix, 'import os\n\ndef main():\n    ');
    const { calls, telemetryFiles } = traced([
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
    assert.deepEqual(telemetryFiles, [], 'onnxruntime’s telemetry client is off');
  });
});
