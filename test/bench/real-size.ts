// `npm run bench -- --real-size`: Wisp against transformers.js and llama.cpp's llama-server on a
// model of a real shape (Qwen2.5-Coder-0.5B's, random weights: timing does not depend on the values)
// at the precisions people download, the same weights everywhere (test/bench/make_real_size.py
// writes them; llama-server reads the GGUF of the same tensors).
//
// Rows (all from one command; --rows picks some): wisp (a ModelSession with the engine's cache
// rule), wisp_no_reuse (the same process, its cache dropped before each call: a full prefill),
// transformersjs (AutoModelForCausalLM.generate on the same ONNX file: no reuse between calls),
// llamacpp (llama-server with cache_prompt), and on request wisp_all_logits (wisp with the LM head
// on every fed position: the last-rows lever switched off). Per pair (ONNX ↔ GGUF) and thread count:
//   prefill   a cold 480-token prompt, 1 token out
//   keystroke the prompt grows by one token, 9 tokens are generated greedily, every row in turn
//             (the order rotates) so the machine's other load falls on all alike; rows without reuse
//             answer only the first --no-reuse-keys keystrokes (each is a full prefill)
//   live      each row alone in real time: tokens typed 56–104 ms apart with pauses, 75 ms debounce,
//             the row takes the newest key whenever it is free; a key is answered when its
//             suggestion is ready before the next key (the last key: within 1 s)
//   decode    ms/token at 512 and 1,024 past (a prompt of that length, then 9 tokens), against the
//             bandwidth floor: the bytes a step reads (weights + K and V of every past position) ÷
//             this machine's read bandwidth, measured in the same run as the default bench does
// The prompt is token ids everywhere (llama-server's /completion takes them), so no tokenizer is
// involved; end-of-text is ignored so every row generates the same number of tokens.
import { ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KvPast, ModelSession } from '../../src/engine/model/model-session';
import { ByteSource, fields, fileSource, text } from '../../src/engine/model/onnx-proto';
import { bandwidth } from './figures';
import { machine, median, peakRssMb, percentile, rng, round, sleep } from './measure';
import { peerPackageDir } from './peer-engine';

interface RealArgs {
  shape: string;
  json?: string;
  keys: number;
  noReuseKeys: number;
  threads: number[];
  pairs: string[];
  prompt: number;
  generate: number;
  rows: string[];
  liveKeys: number;
  decodePast: number[];
}

const ROWS = ['wisp', 'wisp_no_reuse', 'transformersjs', 'llamacpp'];

/** ONNX file ↔ GGUF file of the same weights at a comparable precision. */
const PAIRS: Record<string, { onnx: string; gguf: string; label: string }> = {
  q4: { onnx: 'model_q4.onnx', gguf: 'model-q4_0.gguf', label: 'MatMulNBits 4-bit ↔ Q4_0' },
  q8: { onnx: 'model_q8.onnx', gguf: 'model-q8_0.gguf', label: 'MatMulNBits 8-bit ↔ Q8_0' },
  q4a4: { onnx: 'model_q4_acc4.onnx', gguf: 'model-q4_0.gguf', label: 'MatMulNBits 4-bit, int8 compute ↔ Q4_0' },
  q8a4: { onnx: 'model_q8_acc4.onnx', gguf: 'model-q8_0.gguf', label: 'MatMulNBits 8-bit, int8 compute ↔ Q8_0' },
  fp32: { onnx: 'model.onnx', gguf: 'model-f16.gguf', label: 'fp32 ONNX ↔ F16 GGUF' },
  q4b128: { onnx: 'model_q4_b128.onnx', gguf: 'model-q4_0.gguf', label: 'MatMulNBits 4-bit, block 128 ↔ Q4_0' },
  q4b128a4: {
    onnx: 'model_q4_b128_acc4.onnx',
    gguf: 'model-q4_0.gguf',
    label: 'MatMulNBits 4-bit, block 128, int8 compute ↔ Q4_0',
  },
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
    keys: Number(value('--keys') ?? 8),
    noReuseKeys: Number(value('--no-reuse-keys') ?? 2),
    threads: list('--threads', '1').map(Number),
    pairs: list('--pairs', 'q4'),
    prompt: Number(value('--prompt') ?? 480),
    generate: Number(value('--generate') ?? 9),
    rows: list('--rows', ROWS.join(',')),
    liveKeys: Number(value('--live-keys') ?? 24),
    decodePast: list('--decode-past', '512,1024').map(Number),
  };
}

