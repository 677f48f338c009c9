// `npm run eval -- --model DIR --data FILE.jsonl[.gz] [--limit N] [--json OUT] [--variant NAME]
//   [--context-cache WEIGHT] [--no-healing] [--no-retry] [--repeat-penalty M (0 = off)] [--records OUT.jsonl]
//   [--context-tokens N (wisp.contextTokens: the text window; a server's context must hold it)]`
// or `npm run eval -- --server URL [--fim-template NAME] --data ...`: through the llama.cpp backend to the
// llama-server at URL (/infill, or /completion with the FIM template named as wisp.server.fimTemplate,
// which `auto` names for a Wisp model, as /props names the served one; the server does its own
// sampling, so --no-healing, --context-cache and --repeat-penalty do not apply).
// Completes each hole of a HumanEval-Infilling file through the same engine and post-processing as
// the extension (greedy), and scores exact match, edit similarity and pass@1 (running the task's
// tests with python3), against a baseline that needs no model. Then the trade-off of
// wisp.minConfidence: coverage (the share of holes with a suggestion shown) against the exact match
// and edit similarity of what was shown, at several thresholds, for the two confidence measures.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';
import { detectStyle, finishInline, prepareInline } from '../../src/completion/inline-request';
import { Engine } from '../../src/engine/engine';
import type { CompletionRequest, CompletionResult } from '../../src/engine/engine';
import { ServerClient } from '../../src/backends/server-client';
import { FIM_TEMPLATE_SETTINGS, FimTemplateSetting } from '../../src/backends/fim-template';
import { llamaCppFormat } from '../../src/backends/llama-cpp-format';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../src/settings';
import { ConfidenceMeasure, shownConfidence } from '../../src/shared/confidence';
import {
  CurvePoint,
  ScoredSuggestion,
  bestShare,
  confidenceCurve,
  editSimilarity,
  exactMatch,
  firstLines,
  previousLineBaseline,
} from './scoring';

/** Thresholds of the confidence curve (wisp.minConfidence values) and shares for comparing the measures. */
const THRESHOLDS = [0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const SHARES = [0.75, 0.5, 0.25];
const MEASURES: ConfidenceMeasure[] = ['mean', 'min'];

interface Task {
  task_id: string;
  prompt: string;
  suffix: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

interface Scores {
  exact_match: number;
  edit_similarity: number;
  pass_at_1: number;
}

function readTasks(file: string): Task[] {
  const raw = fs.readFileSync(file);
  const text = (file.endsWith('.gz') ? zlib.gunzipSync(raw) : raw).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const t = JSON.parse(l);
      for (const key of ['prompt', 'suffix', 'canonical_solution']) {
        if (typeof t[key] !== 'string') throw new Error(`${file}:${i + 1}: '${key}' is missing`);
      }
      return t as Task;
    });
}

