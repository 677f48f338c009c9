// `npm run eval:generate -- --model DIR [--data FILE.json] [--json OUT] [--max-new-tokens N] [--repeat-penalty M]`
// Generate Code on instruction prompts: each is the instruction as a comment and a function
// signature, completed greedily through the same request builder, engine and end rules as the
// command. Scores the share of outputs that parse (TypeScript's own parser for TS/JS, Python's
// `ast`) and the share that pass their one-line test, with the end rules and without them (the
// model's own text up to its end token or the token budget).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as ts from 'typescript';
import { commentLine, generateCut } from '../../src/completion/generate-rules';
import { prepareInline } from '../../src/completion/inline-request';
import { Engine } from '../../src/engine/engine';
import { DEFAULT_SETTINGS, normalizeSettings } from '../../src/settings';

interface GeneratePrompt {
  id: string;
  language: 'python' | 'typescript' | 'javascript';
  instruction: string;
  signature: string;
  /** An expression that is true when the function works. */
  test: string;
}

interface Outcome {
  parses: boolean;
  passes: boolean;
  lines: number;
}

const RUN_TIMEOUT_MS = 10_000;

function pythonParses(code: string, python: string): boolean {
  const check = spawnSync(python, ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], {
    input: code,
    timeout: RUN_TIMEOUT_MS,
  });
  return check.status === 0;
}

function transpiled(code: string, language: GeneratePrompt['language']): { js: string; parses: boolean } {
  const out = ts.transpileModule(code, {
    fileName: language === 'typescript' ? 'generated.ts' : 'generated.js',
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, allowJs: true },
  });
  return { js: out.outputText, parses: (out.diagnostics ?? []).length === 0 };
}

function judge(prompt: GeneratePrompt, code: string, python: string): Outcome {
  const lines = code.split('\n').length;
  if (prompt.language === 'python') {
    const parses = pythonParses(code, python);
    const run = parses && spawnSync(python, ['-c', `${code}\nassert ${prompt.test}\n`], { timeout: RUN_TIMEOUT_MS });
    return { parses, passes: !!run && run.status === 0, lines };
  }
  const { js, parses } = transpiled(code, prompt.language);
  const run =
    parses &&
    spawnSync(process.execPath, ['-e', `${js}\nif (!(${prompt.test})) process.exit(1);\n`], {
      timeout: RUN_TIMEOUT_MS,
    });
  return { parses, passes: !!run && run.status === 0, lines };
}

function share(outcomes: Outcome[], key: 'parses' | 'passes'): number {
  return outcomes.filter((o) => o[key]).length / Math.max(1, outcomes.length);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      data: { type: 'string', default: path.join(__dirname, '..', 'test', 'eval', 'data', 'generate-prompts.json') },
      json: { type: 'string' },
      python: { type: 'string', default: 'python3' },
      'max-new-tokens': { type: 'string', default: String(DEFAULT_SETTINGS.generateMaxNewTokens) },
      'repeat-penalty': { type: 'string', default: String(DEFAULT_SETTINGS.repeatPenalty) },
    },
  });
  if (!values.model) throw new Error('usage: npm run eval:generate -- --model DIR [--data FILE.json] [--json OUT]');
  const prompts: GeneratePrompt[] = JSON.parse(fs.readFileSync(values.data!, 'utf8'));
  const settings = normalizeSettings({
    ...DEFAULT_SETTINGS,
    temperature: 0,
    generateMaxNewTokens: Number(values['max-new-tokens']),
    repeatPenalty: Number(values['repeat-penalty']),
  });
  const engine = await Engine.load({ modelDir: values.model, device: 'cpu' });
  const withRules: Outcome[] = [];
  const withoutRules: Outcome[] = [];
  const records = [];
  const started = Date.now();
  for (const prompt of prompts) {
    const document = `${commentLine(prompt.language, prompt.instruction)}\n${prompt.signature}\n`;
    const { request } = prepareInline(
      { slice: (s, e) => document.slice(s, e), documentLength: document.length, cursor: document.length },
      settings,
      'generate',
    );
    const result = await engine.complete(request);
    const raw = result.text.trimEnd();
    const cut = generateCut(document, result.text, prompt.language);
    const kept = cut ? result.text.slice(0, cut.end).trimEnd() : raw;
    const ruled = judge(prompt, document + kept, values.python!);
    const unruled = judge(prompt, document + raw, values.python!);
    withRules.push(ruled);
    withoutRules.push(unruled);
    records.push({ id: prompt.id, end: cut?.reason ?? result.stats.stopReason, ...ruled, text: kept });
    console.log(
      `${prompt.id.padEnd(16)} ${ruled.parses ? 'parses' : 'broken'} ${ruled.passes ? 'passes' : 'fails '} ` +
        `${String(ruled.lines).padStart(3)} lines (${cut?.reason ?? result.stats.stopReason}; without the end rules ` +
        `${unruled.lines} lines, ${unruled.parses ? 'parses' : 'broken'})`,
    );
  }
  const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
  const mean = (o: Outcome[]) => (o.reduce((a, b) => a + b.lines, 0) / Math.max(1, o.length)).toFixed(1);
  console.log(`\nmodel ${values.model}, ${prompts.length} prompts, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log('| | parses | passes its test | mean lines |');
  console.log('|---|---|---|---|');
  console.log(
    `| with the end rules (as shipped) | ${pct(share(withRules, 'parses'))} | ${pct(share(withRules, 'passes'))} | ${mean(withRules)} |`,
  );
  console.log(
    `| without them | ${pct(share(withoutRules, 'parses'))} | ${pct(share(withoutRules, 'passes'))} | ${mean(withoutRules)} |`,
  );
  if (values.json) {
    const report = {
      model: values.model,
      prompts: prompts.length,
      with_rules: { parses: share(withRules, 'parses'), passes: share(withRules, 'passes') },
      without_rules: { parses: share(withoutRules, 'parses'), passes: share(withoutRules, 'passes') },
      records,
    };
    fs.writeFileSync(values.json, JSON.stringify(report, null, 2));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
