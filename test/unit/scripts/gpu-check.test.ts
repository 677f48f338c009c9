// scripts/gpu-check.sh's CPU-side logic, run here as on the GPU machine (--quick: the tiny fixture):
// it finds node and onnxruntime-node, reports the Vulkan loader and driver it will use, skips the
// CUDA provider with a reason where its libraries are absent, and writes the exactness test summary
// and the side-by-side figures into OUTDIR. Without node it says so and stops.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DeviceFigures, figureTable, parseDeviceFigureArgs, sameText } from '../../bench/device-report';
import { REPO_ROOT } from '../fixture';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'gpu-check.sh');

describe('gpu-check', () => {
  it('device figures: arguments, the side-by-side table, text agreement', () => {
    const args = parseDeviceFigureArgs(['--model', 'm', '--devices', 'cpu,webgpu,cuda', '--steps', '3']);
    assert.deepEqual(args.devices, ['cpu', 'webgpu', 'cuda']);
    assert.equal(args.steps, 3);
    assert.throws(() => parseDeviceFigureArgs([]), /--model DIR is required/);
    const cpu: DeviceFigures = {
      device: 'cpu',
      load_ms: 1,
      prefill_tokens: 256,
      prefill_ms: 20,
      past_a: 126,
      ms_per_token_a: 2,
      past_b: 253,
      ms_per_token_b: 3,
      keystroke_ms: 40,
      greedy_text: 'x',
    };
    const cuda: DeviceFigures = { device: 'cuda', error: 'could not start' };
    const table = figureTable([cpu, { ...cpu, device: 'webgpu', ms_per_token_b: 1 }, cuda]).split('\n');
    assert.equal(table[0], '| | cpu | webgpu | cuda |');
    assert.equal(table[5], '| decode (ms/token) | 3 at 253 past | 1 at 253 past | — |');
    assert.equal(table.at(-1), 'cuda: could not start');
    assert.equal(sameText([cpu, { ...cpu, device: 'webgpu' }, cuda]), true);
    assert.equal(sameText([cpu, { ...cpu, device: 'webgpu', greedy_text: 'y' }]), false);
  });

  it('runs on this machine: tests and figures into OUTDIR, CUDA skipped with a reason when absent', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-'));
    try {
      const r = spawnSync('bash', [SCRIPT, out, '--quick'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
      const report = fs.readFileSync(path.join(out, 'report.txt'), 'utf8');
      assert.equal(r.status, 0, report);
      assert.match(report, /^node: .+ v\d+/m);
      assert.match(report, /^vulkan loader: /m);
      assert.match(report, /^cuda: (skipped \(.+\)|onnxruntime-gpu .+)$/m);
      assert.match(report, /^tests: # fail 0$/m);
      assert.match(report, /^result: passed$/m);
      const figures = JSON.parse(fs.readFileSync(path.join(out, 'figures.json'), 'utf8'));
      const cpu = figures.figures.find((f: DeviceFigures) => f.device === 'cpu');
      assert.ok(cpu.ms_per_token_a > 0 && cpu.prefill_ms > 0 && cpu.keystroke_ms > 0);
      assert.ok(figures.figures.some((f: DeviceFigures) => f.device === 'webgpu'));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('says clearly when the node it is given is not there', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-check-'));
    try {
      const r = spawnSync('/bin/bash', [SCRIPT, out], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, WISP_NODE: '/nonexistent/node' },
      });
      assert.equal(r.status, 3);
      assert.match(r.stdout, /node: NOT FOUND at \/nonexistent\/node\. The engine runs on Node\.js >= 20/);
      assert.match(fs.readFileSync(path.join(out, 'report.txt'), 'utf8'), /^result: not run$/m);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
