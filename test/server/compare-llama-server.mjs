#!/usr/bin/env node
// Does a real llama.cpp llama-server, serving the GGUF that recipe/export_gguf.py writes, compute
// what the extension's ONNX model computes? Greedy decoding is compared token for token, and the
// top-n log-probabilities of every step (n_probs) number for number, against onnxruntime-node
// running the same model folder's onnx/model.onnx with a KV cache, as the engine does.
//
//   node test/server/compare-llama-server.mjs [--model test/fixtures/tiny-gpt] [--gguf FILE]
//        [--server BIN] [--kv f32|f16] [--n-predict 16] [--n-probs 5] [--json OUT]
//        [--max-logprob-diff X] [--tie-margin X] [--server-args '-fa off ...']
//
// Defaults: --model models/wisp-code-small; --gguf ${WISP_CACHE:-~/.cache/wisp}/gguf/<model>-{f16,f32}.gguf
// (made with recipe/export_gguf.py when missing); --server from `scripts/llama-server.sh --check`;
// --kv f32 and --server-args '-fa off': the CPU flash-attention path rounds Q to f16 and adds ~2e-2
// nats to the differences on wisp-code-small (pass --server-args '' for llama-server's defaults).
// What remains with them (~2e-3) is ggml's GELU, a table over f16 inputs; hence --max-logprob-diff
// 5e-3 by default, 3e-2 for an f16 GGUF (ggml's f16 matmul rounds the activations to f16: ~1.8e-2).
// The server listens on 127.0.0.1 (a free port) and is stopped at the end; every request is
// bounded by a timeout. Exit code 0 when every case agrees: the same greedy tokens (or a first
// difference where the ONNX model's two best tokens were within --tie-margin nats, i.e. a tie
// that rounding may break either way) and top-n log-probabilities within --max-logprob-diff.
//
// Cases (texts below, encoded with the model's tokenizer.json through @huggingface/tokenizers):
//   tokenize   the server's /tokenize equals the tokenizer's ids; generated `content` equals their decoding
//   plain      /completion with a token-id prompt (code without FIM)
//   psm        /completion, <fim_prefix> prefix <fim_suffix> suffix <fim_middle>
//   spm        /completion, the engine's SPM order: <fim_prefix> <fim_suffix> suffix <fim_middle> prefix
//   infill     /infill with input_prefix / input_suffix (llama.cpp builds the PSM prompt itself)
//   typing     cache_prompt: the plain prompt growing by one character per request (KV reuse)
//   reference  (models with reference.json) the torch reference's prompt ids and greedy_next_8
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(ROOT, 'package.json'));
// onnxruntime's telemetry off, as in Wisp (src/engine/model/ort-telemetry-off.ts)
process.env.ORT_DISABLE_TELEMETRY = '1';
const ort = require('onnxruntime-node');

export const TEXTS = {
  plain: 'import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        ',
  prefix: 'function add(a, b) {\n  ',
  suffix: '\n}\n\nconsole.log(add(1, 2));\n',
  typing: 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def pu',
  tokenize: [
    'def area(r):\n    return 3.14159 * r ** 2\n',
    '  \t\n\n    x = {"key": [1, 2, 3]}  # comment\r\n',
    "const s = `héllo ${name}` + 'wörld 🙂 日本語';\n",
    "it's we'll they've I'm 12345 ...!!! <div class='a'></div>",
  ],
};

// ---------------------------------------------------------------------------------------------
export function cacheDir() {
  return process.env.WISP_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'wisp');
}