const log = (line: string) => process.stderr.write(`[bench real-size] ${line}\n`);

/** `block128`: also write the block-128 variants (only when a pair asks for them: 3 min more). */
function ensureModels(repo: string, shape: string, block128: boolean): string {
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
      ...(block128 ? ['--block-128'] : []),
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
  /** ms of the prompt part (the forward of the tokens not in the cache); NaN where not known. */
  promptMs: number;
  tokens: number[];
}

/** One engine process; rows are an engine with or without reuse. */
interface EngineProc {
  name: string;
  pid: number;
  loadMs: number;
  answer(ids: number[], reuse: boolean): Promise<Answer>;
  /** ms per generated token after the first, from a cold prompt of `past` tokens. */
  decode(past: number): Promise<number>;
  stop(): Promise<void>;
}

interface ChildRequest {
  load?: { onnx: string; config: string; threads: number; lastRowLogits: boolean };
  ids?: number[];
  reuse?: boolean;
  generate: number;
  decodePast?: number;
}

const argmax = (logits: Float32Array) => {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
};

/** A prompt of `n` token ids, the same for every engine. */
const promptIds = (n: number, seed: number) => {
  const random = rng(seed);
  return Array.from({ length: n }, () => Math.floor(random() * 500));
};

/** Serves ChildRequests in a forked child, one at a time. */
function serveChild(handle: (msg: ChildRequest) => Promise<Record<string, unknown>>): void {
  process.on('message', (msg: ChildRequest) => {
    handle(msg).then(
      (reply) => process.send?.({ ok: true, ...reply }),
      (err: Error) => process.send?.({ ok: false, error: err.stack ?? String(err) }),
    );
  });
}

// ---------------------------------------------------------------- Wisp (a forked engine-model process)

/** The child: one ModelSession, the engine's cache rule (keep the longest common prefix, truncate, feed the rest). */
export function runRealSizeWisp(): void {
  let session: ModelSession | undefined;
  let cachedIds: number[] = [];
  let past: KvPast | undefined;
  serveChild(async (msg) => {
    if (msg.load) {
      const t0 = performance.now();
      const config = JSON.parse(fs.readFileSync(msg.load.config, 'utf8')) as Record<string, unknown>;
      session = await ModelSession.create(msg.load.onnx, config, {
        device: 'cpu',
        threads: msg.load.threads,
        lastRowLogits: msg.load.lastRowLogits,
      });
      past = session.emptyPast();
      return { loadMs: performance.now() - t0 };
    }
    if (!session || !past) throw new Error('not loaded');
    if (msg.decodePast) {
      let r = await session.forward(promptIds(msg.decodePast, 7), session.emptyPast());
      const times: number[] = [];
      for (let i = 1; i < msg.generate; i++) {
        const t = performance.now();
        const next = await session.forward([argmax(r.logits)], r.present);
        times.push(performance.now() - t);
        r.present.dispose();
        r = next;
      }
      r.present.dispose();
      return { msPerToken: median(times) };
    }
    const ids = msg.ids!;
    const t0 = performance.now();
    let keep = 0;
    if (msg.reuse) {
      const limit = Math.min(cachedIds.length, past.length, ids.length - 1);
      while (keep < limit && cachedIds[keep] === ids[keep]) keep++;
    }
    let r = await session.forward(ids.slice(keep), keep === 0 ? session.emptyPast() : past.truncate(keep));
    const promptMs = performance.now() - t0;
    const tokens = [argmax(r.logits)];
    for (let i = 1; i < msg.generate; i++) {
      r = await session.forward([tokens[tokens.length - 1]], r.present);
      tokens.push(argmax(r.logits));
    }
    past = r.present;
    cachedIds = [...ids, ...tokens.slice(0, -1)];
    return { answer: { wallMs: performance.now() - t0, prefilled: ids.length - keep, promptMs, tokens } };
  });
}

// ---------------------------------------------------------------- transformers.js (a forked process)

/* eslint-disable @typescript-eslint/no-explicit-any */
const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

