// `npm run bench -- --real-size`: Wisp against llama.cpp's llama-server on a model of a real shape
// (Qwen2.5-Coder-0.5B's, random weights: timing does not depend on the values) at the precisions
// people download, the same weights on both sides (test/bench/make_real_size.py writes them).
//
// Per pair (ONNX variant ↔ GGUF variant) and thread count, both engines run side by side, one
// keystroke each in turn (the order alternates), so the machine's other load falls on both alike:
//   prefill   a cold 480-token prompt, 1 token out
//   keystroke the prompt grows by one token, 9 tokens are generated greedily; each engine keeps its
//             KV cache from the last keystroke (Wisp: the engine's longest-common-prefix rule on a
//             ModelSession; llama-server: cache_prompt), so 1 token is prefilled
//   no reuse  Wisp with its cache dropped before each keystroke (a full prefill every time)
// The prompt is token ids on both sides (llama-server's /completion takes them), so no tokenizer
// is involved; end-of-text is ignored so both always generate the same number of tokens.
import { ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KvPast, ModelSession } from '../../src/engine/model/model-session';
import { machine, median, peakRssMb, percentile, rng, round } from './measure';

interface RealArgs {
  shape: string;
  json?: string;
  keys: number;
  noReuseKeys: number;
  threads: number[];
  pairs: string[];
  prompt: number;
  generate: number;
}

/** ONNX file ↔ GGUF file of the same weights at a comparable precision. */
const PAIRS: Record<string, { onnx: string; gguf: string; label: string }> = {
  q4: { onnx: 'model_q4.onnx', gguf: 'model-q4_0.gguf', label: 'MatMulNBits 4-bit ↔ Q4_0' },
  q8: { onnx: 'model_q8.onnx', gguf: 'model-q8_0.gguf', label: 'MatMulNBits 8-bit ↔ Q8_0' },
  q4a4: { onnx: 'model_q4_acc4.onnx', gguf: 'model-q4_0.gguf', label: 'MatMulNBits 4-bit, int8 compute ↔ Q4_0' },
  q8a4: { onnx: 'model_q8_acc4.onnx', gguf: 'model-q8_0.gguf', label: 'MatMulNBits 8-bit, int8 compute ↔ Q8_0' },
  fp32: { onnx: 'model.onnx', gguf: 'model-f16.gguf', label: 'fp32 ONNX ↔ F16 GGUF' },
};

export function parseRealArgs(argv: string[]): RealArgs {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (name: string, fallback: string) => (value(name) ?? fallback).split(',').filter(Boolean);
  return {
    shape: value('--shape') ?? 'qwen2.5-coder-0.5b',
    json: value('--json'),
    keys: Number(value('--keys') ?? 12),
    noReuseKeys: Number(value('--no-reuse-keys') ?? 2),
    threads: list('--threads', '2,1').map(Number),
    pairs: list('--pairs', 'q4,q8'),
    prompt: Number(value('--prompt') ?? 480),
    generate: Number(value('--generate') ?? 9),
  };
}

const log = (line: string) => process.stderr.write(`[bench real-size] ${line}\n`);

function ensureModels(repo: string, shape: string): string {
  const gguf = spawnSync(path.join(repo, 'scripts', 'llama-server.sh'), ['--gguf-py'], { encoding: 'utf8' });
  if (gguf.status !== 0) throw new Error(`scripts/llama-server.sh --gguf-py failed: ${gguf.stderr}`);
  const r = spawnSync(
    'nice',
    [
      '-n',
      '10',
      '/usr/bin/python3',
      path.join(repo, 'test', 'bench', 'make_real_size.py'),
      '--shape',
      shape,
      '--gguf-py',
      gguf.stdout.trim(),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 2],
      env: { ...process.env, LD_LIBRARY_PATH: '/usr/lib/x86_64-linux-gnu/openblas-pthread' },
    },
  );
  if (r.status !== 0) throw new Error('make_real_size.py failed');
  const out = r.stdout.trim().split('\n').pop() ?? '';
  if (!fs.existsSync(path.join(out, 'config.json'))) throw new Error(`make_real_size.py printed ${out}`);
  return out;
}