export function findServer() {
  if (process.env.LLAMA_SERVER) return process.env.LLAMA_SERVER;
  try {
    return execFileSync(path.join(ROOT, 'scripts', 'llama-server.sh'), ['--check'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'no llama-server built yet: run scripts/llama-server.sh (builds it into the cache, ~6 min on 2 cores)',
    );
  }
}

/** The GGUF of a model folder, written by recipe/export_gguf.py into the cache when missing. */
export function findGguf(modelDir) {
  const name = path.basename(path.resolve(modelDir));
  for (const t of ['f16', 'f32']) {
    const p = path.join(cacheDir(), 'gguf', `${name}-${t}.gguf`);
    if (fs.existsSync(p) && fs.statSync(p).mtimeMs >= fs.statSync(path.join(modelDir, 'onnx', 'model.onnx')).mtimeMs)
      return p;
  }
  const out = execFileSync('/usr/bin/python3', [path.join(ROOT, 'recipe', 'export_gguf.py'), '--model', modelDir], {
    encoding: 'utf8',
  });
  const m = out.match(/^wrote (.+\.gguf):/m);
  if (!m) throw new Error(`export_gguf.py said: ${out}`);
  return m[1];
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Start llama-server on loopback; resolves once /health says ok. stop() kills it (its pid only). */
export async function startServer({
  bin,
  gguf,
  nCtx,
  kv = 'f32',
  threads = 2,
  extraArgs = [],
  readyTimeoutMs = 60_000,
}) {
  const port = await freePort();
  const args = [
    '-m',
    gguf,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '-c',
    String(nCtx),
    '-np',
    '1',
    '-t',
    String(threads),
    '-tb',
    String(threads),
    '-ctk',
    kv,
    '-ctv',
    kv,
    '--no-webui',
    ...extraArgs,
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d) => {
    log = (log + d).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, sig) => {
    exited = { code, sig };
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise((resolve) => {
      if (exited) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 3000).unref();
    });
  const t0 = Date.now();
  for (;;) {
    if (exited) throw new Error(`llama-server exited (${JSON.stringify(exited)}):\n${log.slice(-3000)}`);
    if (Date.now() - t0 > readyTimeoutMs) {
      await stop();
      throw new Error(`llama-server not ready after ${readyTimeoutMs} ms:\n${log.slice(-3000)}`);
    }
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, args, stop, log: () => log, readyMs: Date.now() - t0 };
}

export async function post(url, route, body, timeoutMs = 30_000) {
  const r = await fetch(url + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${route}: HTTP ${r.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** Greedy, no penalties, raw (pre-sampling) top-n log-probabilities, token ids back. */
export function greedyRequest(nPredict, nProbs, cachePrompt) {
  return {
    n_predict: nPredict,
    temperature: 0,
    top_k: 1,
    top_p: 1,
    min_p: 0,
    typical_p: 1,
    repeat_penalty: 1,
    presence_penalty: 0,
    frequency_penalty: 0,
    dry_multiplier: 0,
    xtc_probability: 0,
    mirostat: 0,
    n_probs: nProbs,
    post_sampling_probs: false,
    return_tokens: true,
    cache_prompt: cachePrompt,
    seed: 0,
  };
}

// ---------------------------------------------------------------------------------------------
/** The model folder's ONNX graph with a KV cache, greedy, as the engine runs it. */
export async function loadOnnx(modelDir) {
  const cfg = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(modelDir, 'onnx', 'model.onnx'), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 2,
    graphOptimizationLevel: 'all',
  });
  const H = cfg.n_head,
    hd = cfg.n_embd / cfg.n_head,
    L = cfg.n_layer,
    V = cfg.vocab_size;
  async function greedy(promptIds, nPredict, eos, nProbs) {
    let past = [];
    for (let i = 0; i < L; i++)
      past.push(
        new ort.Tensor('float32', new Float32Array(0), [1, H, 0, hd]),
        new ort.Tensor('float32', new Float32Array(0), [1, H, 0, hd]),
      );
    let input = promptIds.slice();
    let pos = 0;
    const tokens = [],
      steps = [];
    for (let s = 0; s < nPredict; s++) {
      const T = input.length;
      const feeds = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(input.map(BigInt)), [1, T]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(pos + T).fill(1n), [1, pos + T]),
        position_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: T }, (_, i) => BigInt(pos + i)),
          [1, T],
        ),
      };
      for (let i = 0; i < L; i++) {
        feeds[`past_key_values.${i}.key`] = past[2 * i];
        feeds[`past_key_values.${i}.value`] = past[2 * i + 1];
      }
      const out = await session.run(feeds);
      const logits = out.logits.data.subarray((T - 1) * V, T * V);
      past = [];
      for (let i = 0; i < L; i++) past.push(out[`present.${i}.key`], out[`present.${i}.value`]);
      pos += T;
      const lp = logSoftmax(logits);
      const order = topN(lp, Math.max(nProbs, 2));
      steps.push({ top: order.map((id) => ({ id, logprob: lp[id] })) });
      const next = order[0];
      tokens.push(next);
      if (next === eos) break;
      input = [next];
    }
    return { tokens, steps };
  }
  return { cfg, greedy, V };
}