/**
 * The child: transformers.js on the same ONNX file (`model_file_name` names it, dtype fp32 adds no
 * suffix), `generate` greedy with exactly `generate` new tokens. It keeps no KV cache between calls.
 */
export function runRealSizePeer(repo: string): void {
  let tjs: any;
  let model: any;
  /** Greedy generation of exactly `count` tokens; `stepTimes` gets the time each step ended. */
  const generate = async (ids: number[], count: number, stepTimes: number[] = []): Promise<number[]> => {
    const n = ids.length;
    // generate() calls its stopping criteria once after every step
    class StepClock extends tjs.StoppingCriteria {
      _call(rows: unknown[]): boolean[] {
        stepTimes.push(performance.now());
        return rows.map(() => false);
      }
    }
    const out = await model.generate({
      input_ids: new tjs.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
      attention_mask: new tjs.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
      max_new_tokens: count,
      min_new_tokens: count,
      do_sample: false,
      stopping_criteria: [new StepClock()],
    });
    return Array.from(out.data as BigInt64Array, Number).slice(n);
  };
  serveChild(async (msg) => {
    if (msg.load) {
      const t0 = performance.now();
      tjs = await dynamicImport(path.join(peerPackageDir(repo), 'dist', 'transformers.node.mjs'));
      tjs.env.allowRemoteModels = false;
      const dir = path.dirname(path.dirname(msg.load.onnx));
      tjs.env.localModelPath = path.dirname(dir) + path.sep;
      model = await tjs.AutoModelForCausalLM.from_pretrained(path.basename(dir), {
        dtype: 'fp32',
        model_file_name: path.basename(msg.load.onnx, '.onnx'),
        use_external_data_format: fs.existsSync(`${msg.load.onnx}_data`),
        device: 'cpu',
        session_options: { intraOpNumThreads: msg.load.threads, interOpNumThreads: 1 },
      });
      return { loadMs: performance.now() - t0 };
    }
    if (msg.decodePast) {
      const ends: number[] = [];
      await generate(promptIds(msg.decodePast, 7), msg.generate, ends);
      return { msPerToken: median(ends.slice(1).map((t, i) => t - ends[i])) };
    }
    const t0 = performance.now();
    const tokens = await generate(msg.ids!, msg.generate);
    return { answer: { wallMs: performance.now() - t0, prefilled: msg.ids!.length, promptMs: NaN, tokens } };
  });
}
/* eslint-enable @typescript-eslint/no-explicit-any */

