// Command-line entry: `node dist/cli.js complete --model DIR --prefix-file P --suffix-file S
// [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed N] [--device D]
// [--context-cache W] [--min-confidence C] [--repeat-penalty M] [--context-file F ...] [--path P --repo R]`. Prints the
// suggestion the inline provider would show, and nothing else, on stdout (nothing when its
// confidence is below --min-confidence, default wisp.minConfidence's; the reason goes to stderr).
// Context files stand for other open editors (context-files.ts).
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import type { DeviceSetting } from './engine/process/protocol';
import { Engine } from './engine/engine';
import { belowConfidence, detectStyle, finishInline, prepareInline } from './completion/inline-request';
import { VISIBLE_WEIGHT } from './completion/context-files';
import { MAX_CONTEXT_FILE_CHARS } from './engine/process/protocol';
import { DEFAULT_SETTINGS, normalizeSettings } from './settings';

const USAGE =
  'usage: node dist/cli.js complete --model DIR --prefix-file P [--suffix-file S] [--max-new-tokens N] ' +
  '[--temperature T] [--top-k K] [--top-p P] [--seed N] [--device cpu|auto|...] [--stats] ' +
  '[--context-cache WEIGHT (0 = off)] [--min-confidence C] [--repeat-penalty M (0 = off)] [--context-file F ...] [--path WORKSPACE_RELATIVE_PATH --repo NAME]';

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} takes a number, not '${value}'`);
  return n;
}

async function complete(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      'prefix-file': { type: 'string' },
      'suffix-file': { type: 'string' },
      'max-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      device: { type: 'string' },
      stats: { type: 'boolean' },
      'context-file': { type: 'string', multiple: true },
      'context-cache': { type: 'string' },
      'min-confidence': { type: 'string' },
      'repeat-penalty': { type: 'string' },
      path: { type: 'string' },
      repo: { type: 'string' },
    },
    strict: true,
  });
  if (!values.model || !values['prefix-file']) throw new Error(USAGE);
  const prefix = fs.readFileSync(values['prefix-file'], 'utf8');
  const suffix = values['suffix-file'] ? fs.readFileSync(values['suffix-file'], 'utf8') : '';
  const settings = normalizeSettings({
    ...DEFAULT_SETTINGS,
    maxNewTokens: numberOption(values['max-new-tokens'], 'max-new-tokens') ?? DEFAULT_SETTINGS.maxNewTokens,
    temperature: numberOption(values.temperature, 'temperature') ?? DEFAULT_SETTINGS.temperature,
    topK: numberOption(values['top-k'], 'top-k') ?? DEFAULT_SETTINGS.topK,
    topP: numberOption(values['top-p'], 'top-p') ?? DEFAULT_SETTINGS.topP,
    seed: numberOption(values.seed, 'seed') ?? DEFAULT_SETTINGS.seed,
    minConfidence: numberOption(values['min-confidence'], 'min-confidence') ?? DEFAULT_SETTINGS.minConfidence,
    repeatPenalty: numberOption(values['repeat-penalty'], 'repeat-penalty') ?? DEFAULT_SETTINGS.repeatPenalty,
    ...(values['context-cache'] !== undefined
      ? {
          contextCache: Number(values['context-cache']) > 0,
          contextCacheWeight: numberOption(values['context-cache'], 'context-cache'),
        }
      : {}),
    // The command line has no keystroke to keep up with: no time budget cuts it short.
    timeBudgetMs: 60_000,
    device: values.device ?? 'cpu',
  });
  const text = prefix + suffix;
  const contextFiles = (values['context-file'] ?? []).map((file) => ({
    key: file,
    version: 1,
    path: file,
    weight: VISIBLE_WEIGHT,
    text: fs.readFileSync(file, 'utf8').slice(0, MAX_CONTEXT_FILE_CHARS),
  }));
  const crossFile = values.path ? { path: values.path, repoName: values.repo ?? '' } : undefined;
  const engine = await Engine.load({ modelDir: values.model, device: settings.device as DeviceSetting });
  try {
    engine.setContextFiles(contextFiles);
    while (engine.indexContextStep());
    const prepared = prepareInline(
      { slice: (s, e) => text.slice(s, e), documentLength: text.length, cursor: prefix.length, crossFile },
      settings,
    );
    const result = await engine.complete(prepared.request);
    const suggestion = finishInline(prepared, result, detectStyle(text)) ?? '';
    const confidence = belowConfidence(result, suggestion, settings.minConfidence);
    if (confidence === undefined) process.stdout.write(suggestion);
    else process.stderr.write(`not shown: confidence ${confidence.toFixed(2)} < ${settings.minConfidence}\n`);
    if (values.stats) process.stderr.write(`${JSON.stringify(result.stats)}\n`);
  } finally {
    await engine.dispose();
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'complete') return complete(rest);
  throw new Error(USAGE);
}

main().catch((err: Error) => {
  process.stderr.write(`wisp: ${err.message}\n`);
  process.exit(1);
});