function logSoftmax(x) {
  let m = -Infinity;
  for (const v of x) if (v > m) m = v;
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return Float64Array.from(x, (v) => v - lse);
}
function topN(lp, n) {
  // argmax ties go to the lowest id, as a first-max scan does
  const idx = Array.from(lp.keys());
  idx.sort((a, b) => lp[b] - lp[a] || a - b);
  return idx.slice(0, n);
}

// ---------------------------------------------------------------------------------------------
/**
 * Pair the server's completion_probabilities with generated token positions. The server merges the
 * entries of tokens that end inside a UTF-8 character into the entry of the token that completes
 * it (one entry, the last token's id and probabilities, the bytes of all of them), so entries are
 * matched by bytes: byte-level BPE pieces have one character per byte.
 */
export function alignProbs(tokens, probs, pieceBytes) {
  const pairs = [];
  let i = 0;
  for (const e of probs) {
    const want = (e.bytes || []).length;
    let j = i,
      sum = 0;
    if (want === 0) j = i + 1;
    else while (j < tokens.length && sum < want) sum += pieceBytes(tokens[j++]);
    if (j > tokens.length || (want > 0 && sum !== want) || tokens[j - 1] !== e.id) break;
    pairs.push([j - 1, e]);
    i = j;
  }
  return pairs;
}

/** Compare one server answer with the ONNX greedy run of the same prompt ids. */
export function compareRun(name, server, onnx, eos, { tieMargin, pieceBytes }) {
  const st = server.tokens.filter((t, i, a) => !(t === eos && i === a.length - 1));
  const ot = onnx.tokens.filter((t, i, a) => !(t === eos && i === a.length - 1));
  let first = -1;
  for (let i = 0; i < Math.max(st.length, ot.length); i++)
    if (st[i] !== ot[i]) {
      first = i;
      break;
    }
  const pairs = alignProbs(server.tokens, server.completion_probabilities || [], pieceBytes).filter(
    ([i]) => i < onnx.steps.length && (first < 0 || i <= first),
  );
  let maxDiff = 0,
    compared = 0,
    topOk = 0;
  for (const [i, e] of pairs) {
    const sTop = e.top_logprobs || [];
    const oTop = onnx.steps[i].top;
    const oById = new Map(oTop.map((x) => [x.id, x.logprob]));
    if (sTop.length && sTop[0].id === oTop[0].id) topOk++;
    for (const x of sTop) {
      if (!oById.has(x.id)) continue; // outside the ONNX top list (only near ties can do this)
      maxDiff = Math.max(maxDiff, Math.abs(x.logprob - oById.get(x.id)));
      compared++;
    }
  }
  const upto = pairs.length;
  let margin = null;
  if (first >= 0 && first < onnx.steps.length) {
    const t = onnx.steps[first].top;
    margin = t[0].logprob - t[1].logprob;
  }
  const sameTokens = first < 0;
  const tie = !sameTokens && margin !== null && margin <= tieMargin;
  return {
    name,
    promptTokens: server.tokens_evaluated ?? null,
    generated: st.length,
    onnxGenerated: ot.length,
    sameTokens,
    firstDifference: first,
    onnxMarginAtDifference: margin,
    acceptedAsTie: tie,
    stepsCompared: upto,
    top1Agree: topOk,
    logprobsCompared: compared,
    maxLogprobDiff: maxDiff,
    serverTokens: st,
    onnxTokens: ot,
    serverContent: server.content,
    timings: server.timings
      ? {
          prompt_n: server.timings.prompt_n,
          prompt_ms: +server.timings.prompt_ms.toFixed(2),
          predicted_n: server.timings.predicted_n,
          predicted_per_token_ms: +server.timings.predicted_per_token_ms.toFixed(2),
        }
      : null,
  };
}