async function startChild(
  name: string,
  script: string,
  role: string,
  load: NonNullable<ChildRequest['load']>,
  generate: number,
): Promise<EngineProc> {
  const child: ChildProcess = fork(script, [], {
    env: { ...process.env, WISP_BENCH_ROLE: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const call = <T>(msg: ChildRequest) =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (m: { ok: boolean; error?: string } & T) =>
        m.ok ? resolve(m) : reject(new Error(m.error)),
      );
      child.send(msg);
    });
  const { loadMs } = await call<{ loadMs: number }>({ load, generate });
  return {
    name,
    pid: child.pid ?? 0,
    loadMs,
    async answer(ids, reuse) {
      const t0 = performance.now();
      const { answer } = await call<{ answer: Answer }>({ ids, reuse, generate });
      return { ...answer, wallMs: performance.now() - t0 };
    },
    async decode(past) {
      return (await call<{ msPerToken: number }>({ decodePast: past, generate })).msPerToken;
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

interface LlamaTimings {
  prompt_n: number;
  prompt_ms: number;
  predicted_n: number;
  predicted_ms: number;
}

async function startLlama(
  bin: string,
  gguf: string,
  threads: number,
  nCtx: number,
  generate: number,
): Promise<EngineProc> {
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
  const complete = async (ids: number[], reuse: boolean) => {
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
    const body = (await r.json()) as { tokens: number[]; timings: LlamaTimings };
    if (!r.ok) throw new Error(`llama-server: HTTP ${r.status}: ${JSON.stringify(body).slice(0, 300)}`);
    return { wallMs: performance.now() - t1, body };
  };
  return {
    name: 'llamacpp',
    pid: child.pid ?? 0,
    loadMs,
    async answer(ids, reuse) {
      const { wallMs, body } = await complete(ids, reuse);
      return { wallMs, prefilled: body.timings.prompt_n, promptMs: body.timings.prompt_ms, tokens: body.tokens };
    },
    async decode(past) {
      // predicted_ms counts the decode steps after the prompt pass (which produced the first token)
      const t = (await complete(promptIds(past, 7), false)).body.timings;
      return t.predicted_n > 1 ? t.predicted_ms / (t.predicted_n - 1) : NaN;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// ---------------------------------------------------------------- bytes a decode step reads

/**
 * Initializer bytes of an ONNX graph that a decode step reads: all of them but the tables only a
 * Gather reads (the token embedding, of which a step reads one row). The embedding of a tied model
 * counts when the head reads it too.
 */
export function onnxStepBytes(source: ByteSource): number {
  let graph: { payload: number; end: number } | undefined;
  for (const f of fields(source, 0, source.size)) if (f.num === 7) graph = f;
  if (!graph) return NaN;
  const sizes = new Map<string, number>();
  const readers = new Map<string, Set<string>>();
  for (const f of fields(source, graph.payload, graph.end)) {
    if (f.num === 5) {
      let name = '';
      let bytes = 0;
      for (const g of fields(source, f.payload, f.end)) {
        if (g.num === 8) name = text(source, g);
        else if (g.num === 9) bytes = g.end - g.payload;
        else if (g.num === 13) {
          let key = '';
          let value = '';
          for (const e of fields(source, g.payload, g.end)) {
            if (e.num === 1) key = text(source, e);
            if (e.num === 2) value = text(source, e);
          }
          if (key === 'length') bytes = Number(value);
        }
      }
      sizes.set(name, bytes);
    } else if (f.num === 1) {
      let op = '';
      const inputs: string[] = [];
      for (const g of fields(source, f.payload, f.end)) {
        if (g.num === 1) inputs.push(text(source, g));
        if (g.num === 4) op = text(source, g);
      }
      for (const i of inputs) readers.set(i, (readers.get(i) ?? new Set<string>()).add(op));
    }
  }
  let total = 0;
  for (const [name, bytes] of sizes) {
    const ops = readers.get(name);
    if (!(ops && ops.size === 1 && ops.has('Gather'))) total += bytes;
  }
  return total;
}

function onnxFileStepBytes(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    return onnxStepBytes(fileSource(fd, fs.fstatSync(fd).size));
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------- live replay

interface LiveStats {
  keys: number;
  answered: number;
  p50_ms: number;
}

const DEBOUNCE_MS = 75;

/** Key times (ms from the start): 56–104 ms apart, a 0.4–1.2 s pause after every 8th key 60% of the time, else 4%. */
function liveSchedule(keys: number, seed: number): number[] {
  const random = rng(seed);
  const times: number[] = [];
  let t = 0;
  for (let k = 0; k < keys; k++) {
    times.push(t);
    const pause = random() < ((k + 1) % 8 === 0 ? 0.6 : 0.04);
    t += pause ? 400 + random() * 800 : 56 + random() * 48;
  }
  return times;
}

/**
 * One row alone in real time. The row takes the newest key once its debounce has passed without a
 * newer one, whenever it is free (a call in flight runs to its end: none of these rows is cancelled
 * mid-call). Latency is key → answer without the debounce wait, over the answered keys.
 */
async function livePass(
  engine: EngineProc,
  reuse: boolean,
  idsOf: (k: number) => number[],
  times: number[],
): Promise<LiveStats> {
  const t0 = performance.now();
  const deadline = (k: number) => (k + 1 < times.length ? times[k + 1] : times[k] + 1000);
  const latencies: number[] = [];
  let served = -1;
  for (;;) {
    const now = performance.now() - t0;
    let k = -1;
    while (k + 1 < times.length && times[k + 1] <= now) k++;
    if (k > served) {
      const due = times[k] + DEBOUNCE_MS;
      const nextKey = k + 1 < times.length ? times[k + 1] : Infinity;
      if (now < due) {
        await sleep(Math.min(due, nextKey) - now);
        continue;
      }
      await engine.answer(idsOf(k), reuse);
      const done = performance.now() - t0;
      served = k;
      if (done < deadline(k)) latencies.push(done - times[k] - DEBOUNCE_MS);
    } else if (k === times.length - 1) {
      break;
    } else {
      await sleep(times[k + 1] - now);
    }
  }
  return { keys: times.length, answered: latencies.length, p50_ms: round(median(latencies)) };
}

// ---------------------------------------------------------------- the run

interface RowStats {
  /** Engine call (keystroke → answer), every keystroke in turn. */
  engine_p50_ms: number;
  engine_p95_ms: number;
  /** Keystrokes this row answered in turn (rows without reuse: the first --no-reuse-keys). */
  lockstep_keys: number;
  prefill_tokens_mean: number;
  /** Live replay: keys typed, keys answered before the next, and their latency p50. */
  keys: number;
  answered: number;
  answered_share: number;
  live_p50_ms: number;
  prefill_ms: number;
  load_ms: number;
  peak_rss_mb: number;
}

interface DecodeStats {
  ms_per_token: Record<string, number>;
  floor_ms: Record<string, number>;
  over_floor: Record<string, number>;
  step_weight_bytes: number;
  kv_bytes_per_position: number;
}

interface PairResult {
  pair: string;
  label: string;
  threads: number;
  onnx_mb: number;
  gguf_mb: number;
  rows: Record<string, RowStats>;
  decode: Record<string, DecodeStats>;
  /** Of the first generated token after each keystroke, how often Wisp and llama.cpp agreed. */
  first_token_agreement: number;
}

interface Row {
  name: string;
  engine: EngineProc;
  reuse: boolean;
}

async function runPair(
  repo: string,
  script: string,
  dir: string,
  pair: string,
  threads: number,
  bandwidthGbs: number,
  a: RealArgs,
): Promise<PairResult> {
  const { onnx, gguf, label } = PAIRS[pair];
  const onnxPath = path.join(dir, 'onnx', onnx);
  const ggufPath = path.join(dir, 'gguf', gguf);
  const configPath = path.join(dir, 'config.json');
  const sizeMb = (p: string) =>
    fs
      .readdirSync(path.dirname(p))
      .filter((f) => f === path.basename(p) || f === path.basename(p) + '_data')
      .reduce((s, f) => s + fs.statSync(path.join(path.dirname(p), f)).size, 0) / 1e6;
  log(`${pair} (${label}), ${threads} thread(s), rows ${a.rows.join(', ')}: loading`);
  const base = promptIds(a.prompt, 16);
  const typed = promptIds(a.keys + a.liveKeys + 1, 17);
  const want = new Set(a.rows);
  const wispLoad = (lastRowLogits: boolean) => ({ onnx: onnxPath, config: configPath, threads, lastRowLogits });
  const procs: EngineProc[] = [];
  const rows: Row[] = [];
  try {
    if (want.has('llamacpp')) {
      const llama = await startLlama(llamaServerBin(repo), ggufPath, threads, 2048, a.generate);
      procs.push(llama);
      rows.push({ name: 'llamacpp', engine: llama, reuse: true });
    }
    if (want.has('wisp') || want.has('wisp_no_reuse')) {
      const wisp = await startChild('wisp', script, 'real-size-wisp', wispLoad(true), a.generate);
      procs.push(wisp);
      if (want.has('wisp')) rows.push({ name: 'wisp', engine: wisp, reuse: true });
      if (want.has('wisp_no_reuse')) rows.push({ name: 'wisp_no_reuse', engine: wisp, reuse: false });
    }
    if (want.has('wisp_all_logits')) {
      const all = await startChild('wisp_all_logits', script, 'real-size-wisp', wispLoad(false), a.generate);
      procs.push(all);
      rows.push({ name: 'wisp_all_logits', engine: all, reuse: true });
    }
    if (want.has('transformersjs')) {
      const tjs = await startChild('transformersjs', script, 'real-size-peer', wispLoad(false), a.generate);
      procs.push(tjs);
      rows.push({ name: 'transformersjs', engine: tjs, reuse: false });
    }
    for (const p of procs) log(`  ${p.name}: load ${round(p.loadMs)} ms`);

    const prefill: Record<string, number> = {};
    for (const p of procs) {
      const r = await p.answer(base, false);
      prefill[p.name] = Number.isFinite(r.promptMs) ? r.promptMs : r.wallMs;
      log(`  ${p.name}: prefill ${a.prompt} tokens ${round(prefill[p.name])} ms`);
    }

    const lockstep: Record<string, Answer[]> = Object.fromEntries(rows.map((r) => [r.name, []]));
    let agree = 0;
    for (let k = 1; k <= a.keys; k++) {
      const ids = [...base, ...typed.slice(0, k)];
      const here = rows.filter((r) => r.reuse || k <= a.noReuseKeys);
      const shift = k % here.length;
      const order = [...here.slice(shift), ...here.slice(0, shift)];
      const firsts: Record<string, number> = {};
      for (const r of order) {
        const answer = await r.engine.answer(ids, r.reuse);
        lockstep[r.name].push(answer);
        firsts[r.name] = answer.tokens[0];
      }
      if (firsts.wisp !== undefined && firsts.wisp === firsts.llamacpp) agree++;
      log(`  key ${k}: ${order.map((r) => `${r.name} ${round(lockstep[r.name].at(-1)!.wallMs)} ms`).join(', ')}`);
    }

    const times = liveSchedule(a.liveKeys, 18);
    const live: Record<string, LiveStats> = {};
    for (const r of rows) {
      const start = a.keys;
      live[r.name] = await livePass(r.engine, r.reuse, (k) => [...base, ...typed.slice(0, start + 1 + k)], times);
      log(`  ${r.name} live: answered ${live[r.name].answered} / ${live[r.name].keys}, p50 ${live[r.name].p50_ms} ms`);
    }

    const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, number>;
    const kvValues =
      2 * config.num_hidden_layers * config.num_key_value_heads * (config.hidden_size / config.num_attention_heads);
    const decode: Record<string, DecodeStats> = {};
    for (const p of procs) {
      const onnxSide = p.name !== 'llamacpp';
      // K and V of every layer and position: float32 in the ONNX graphs, f16 in llama.cpp's cache
      const kvBytes = kvValues * (onnxSide ? 4 : 2);
      const weights = onnxSide ? onnxFileStepBytes(onnxPath) : fs.statSync(ggufPath).size;
      const d: DecodeStats = {
        ms_per_token: {},
        floor_ms: {},
        over_floor: {},
        step_weight_bytes: weights,
        kv_bytes_per_position: kvBytes,
      };
      for (const past of a.decodePast) {
        d.ms_per_token[past] = round(await p.decode(past), 2);
        d.floor_ms[past] = round(((weights + kvBytes * past) / (bandwidthGbs * 1e9)) * 1000, 2);
        d.over_floor[past] = round(d.ms_per_token[past] / d.floor_ms[past], 2);
      }
      decode[p.name] = d;
      log(
        `  ${p.name} decode: ${a.decodePast.map((past) => `${d.ms_per_token[past]} ms/token at ${past} (×${d.over_floor[past]} floor)`).join(', ')}`,
      );
    }

    const result: Record<string, RowStats> = {};
    for (const r of rows) {
      const wall = lockstep[r.name].map((x) => x.wallMs);
      const l = live[r.name];
      result[r.name] = {
        engine_p50_ms: round(median(wall)),
        engine_p95_ms: round(percentile(wall, 0.95)),
        lockstep_keys: wall.length,
        prefill_tokens_mean: round(lockstep[r.name].reduce((s, x) => s + x.prefilled, 0) / Math.max(1, wall.length), 2),
        keys: l.keys,
        answered: l.answered,
        answered_share: round(l.answered / l.keys, 3),
        live_p50_ms: l.p50_ms,
        prefill_ms: round(prefill[r.engine.name]),
        load_ms: round(r.engine.loadMs),
        peak_rss_mb: round(peakRssMb(r.engine.pid)),
      };
    }
    return {
      pair,
      label,
      threads,
      onnx_mb: round(sizeMb(onnxPath)),
      gguf_mb: round(sizeMb(ggufPath)),
      rows: result,
      decode,
      first_token_agreement: round(agree / Math.max(1, a.keys), 2),
    };
  } finally {
    for (const p of procs) await p.stop();
  }
}

const ROW_LABEL: Record<string, string> = {
  wisp: 'Wisp',
  wisp_no_reuse: 'Wisp, no reuse',
  wisp_all_logits: 'Wisp, logits of every position',
  transformersjs: 'transformers.js',
  llamacpp: 'llama-server',
};

function table(results: PairResult[], decodePast: number[], prompt: number): string {
  const out = [
    `| weights | threads | row | engine call p50 / p95 | answered live | prefilled / key | ${decodePast.map((p) => `decode ms/token @${p} (× floor)`).join(' | ')} | prefill ${prompt} | load | peak RSS |`,
    `|---|---:|---|---:|---:|---:|${decodePast.map(() => '---:|').join('')}---:|---:|---:|`,
  ];
  for (const r of results) {
    for (const [name, s] of Object.entries(r.rows)) {
      const proc = name === 'wisp_no_reuse' ? 'wisp' : name;
      const d = r.decode[proc];
      const decodeCells = decodePast.map((p) => (d ? `${d.ms_per_token[p]} (×${d.over_floor[p]})` : '–'));
      out.push(
        `| ${r.pair} (${r.onnx_mb} / ${r.gguf_mb} MB) | ${r.threads} | ${ROW_LABEL[name] ?? name} | ${s.engine_p50_ms} / ${s.engine_p95_ms} ms (${s.lockstep_keys} keys) | ` +
          `${s.answered} / ${s.keys} | ${s.prefill_tokens_mean} | ${decodeCells.join(' | ')} | ${s.prefill_ms} ms | ${s.load_ms} ms | ${s.peak_rss_mb} MB |`,
      );
    }
  }
  return out.join('\n');
}

export async function realSizeMain(
  repo: string,
  script: string,
  argv: string[],
  ensurePeer: () => boolean,
): Promise<void> {
  const a = parseRealArgs(argv);
  if (a.rows.includes('transformersjs') && !ensurePeer()) {
    log('transformers.js could not be installed: its row is left out');
    a.rows = a.rows.filter((r) => r !== 'transformersjs');
  }
  const dir = ensureModels(
    repo,
    a.shape,
    a.pairs.some((p) => PAIRS[p]?.onnx.includes('_b128')),
  );
  const started = performance.now();
  const bandwidthMethod = { js_sum: round(await bandwidth('sum'), 1), memcmp: round(await bandwidth('memcmp'), 1) };
  const bw = Math.max(bandwidthMethod.js_sum, bandwidthMethod.memcmp);
  log(`read bandwidth ${bw} GB/s (js sum ${bandwidthMethod.js_sum}, memcmp ${bandwidthMethod.memcmp})`);
  const results: PairResult[] = [];
  for (const threads of a.threads) {
    for (const pair of a.pairs) results.push(await runPair(repo, script, dir, pair, threads, bw, a));
  }
  const first = results[0];
  const ratio = (x: number | undefined, y: number | undefined) => (x && y ? round(x / y, 2) : null);
  const report = {
    shape: a.shape,
    machine: machine(),
    load_average_1m: round(os.loadavg()[0], 2),
    prompt_tokens: a.prompt,
    generate_tokens: a.generate,
    keys: a.keys,
    bandwidth_gbs: bw,
    bandwidth_method: bandwidthMethod,
    seconds: round((performance.now() - started) / 1000),
    // the first pair's rows under the default bench's keys
    keystroke: first?.rows,
    decode: first && {
      ...first.decode,
      decode_over_floor_1024: first.decode.wisp?.over_floor[1024] ?? null,
      decode_over_floor_512: first.decode.wisp?.over_floor[512] ?? null,
    },
    ratios: first && {
      transformersjs_over_wisp_p50: ratio(first.rows.transformersjs?.engine_p50_ms, first.rows.wisp?.engine_p50_ms),
      no_reuse_over_wisp_p50: ratio(first.rows.wisp_no_reuse?.engine_p50_ms, first.rows.wisp?.engine_p50_ms),
      wisp_over_llamacpp_p50: ratio(first.rows.wisp?.engine_p50_ms, first.rows.llamacpp?.engine_p50_ms),
    },
    results,
  };
  console.log(`\n${a.shape}, ${machine()}, read bandwidth ${bw} GB/s, load average ${report.load_average_1m}\n`);
  console.log(table(results, a.decodePast, a.prompt));
  if (report.ratios) console.log(`\nratios (engine call p50): ${JSON.stringify(report.ratios)}`);
  if (a.json) {
    fs.mkdirSync(path.dirname(path.resolve(a.json)), { recursive: true });
    fs.writeFileSync(a.json, JSON.stringify(report, null, 2) + '\n');
    log(`wrote ${a.json}`);
  }
}
