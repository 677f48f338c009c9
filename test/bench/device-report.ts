// device-figures.ts's arguments and report: pure, so scripts/gpu-check.sh's test checks them here.
import * as path from 'node:path';
import type { DeviceSetting } from '../../src/engine/process/protocol';

export interface DeviceFigureArgs {
  model: string;
  devices: DeviceSetting[];
  json?: string;
  steps: number;
  keys: number;
}

export function parseDeviceFigureArgs(argv: string[]): DeviceFigureArgs {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const model = value('--model');
  if (!model) throw new Error('--model DIR is required');
  return {
    model: path.resolve(model),
    devices: (value('--devices') ?? 'cpu,webgpu').split(',').filter(Boolean) as DeviceSetting[],
    json: value('--json'),
    steps: Number(value('--steps') ?? 8),
    keys: Number(value('--keys') ?? 12),
  };
}

export interface DeviceFigures {
  device: string;
  /** Why it has no figures (its provider could not start). */
  error?: string;
  load_ms?: number;
  prefill_tokens?: number;
  prefill_ms?: number;
  past_a?: number;
  ms_per_token_a?: number;
  past_b?: number;
  ms_per_token_b?: number;
  keystroke_ms?: number;
  greedy_text?: string;
}

/** A markdown table, one column per device. */
export function figureTable(figures: DeviceFigures[]): string {
  const rows: [string, (f: DeviceFigures) => string][] = [
    ['load (ms)', (f) => String(f.load_ms ?? '—')],
    ['prefill (ms)', (f) => (f.prefill_ms === undefined ? '—' : `${f.prefill_ms} (${f.prefill_tokens} tokens)`)],
    ['decode (ms/token)', (f) => (f.ms_per_token_a === undefined ? '—' : `${f.ms_per_token_a} at ${f.past_a} past`)],
    ['decode (ms/token)', (f) => (f.ms_per_token_b === undefined ? '—' : `${f.ms_per_token_b} at ${f.past_b} past`)],
    ['keystroke engine call (ms)', (f) => String(f.keystroke_ms ?? '—')],
  ];
  const header = `| | ${figures.map((f) => f.device).join(' | ')} |`;
  const rule = `|---|${figures.map(() => '---').join('|')}|`;
  const body = rows.map(([name, cell]) => `| ${name} | ${figures.map(cell).join(' | ')} |`);
  const errors = figures.filter((f) => f.error).map((f) => `${f.device}: ${f.error}`);
  return [header, rule, ...body, ...errors].join('\n');
}

/** Whether every device that ran generated the same greedy text. */
export function sameText(figures: DeviceFigures[]): boolean {
  const texts = figures.filter((f) => !f.error).map((f) => f.greedy_text);
  return texts.every((t) => t === texts[0]);
}