function llamaServerBin(repo: string): string {
  const r = spawnSync(path.join(repo, 'scripts', 'llama-server.sh'), [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 2],
  });
  if (r.status !== 0) throw new Error('scripts/llama-server.sh could not provide llama-server');
  return r.stdout.trim();
}

// ---------------------------------------------------------------- one keystroke's answer

interface Answer {
  wallMs: number;
  /** Tokens the engine had to prefill (not found in its cache). */
  prefilled: number;
  /** Mean ms per generated token after the first (the decode steps). */
  decodeMsPerToken: number;
  /** ms of the prompt part (the forward of the tokens not in the cache). */
  promptMs: number;
  tokens: number[];
}

interface Engine {
  name: string;
  pid: number;
  loadMs: number;
  answer(ids: number[], reuse: boolean): Promise<Answer>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- Wisp (a forked engine-model process)

interface WispRequest {
  ids: number[];
  reuse: boolean;
  generate: number;
}

/** The child: one ModelSession, the engine's cache rule (keep the longest common prefix, truncate, feed the rest). */
export function runRealSizeWisp(): void {
  let session: ModelSession | undefined;
  let cachedIds: number[] = [];
  let past: KvPast | undefined;
  const argmax = (logits: Float32Array) => {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  };
  process.on('message', (msg: { load?: { onnx: string; config: string; threads: number } } & Partial<WispRequest>) => {
    void (async () => {
      try {
        if (msg.load) {
          const t0 = performance.now();
          const config = JSON.parse(fs.readFileSync(msg.load.config, 'utf8')) as Record<string, unknown>;
          session = await ModelSession.create(msg.load.onnx, config, { device: 'cpu', threads: msg.load.threads });
          past = session.emptyPast();
          process.send?.({ ok: true, loadMs: performance.now() - t0 });
          return;
        }
        if (!session || !past || !msg.ids) throw new Error('not loaded');
        const t0 = performance.now();
        const ids = msg.ids;
        let keep = 0;
        if (msg.reuse) {
          const limit = Math.min(cachedIds.length, past.length, ids.length - 1);
          while (keep < limit && cachedIds[keep] === ids[keep]) keep++;
        }
        let state = keep === 0 ? session.emptyPast() : past.truncate(keep);
        let r = await session.forward(ids.slice(keep), state);
        const promptMs = performance.now() - t0;
        const tokens = [argmax(r.logits)];
        const t1 = performance.now();
        for (let i = 1; i < (msg.generate ?? 1); i++) {
          r = await session.forward([tokens[tokens.length - 1]], r.present);
          tokens.push(argmax(r.logits));
        }
        const steps = tokens.length - 1;
        state = r.present;
        past = state;
        cachedIds = [...ids, ...tokens.slice(0, -1)];
        process.send?.({
          ok: true,
          answer: {
            wallMs: performance.now() - t0,
            prefilled: ids.length - keep,
            promptMs,
            decodeMsPerToken: steps > 0 ? (performance.now() - t1) / steps : NaN,
            tokens,
          },
        });
      } catch (err) {
        process.send?.({ ok: false, error: (err as Error).stack ?? String(err) });
      }
    })();
  });
}

async function startWisp(
  script: string,
  onnx: string,
  config: string,
  threads: number,
  generate: number,
): Promise<Engine> {
  const child: ChildProcess = fork(script, [], {
    env: { ...process.env, WISP_BENCH_ROLE: 'real-size-wisp' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const call = <T>(msg: unknown) =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (m: { ok: boolean; error?: string } & T) =>
        m.ok ? resolve(m) : reject(new Error(m.error)),
      );
      child.send(msg as object);
    });
  const { loadMs } = await call<{ loadMs: number }>({ load: { onnx, config, threads } });
  return {
    name: 'wisp',
    pid: child.pid ?? 0,
    loadMs,
    async answer(ids, reuse) {
      const t0 = performance.now();
      const { answer } = await call<{ answer: Answer }>({ ids, reuse, generate });
      return { ...answer, wallMs: performance.now() - t0 };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

// ---------------------------------------------------------------- llama.cpp's llama-server

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startLlama(bin: string, gguf: string, threads: number, nCtx: number, generate: number): Promise<Engine> {
  const port = await freePort();
  const t0 = performance.now();
  const args = ['-m', gguf, '--host', '127.0.0.1', '--port', String(port), '-c', String(nCtx), '-np', '1'];
  args.push('-t', String(threads), '-tb', String(threads), '--no-webui');
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-3000)));
  let exited = false;
  child.on('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`llama-server exited:\n${tail}`);
    if (i > 1200) throw new Error(`llama-server not ready after 120 s:\n${tail}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const loadMs = performance.now() - t0;
  return {
    name: 'llamacpp',
    pid: child.pid ?? 0,
    loadMs,
    async answer(ids, reuse) {
      const t1 = performance.now();
      const r = await fetch(`${url}/completion`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          prompt: ids,
          n_predict: generate,
          temperature: 0,
          top_k: 1,
          samplers: ['top_k'],
          ignore_eos: true,
          cache_prompt: reuse,
          return_tokens: true,
          seed: 0,
        }),
        signal: AbortSignal.timeout(300_000),
      });
      const body = (await r.json()) as {
        tokens: number[];
        timings: { prompt_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number };
      };
      const wallMs = performance.now() - t1;
      if (!r.ok) throw new Error(`llama-server: HTTP ${r.status}: ${JSON.stringify(body).slice(0, 300)}`);
      const t = body.timings;
      // predicted_ms counts the decode steps after the prompt pass (which produced the first token)
      return {
        wallMs,
        prefilled: t.prompt_n,
        promptMs: t.prompt_ms,
        decodeMsPerToken: t.predicted_n > 1 ? t.predicted_ms / (t.predicted_n - 1) : NaN,
        tokens: body.tokens,
      };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// ---------------------------------------------------------------- the run

interface RowStats {
  engine_p50_ms: number;
  engine_p95_ms: number;
  keys: number;
  answered: number;
  prefill_tokens_mean: number;
  decode_ms_per_token_p50: number;
  prefill_ms?: number;
  load_ms?: number;
  peak_rss_mb?: number;
}

function stats(answers: Answer[]): RowStats {
  const wall = answers.map((a) => a.wallMs);
  return {
    engine_p50_ms: round(median(wall)),
    engine_p95_ms: round(percentile(wall, 0.95)),
    keys: answers.length,
    answered: answers.length,
    prefill_tokens_mean: round(answers.reduce((s, a) => s + a.prefilled, 0) / Math.max(1, answers.length), 2),
    decode_ms_per_token_p50: round(median(answers.map((a) => a.decodeMsPerToken)), 2),
  };
}

interface PairResult {
  pair: string;
  label: string;
  threads: number;
  onnx_mb: number;
  gguf_mb: number;
  rows: Record<string, RowStats>;
  /** Of the first generated token after each keystroke, how often the two engines agreed. */
  first_token_agreement: number;
}

async function runPair(
  repo: string,
  script: string,
  dir: string,
  pair: string,
  threads: number,
  a: RealArgs,
): Promise<PairResult> {
  const { onnx, gguf, label } = PAIRS[pair];
  const onnxPath = path.join(dir, 'onnx', onnx);
  const ggufPath = path.join(dir, 'gguf', gguf);
  const sizeMb = (p: string) =>
    fs
      .readdirSync(path.dirname(p))
      .filter((f) => f === path.basename(p) || f === path.basename(p) + '_data')
      .reduce((s, f) => s + fs.statSync(path.join(path.dirname(p), f)).size, 0) / 1e6;
  log(`${pair} (${label}), ${threads} thread(s): loading`);
  const random = rng(16);
  const base = Array.from({ length: a.prompt }, () => Math.floor(random() * 500));
  const typed = Array.from({ length: a.keys + 1 }, () => Math.floor(random() * 500));
  const llama = await startLlama(llamaServerBin(repo), ggufPath, threads, 2048, a.generate);
  const wisp = await startWisp(script, onnxPath, path.join(dir, 'config.json'), threads, a.generate);
  const engines = [wisp, llama];
  const prefill: Record<string, number> = {};
  const keyAnswers: Record<string, Answer[]> = { wisp: [], llamacpp: [] };
  let agree = 0;
  try {
    for (const e of engines) {
      const r = await e.answer(base, false);
      prefill[e.name] = r.promptMs;
      log(`  ${e.name}: load ${round(e.loadMs)} ms, prefill ${a.prompt} tokens ${round(r.promptMs)} ms`);
    }
    for (let k = 1; k <= a.keys; k++) {
      const ids = [...base, ...typed.slice(0, k)];
      const order = k % 2 === 0 ? engines : [...engines].reverse();
      const firsts: number[] = [];
      for (const e of order) {
        const r = await e.answer(ids, true);
        keyAnswers[e.name].push(r);
        firsts.push(r.tokens[0]);
      }
      if (firsts[0] === firsts[1]) agree++;
      log(
        `  key ${k}: ${order.map((e) => `${e.name} ${round(keyAnswers[e.name][keyAnswers[e.name].length - 1].wallMs)} ms`).join(', ')}`,
      );
    }
    const noReuse: Answer[] = [];
    for (let k = 0; k < a.noReuseKeys; k++) {
      noReuse.push(await wisp.answer([...base, ...typed.slice(0, a.keys + 1 - k)], false));
      log(`  wisp without reuse: ${round(noReuse[noReuse.length - 1].wallMs)} ms`);
    }
    const rows: Record<string, RowStats> = {};
    for (const e of engines) {
      rows[e.name] = {
        ...stats(keyAnswers[e.name]),
        prefill_ms: round(prefill[e.name]),
        load_ms: round(e.loadMs),
        peak_rss_mb: round(peakRssMb(e.pid)),
      };
    }
    if (noReuse.length) rows.wisp_no_reuse = stats(noReuse);
    return {
      pair,
      label,
      threads,
      onnx_mb: round(sizeMb(onnxPath)),
      gguf_mb: round(sizeMb(ggufPath)),
      rows,
      first_token_agreement: round(agree / Math.max(1, a.keys), 2),
    };
  } finally {
    await wisp.stop();
    await llama.stop();
  }
}

function table(results: PairResult[]): string {
  const out = [
    '| weights | threads | engine | keystroke p50 / p95 | prefilled / key | decode ms/token | prefill 480 | load | peak RSS | llama.cpp ÷ Wisp (p50) |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const ratio = r.rows.llamacpp.engine_p50_ms / r.rows.wisp.engine_p50_ms;
    for (const name of ['wisp', 'llamacpp', 'wisp_no_reuse']) {
      const s = r.rows[name];
      if (!s) continue;
      const label = name === 'wisp' ? 'Wisp' : name === 'llamacpp' ? 'llama-server' : 'Wisp, no reuse';
      out.push(
        `| ${r.pair} (${r.onnx_mb} / ${r.gguf_mb} MB) | ${r.threads} | ${label} | ${s.engine_p50_ms} / ${s.engine_p95_ms} ms | ` +
          `${s.prefill_tokens_mean} | ${s.decode_ms_per_token_p50} | ${s.prefill_ms ?? '–'} ms | ${s.load_ms ?? '–'} ms | ` +
          `${s.peak_rss_mb ?? '–'} MB | ${name === 'wisp' ? round(ratio, 2) : ''} |`,
      );
    }
  }
  return out.join('\n');
}

export async function realSizeMain(repo: string, script: string, argv: string[]): Promise<void> {
  const a = parseRealArgs(argv);
  const dir = ensureModels(repo, a.shape);
  const started = performance.now();
  const results: PairResult[] = [];
  for (const threads of a.threads) {
    for (const pair of a.pairs) results.push(await runPair(repo, script, dir, pair, threads, a));
  }
  const report = {
    shape: a.shape,
    machine: machine(),
    load_average_1m: round(os.loadavg()[0], 2),
    prompt_tokens: a.prompt,
    generate_tokens: a.generate,
    keys: a.keys,
    seconds: round((performance.now() - started) / 1000),
    results,
  };
  console.log(`\n${a.shape}, ${machine()}\n`);
  console.log(table(results));
  if (a.json) {
    fs.mkdirSync(path.dirname(path.resolve(a.json)), { recursive: true });
    fs.writeFileSync(a.json, JSON.stringify(report, null, 2) + '\n');
    log(`wrote ${a.json}`);
  }
}