function passes(task: Task, infill: string, python: string): boolean {
  if (!task.test || !task.entry_point) return false;
  const program = `${task.prompt}${infill}${task.suffix}\n\n${task.test}\n\ncheck(${task.entry_point})\n`;
  const run = spawnSync(python, ['-c', program], { timeout: 10_000, stdio: 'ignore' });
  return run.status === 0;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function fimTemplateSetting(name: string): FimTemplateSetting {
  const setting = FIM_TEMPLATE_SETTINGS.find((s) => s === name);
  if (!setting) throw new Error(`--fim-template ${name}: one of ${FIM_TEMPLATE_SETTINGS.join(', ')}`);
  return setting;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      server: { type: 'string' },
      'fim-template': { type: 'string', default: 'auto' },
      data: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'string' },
      variant: { type: 'string' },
      python: { type: 'string', default: 'python3' },
      'max-new-tokens': { type: 'string', default: '32' },
      'context-tokens': { type: 'string' },
      'context-cache': { type: 'string', default: '0' },
      records: { type: 'string' },
      'no-healing': { type: 'boolean', default: false },
      'no-retry': { type: 'boolean', default: false },
      'repeat-penalty': { type: 'string' },
      beams: { type: 'string' },
    },
  });
  if (!(values.model || values.server) || !values.data) {
    throw new Error(
      'usage: npm run eval -- (--model DIR | --server URL [--fim-template NAME]) --data FILE.jsonl[.gz] [--limit N] [--json OUT] [--variant NAME] [--beams N]',
    );
  }
  let tasks = readTasks(values.data);
  if (values.limit) tasks = tasks.slice(0, Number(values.limit));
  const cacheWeight = Number(values['context-cache']);
  const settings = normalizeSettings({
    ...DEFAULT_SETTINGS,
    temperature: 0,
    maxNewTokens: Number(values['max-new-tokens']),
    ...(values['context-tokens'] !== undefined ? { contextTokens: Number(values['context-tokens']) } : {}),
    timeBudgetMs: 60_000,
    contextCache: cacheWeight > 0,
    contextCacheWeight: cacheWeight,
    ...(values['repeat-penalty'] !== undefined ? { repeatPenalty: Number(values['repeat-penalty']) } : {}),
  });
  const server = values.server
    ? new ServerClient({
        format: llamaCppFormat,
        url: values.server,
        model: '',
        fimTemplate: fimTemplateSetting(values['fim-template']!),
        log: (line) => process.stderr.write(`${line}\n`),
      })
    : undefined;
  const engine = server
    ? undefined
    : await Engine.load({ modelDir: values.model!, variant: values.variant, device: 'cpu' });
  const info = engine ? engine.info() : { modelDir: values.server!, variant: 'llama.cpp server' };
  const complete = async (request: CompletionRequest): Promise<CompletionResult> => {
    if (engine) return engine.complete(request);
    const answer = await server!.complete(request);
    if (!answer) throw new Error(`${values.server}: the request was cancelled`);
    return answer;
  };
  const python = values.python!;

  const model = {
    em: [] as number[],
    es: [] as number[],
    pass: [] as number[],
    ms: [] as number[],
    cacheLed: 0,
    generated: 0,
    cacheMs: 0,
    decodeMs: 0,
    steps: 0,
  };
  const baseline = { em: [] as number[], es: [] as number[], pass: [] as number[] };
  const records: string[] = [];
  const stopReasons: Record<string, number> = {};
  const scored: Record<ConfidenceMeasure, ScoredSuggestion[]> = { mean: [], min: [] };
  const started = Date.now();
  for (const [i, task] of tasks.entries()) {
    const text = task.prompt + task.suffix;
    const prepared = prepareInline(
      { slice: (s, e) => text.slice(s, e), documentLength: text.length, cursor: task.prompt.length },
      settings,
    );
    const holeLines = task.canonical_solution.split('\n').filter((l) => l.trim()).length;
    prepared.request.maxLines = holeLines;
    if (values['no-healing']) prepared.request.tokenHealing = false;
    if (values['no-retry']) prepared.request.retryRepeatedLine = false;
    if (values.beams !== undefined) prepared.request.beamWidth = Number(values.beams);
    const t0 = performance.now();
    const result = await complete(prepared.request);
    model.ms.push(performance.now() - t0);
    model.cacheLed += result.stats.cacheLedTokens ?? 0;
    model.generated += result.stats.generatedTokens;
    model.cacheMs += result.stats.cacheMs ?? 0;
    model.decodeMs += result.stats.decodeMs;
    model.steps += Math.max(1, result.stats.generatedTokens);
    stopReasons[result.stats.stopReason] = (stopReasons[result.stats.stopReason] ?? 0) + 1;
    const suggestion = finishInline(prepared, result, detectStyle(text)) ?? '';
    const infill = firstLines(suggestion, holeLines);
    model.em.push(exactMatch(infill, task.canonical_solution) ? 1 : 0);
    model.es.push(editSimilarity(infill, task.canonical_solution));
    model.pass.push(passes(task, infill, python) ? 1 : 0);
    for (const measure of MEASURES) {
      scored[measure].push({
        confidence: suggestion ? shownConfidence(result, suggestion, measure) : undefined,
        exactMatch: model.em[model.em.length - 1],
        editSimilarity: model.es[model.es.length - 1],
      });
    }
    const copy = previousLineBaseline(task.prompt);
    records.push(
      JSON.stringify({
        task_id: task.task_id,
        expected: task.canonical_solution,
        infill,
        exact_match: model.em[model.em.length - 1],
        edit_similarity: model.es[model.es.length - 1],
        generated_text: result.text,
        stop_reason: result.stats.stopReason,
        baseline: copy,
        confidence_mean: scored.mean[scored.mean.length - 1].confidence,
        confidence_min: scored.min[scored.min.length - 1].confidence,
        cache_led: result.stats.cacheLedTokens,
        generated: result.stats.generatedTokens,
      }),
    );
    baseline.em.push(exactMatch(copy, task.canonical_solution) ? 1 : 0);
    baseline.es.push(editSimilarity(copy, task.canonical_solution));
    baseline.pass.push(passes(task, copy, python) ? 1 : 0);
    if ((i + 1) % 100 === 0)
      process.stderr.write(`${i + 1}/${tasks.length} tasks, ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
  await engine?.dispose();
  server?.dispose();

  const scores = (s: { em: number[]; es: number[]; pass: number[] }): Scores => ({
    exact_match: mean(s.em),
    edit_similarity: mean(s.es),
    pass_at_1: mean(s.pass),
  });
  const report = {
    model: info.modelDir,
    variant: info.variant,
    data: path.basename(values.data),
    tasks: tasks.length,
    context_cache_weight: cacheWeight,
    token_healing: !values['no-healing'],
    wisp: {
      ...scores(model),
      mean_latency_ms: mean(model.ms),
      cache_led_token_share: model.generated ? model.cacheLed / model.generated : 0,
      // per generation step: the context cache's lookup and mixing, and the whole step (model + cache + sampling)
      cache_ms_per_step: model.cacheMs / Math.max(1, model.steps),
      step_ms: model.decodeMs / Math.max(1, model.steps),
      // how the generations ended: 'loop' and 'length' are mostly a model lost in repetition
      stop_reasons: stopReasons,
    },
    baseline_previous_line: scores(baseline),
    confidence: Object.fromEntries(
      MEASURES.map((m) => [
        m,
        { thresholds: confidenceCurve(scored[m], THRESHOLDS), best_share: SHARES.map((s) => bestShare(scored[m], s)) },
      ]),
    ),
  };
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  console.log(
    `model ${report.model} (${report.variant}), ${report.data}, ${report.tasks} tasks, context cache ${cacheWeight > 0 ? `on (weight ${cacheWeight}; it led ${pct(report.wisp.cache_led_token_share)} of generated tokens; ${report.wisp.cache_ms_per_step.toFixed(3)} ms of each ${report.wisp.step_ms.toFixed(2)} ms step)` : 'off'}`,
  );
  console.log('| | exact match | edit similarity | pass@1 | mean latency |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| Wisp | ${pct(report.wisp.exact_match)} | ${report.wisp.edit_similarity.toFixed(3)} | ${pct(report.wisp.pass_at_1)} | ${report.wisp.mean_latency_ms.toFixed(1)} ms |`,
  );
  const b = report.baseline_previous_line;
  console.log(
    `| no model: repeat the previous line | ${pct(b.exact_match)} | ${b.edit_similarity.toFixed(3)} | ${pct(b.pass_at_1)} | — |`,
  );
  console.log(
    `generations ended by: ${Object.entries(stopReasons)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ')}`,
  );
  const row = (p: CurvePoint) => `${pct(p.coverage)} | ${pct(p.exactMatch)} | ${p.editSimilarity.toFixed(3)}`;
  console.log('\nwisp.minConfidence (confidence = exp of the mean token log-probability; min: of the smallest)');
  console.log('| threshold | mean: shown | EM of shown | ES of shown | min: shown | EM of shown | ES of shown |');
  console.log('|---|---|---|---|---|---|---|');
  const curves = MEASURES.map((m) => confidenceCurve(scored[m], THRESHOLDS));
  THRESHOLDS.forEach((t, i) => console.log(`| ${t} | ${row(curves[0][i])} | ${row(curves[1][i])} |`));
  console.log('\nthe most confident share of holes, ranked by each measure');
  console.log('| share | mean: EM | ES | min: EM | ES |');
  console.log('|---|---|---|---|---|');
  for (const share of SHARES) {
    const [a, b] = MEASURES.map((m) => bestShare(scored[m], share));
    console.log(
      `| ${pct(share)} | ${pct(a.exactMatch)} | ${a.editSimilarity.toFixed(3)} | ${pct(b.exactMatch)} | ${b.editSimilarity.toFixed(3)} |`,
    );
  }
  if (values.records) fs.writeFileSync(values.records, `${records.join('\n')}\n`);
  if (values.json) fs.writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`eval: ${err.message}\n`);
  process.exit(1);
});