export async function runComparison(opts) {
  const modelDir = path.resolve(opts.model);
  const { Tokenizer } = await import(
    path.join(ROOT, 'node_modules', '@huggingface', 'tokenizers', 'dist', 'tokenizers.mjs')
  );
  const tok = new Tokenizer(
    JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')),
    JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8')),
  );
  const enc = (s) => tok.encode(s, { add_special_tokens: false }).ids;
  const special = Object.fromEntries(
    JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')).added_tokens.map((t) => [
      t.content,
      t.id,
    ]),
  );
  const vocab = JSON.parse(fs.readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')).model.vocab;
  const pieceLen = new Map(Object.entries(vocab).map(([piece, id]) => [id, Array.from(piece).length]));
  opts = { ...opts, pieceBytes: (id) => pieceLen.get(id) ?? 0 };
  const EOS = special['<|endoftext|>'],
    PRE = special['<fim_prefix>'],
    MID = special['<fim_middle>'],
    SUF = special['<fim_suffix>'];
  const onnx = await loadOnnx(modelDir);
  const gguf = opts.gguf || findGguf(modelDir);
  const bin = opts.server || findServer();
  if (opts.maxLogprobDiff === undefined) opts.maxLogprobDiff = /-f16\.gguf$/.test(gguf) ? 3e-2 : 5e-3;
  const srv = await startServer({ bin, gguf, nCtx: onnx.cfg.n_positions, kv: opts.kv, extraArgs: opts.serverArgs });
  const results = {
    model: modelDir,
    gguf,
    maxLogprobDiff: opts.maxLogprobDiff,
    serverArgs: srv.args.slice(6),
    ggufBytes: fs.statSync(gguf).size,
    server: bin,
    kv: opts.kv,
    serverReadyMs: srv.readyMs,
    cases: [],
    tokenize: [],
  };
  const N = opts.nPredict,
    P = opts.nProbs;
  try {
    // tokenizer parity
    for (const text of TEXTS.tokenize.concat([TEXTS.plain, TEXTS.prefix, TEXTS.suffix, TEXTS.typing])) {
      const ours = enc(text);
      const theirs = (await post(srv.url, '/tokenize', { content: text, add_special: false, parse_special: false }))
        .tokens;
      results.tokenize.push({
        text,
        same: JSON.stringify(ours) === JSON.stringify(theirs),
        ours: ours.length,
        theirs: theirs.length,
      });
    }
    const cases = [
      ['plain', enc(TEXTS.plain)],
      ['psm', [PRE, ...enc(TEXTS.prefix), SUF, ...enc(TEXTS.suffix), MID]],
      ['spm', [PRE, SUF, ...enc(TEXTS.suffix), MID, ...enc(TEXTS.prefix)]],
    ];
    const refPath = path.join(modelDir, 'reference.json');
    const ref = fs.existsSync(refPath) ? JSON.parse(fs.readFileSync(refPath, 'utf8')) : null;
    if (ref) cases.push(['reference', ref.prompt_ids]);
    for (const [name, ids] of cases) {
      const s = await post(srv.url, '/completion', { prompt: ids, ...greedyRequest(N, P, false) });
      const o = await onnx.greedy(ids, N, EOS, P);
      const r = compareRun(name, s, o, EOS, opts);
      r.contentMatchesDecode = s.content === tok.decode(r.serverTokens, { skip_special_tokens: true });
      if (ref && name === 'reference') {
        r.torchGreedy8 = ref.greedy_next_8;
        r.serverMatchesTorch8 = JSON.stringify(r.serverTokens.slice(0, 8)) === JSON.stringify(ref.greedy_next_8);
        r.serverTokenizesPrompt =
          JSON.stringify((await post(srv.url, '/tokenize', { content: ref.prompt, add_special: false })).tokens) ===
          JSON.stringify(ref.prompt_ids);
      }
      results.cases.push(r);
    }
    // /infill: llama.cpp assembles <fim_prefix> prefix <fim_suffix> suffix <fim_middle> from text
    {
      const ids = [PRE, ...enc(TEXTS.prefix), SUF, ...enc(TEXTS.suffix), MID];
      const s = await post(srv.url, '/infill', {
        input_prefix: TEXTS.prefix,
        input_suffix: TEXTS.suffix,
        ...greedyRequest(N, P, false),
      });
      const o = await onnx.greedy(ids, N, EOS, P);
      const r = compareRun('infill', s, o, EOS, opts);
      r.samePromptLength = s.tokens_evaluated === ids.length;
      results.cases.push(r);
    }
    // typing with cache_prompt: each request extends the previous prompt by one character
    for (let k = 0; k < 3; k++) {
      const text = TEXTS.typing + 'sh'.slice(0, k) + (k === 2 ? '(' : '');
      const ids = enc(text);
      const s = await post(srv.url, '/completion', { prompt: ids, ...greedyRequest(N, P, true) });
      const o = await onnx.greedy(ids, N, EOS, P);
      const r = compareRun(`typing${k}`, s, o, EOS, opts);
      r.cachedTokens = s.tokens_cached ?? null;
      r.promptEvaluated = s.timings?.prompt_n ?? null;
      results.cases.push(r);
    }
  } finally {
    await srv.stop();
  }
  const bad = results.cases.filter(
    (c) => (!c.sameTokens && !c.acceptedAsTie) || c.maxLogprobDiff > opts.maxLogprobDiff,
  );
  const badTok = results.tokenize.filter((t) => !t.same);
  results.ok =
    bad.length === 0 &&
    badTok.length === 0 &&
    results.cases.every(
      (c) => c.serverMatchesTorch8 !== false && c.serverTokenizesPrompt !== false && c.samePromptLength !== false,
    );
  return results;
}

