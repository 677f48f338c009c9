// The bench's engine figures on several devices side by side (scripts/gpu-check.sh runs it on a GPU
// machine): load, prefill of a full context, decode ms/token at 512 and 1,024 past (the KV cache
// staying on the device under WebGPU), and a keystroke's engine call (one character typed, the
// cache holding the previous keystroke's prompt, 8 greedy tokens). Each device's greedy text on the
// same prompt is recorded, and whether they agree.
//
//   node dist/device-figures.js --model DIR --devices cpu,webgpu[,cuda] [--json OUT] [--steps 8] [--keys 12]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CompletionRequest, Engine } from '../../src/engine/engine';
import type { DeviceSetting } from '../../src/engine/process/protocol';
import { GREEDY } from '../../src/shared/sampler';
import { DeviceFigureArgs, DeviceFigures, figureTable, parseDeviceFigureArgs, sameText } from './device-report';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** Source text of this repository, enough for a full context. */
function figureText(repo: string): string {
  const dir = path.join(repo, 'src', 'engine');
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  return files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
}

function keystroke(prefix: string): CompletionRequest {
  return {
    prefix,
    suffix: '',
    sampling: GREEDY,
    seed: 0,
    maxNewTokens: 8,
    stop: [],
    timeBudgetMs: 600_000,
    contextTokens: 1024,
    promptLookup: false,
  };
}

async function measure(device: DeviceSetting, args: DeviceFigureArgs, text: string): Promise<DeviceFigures> {
  const t0 = performance.now();
  let engine: Engine;
  try {
    engine = await Engine.load({ modelDir: args.model, device });
  } catch (err) {
    return { device, error: (err as Error).message };
  }
  const loadMs = performance.now() - t0;
  try {
    const { session } = engine;
    const ids = engine.tokenizer.encode(text);
    const maxPositions = session.layout.maxPositions;
    const prefillTokens = Math.min(1024, maxPositions, ids.length);
    const prefill: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      (await session.forward(ids.slice(0, prefillTokens), session.emptyPast())).present.dispose();
      prefill.push(performance.now() - t);
    }
    const pastB = Math.min(1024, maxPositions - args.steps - 1, ids.length - args.steps);
    const pastA = Math.min(512, Math.floor(pastB / 2));
    const decodeAt = async (pastLength: number) => {
      let past = (await session.forward(ids.slice(0, pastLength), session.emptyPast())).present;
      const times: number[] = [];
      for (let k = 0; k < args.steps; k++) {
        const t = performance.now();
        const { present } = await session.forward([ids[pastLength + k]], past);
        times.push(performance.now() - t);
        past.dispose();
        past = present;
      }
      past.dispose();
      return median(times);
    };
    const a = await decodeAt(pastA);
    const b = await decodeAt(pastB);
    // Typing: each keystroke adds a character; the cache holds the previous keystroke's prompt.
    const typed = text.slice(0, 1500);
    const keyTimes: number[] = [];
    let greedy = '';
    for (let k = 0; k <= args.keys; k++) {
      const result = await engine.complete(keystroke(typed.slice(0, 1500 - args.keys + k)));
      if (k === 0) greedy = result.text;
      else keyTimes.push(result.stats.totalMs);
    }
    return {
      device: engine.info().providers.join('+'),
      load_ms: round(loadMs),
      prefill_tokens: prefillTokens,
      prefill_ms: round(median(prefill)),
      past_a: pastA,
      ms_per_token_a: round(a, 2),
      past_b: pastB,
      ms_per_token_b: round(b, 2),
      keystroke_ms: round(median(keyTimes), 2),
      greedy_text: greedy,
    };
  } finally {
    await engine.dispose();
  }
}

async function main(): Promise<void> {
  const args = parseDeviceFigureArgs(process.argv.slice(2));
  const text = figureText(path.resolve(__dirname, '..'));
  const figures: DeviceFigures[] = [];
  for (const device of args.devices) {
    process.stderr.write(`[device-figures] ${device} ...\n`);
    figures.push(await measure(device, args, text));
  }
  const report = {
    model: args.model,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, platform: `${os.platform()} ${os.arch()}` },
    same_greedy_text: sameText(figures),
    figures,
  };
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, null, 2));
  console.log(figureTable(figures));
  console.log(`same greedy text on every device: ${report.same_greedy_text}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