function parseArgs(argv) {
  const o = {
    model: path.join(ROOT, 'models', 'wisp-code-small'),
    kv: 'f32',
    nPredict: 16,
    nProbs: 5,
    maxLogprobDiff: undefined,
    tieMargin: 1e-3,
    serverArgs: ['-fa', 'off'],
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i],
      v = argv[i + 1];
    const take = () => {
      i++;
      return v;
    };
    if (k === '--model') o.model = take();
    else if (k === '--gguf') o.gguf = take();
    else if (k === '--server') o.server = take();
    else if (k === '--kv') o.kv = take();
    else if (k === '--n-predict') o.nPredict = Number(take());
    else if (k === '--n-probs') o.nProbs = Number(take());
    else if (k === '--json') o.json = take();
    else if (k === '--max-logprob-diff') o.maxLogprobDiff = Number(take());
    else if (k === '--tie-margin') o.tieMargin = Number(take());
    else if (k === '--server-args') o.serverArgs = take().split(/\s+/).filter(Boolean);
    else throw new Error(`unknown argument ${k}`);
  }
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const opts = parseArgs(process.argv.slice(2));
  const r = await runComparison(opts);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(r, null, 1) + '\n');
  console.log(
    `model ${path.relative(ROOT, r.model) || r.model}  gguf ${r.gguf} (${(r.ggufBytes / 1e6).toFixed(2)} MB)  llama-server ${r.serverArgs.join(' ')}  ready in ${r.serverReadyMs} ms`,
  );
  console.log(`tokenize: ${r.tokenize.filter((t) => t.same).length}/${r.tokenize.length} texts give the same ids`);
  for (const c of r.cases) {
    const extra = [
      c.serverMatchesTorch8 !== undefined ? `torch greedy_next_8 ${c.serverMatchesTorch8 ? 'same' : 'DIFFERENT'}` : '',
      c.serverTokenizesPrompt !== undefined ? `prompt ids ${c.serverTokenizesPrompt ? 'same' : 'DIFFERENT'}` : '',
      c.samePromptLength !== undefined ? `prompt length ${c.samePromptLength ? 'same' : 'DIFFERENT'}` : '',
      c.cachedTokens !== undefined ? `prompt_n ${c.promptEvaluated}` : '',
      c.contentMatchesDecode !== undefined ? `content ${c.contentMatchesDecode ? '= decode' : '!= decode'}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const verdict = c.sameTokens
      ? 'same'
      : c.acceptedAsTie
        ? `tie at ${c.firstDifference} (margin ${c.onnxMarginAtDifference.toExponential(2)})`
        : `DIFFERENT from ${c.firstDifference} (margin ${c.onnxMarginAtDifference?.toExponential(2)})`;
    console.log(
      `${c.name.padEnd(9)} prompt ${String(c.promptTokens).padStart(3)}  greedy ${String(c.generated).padStart(2)} tokens: ${verdict}; top-1 ${c.top1Agree}/${c.stepsCompared} steps with probs; max |dlogprob| ${c.maxLogprobDiff.toExponential(2)} over ${c.logprobsCompared}${extra ? '; ' + extra : ''}`,
    );
  }
  console.log(r.ok ? 'OK: llama-server agrees with the ONNX model' : 'MISMATCH');
  process.exitCode = r.ok ? 0 : 1;
}
