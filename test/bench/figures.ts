// Engine figures, measured in a process of their own that loads Wisp's Engine directly (never
// transformers.js): prefill of a full context, decode ms/token at two past lengths, the memory
// bandwidth of this machine measured in the same run, and the bandwidth floor of a decode step.
// Also the levers that need no change in src/: intra-op thread count, and graph variants built by
// make_variants.py (logits for the last position only), timed on a raw ORT session.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import '../../src/engine/model/ort-telemetry-off';
import * as ort from 'onnxruntime-node';
import { Engine } from '../../src/engine/engine';
import { median, round } from './measure';

export interface FigureOptions {
  modelDir: string;
  /** Text to tokenize for prompts (must give at least maxPositions tokens). */
  text: string;
  reps: number;
  steps: number;
  threadsToTry: number[];
  /** Source texts for the prompt-lookup statistics (the replayed files). */
  lookupTexts: string[];
  /** Extra ONNX files (same I/O except logits) to time prefill on: name → path. */
  variants: Record<string, string>;
}

export interface DecodeFigures {
  threads: number;
  load_ms: number;
  prefill_tokens: number;
  prefill_ms: number;
  past_a: number;
  ms_per_token_a: number;
  past_b: number;
  ms_per_token_b: number;
  forward_ms_by_tokens_at_past_b: Record<string, number>;
}

export interface PromptLookup {
  /** Positions where the last `ngram` tokens occur earlier in the window (a draft exists). */
  draft_share: number;
  /** Mean leading draft tokens equal to the real next tokens, over positions with a draft. */
  accepted_per_draft: number;
  /** Mean over all positions: tokens a step would yield (1 + accepted draft tokens). */
  tokens_per_step: number;
  ngram: number;
  k: number;
  positions: number;
}

/**
 * Prompt lookup on the source text itself: at each position, draft the k tokens that followed the
 * most recent earlier occurrence of the last n tokens (within the context window), and count how
 * many equal what really comes next. A trained model that copies as well as the text repeats
 * would accept that many; it bounds what the speculation can save on this code.
 */
export function promptLookup(ids: number[], window: number, ngram = 3, k = 4): PromptLookup {
  let drafts = 0;
  let accepted = 0;
  let positions = 0;
  for (let i = Math.min(window, ids.length - k - 1); i < ids.length - k; i++) {
    positions++;
    const lo = Math.max(0, i - window);
    for (let j = i - 1; j - ngram >= lo; j--) {
      let same = true;
      for (let q = 1; q <= ngram && same; q++) same = ids[j - q] === ids[i - q];
      if (!same) continue;
      drafts++;
      let n = 0;
      while (n < k && j + n < i && ids[j + n] === ids[i + n]) n++;
      accepted += n;
      break;
    }
  }
  return {
    draft_share: round(drafts / Math.max(1, positions), 3),
    accepted_per_draft: round(accepted / Math.max(1, drafts), 2),
    tokens_per_step: round(1 + accepted / Math.max(1, positions), 2),
    ngram,
    k,
    positions,
  };
}

export interface Figures {
  engines: DecodeFigures[];
  bandwidth_gbs: number;
  bandwidth_method: Record<string, number>;
  model_bytes: number;
  kv_bytes_per_position: number;
  floor_ms_per_token_a: number;
  floor_ms_per_token_b: number;
  prompt_lookup: PromptLookup;
  variants: Record<string, VariantFigures>;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { sab, offset, length, method, reps } = workerData;
const f = new Float32Array(sab, offset, length / 4);
const a = Buffer.from(sab, offset, length / 2), b = Buffer.from(sab, offset + length / 2, length / 2);
parentPort.on('message', () => {
  let x = 0;
  for (let r = 0; r < reps; r++) {
    if (method === 'sum') {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < f.length; i += 4) { s0 += f[i]; s1 += f[i + 1]; s2 += f[i + 2]; s3 += f[i + 3]; }
      x += s0 + s1 + s2 + s3;
    } else {
      x += a.compare(b);
    }
  }
  parentPort.postMessage(x);
});
`;

/** Read bandwidth (GB/s) with one worker per core each reading its own 64 MB slice, best of `reps`. */
export async function bandwidth(method: 'sum' | 'memcmp', reps = 5): Promise<number> {
  const workers = os.cpus().length;
  const per = 64 * 2 ** 20;
  const sab = new SharedArrayBuffer(per * workers);
  new Float32Array(sab).fill(1);
  const pool = Array.from(
    { length: workers },
    (_, i) => new Worker(WORKER, { eval: true, workerData: { sab, offset: i * per, length: per, method, reps: 1 } }),
  );
  const round1 = () =>
    Promise.all(pool.map((w) => new Promise((resolve) => (w.once('message', resolve), w.postMessage(0)))));
  await round1(); // warm up (JIT, page faults)
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await round1();
    best = Math.min(best, performance.now() - t);
  }
  await Promise.all(pool.map((w) => w.terminate()));
  return (per * workers) / (best / 1000) / 1e9;
}

/**
 * Prefill, decode and k-token forward times of Wisp's session, for several thread counts. The
 * engines are loaded side by side and measured in alternation, rep by rep and step by step, so
 * other work on the machine falls on all of them alike.
 */
async function timeEngines(options: FigureOptions, threadsList: number[], ids: number[]): Promise<DecodeFigures[]> {
  const engines: Engine[] = [];
  const loadMs: number[] = [];
  for (const threads of threadsList) {
    const t0 = performance.now();
    engines.push(await Engine.load({ modelDir: options.modelDir, variant: 'model.onnx', device: 'cpu', threads }));
    loadMs.push(performance.now() - t0);
  }
  const sessions = engines.map((e) => e.session);
  const maxPositions = sessions[0].layout.maxPositions;
  const prefillTokens = Math.min(1024, maxPositions);
  const pastB = Math.min(1024, maxPositions - options.steps - 1);
  const pastA = Math.min(512, Math.floor(pastB / 2));
  const n = sessions.length;
  const order = (r: number) => sessions.map((_, i) => (i + r) % n);
  const prefill: number[][] = sessions.map(() => []);
  for (let r = 0; r < options.reps; r++) {
    for (const i of order(r)) {
      const t = performance.now();
      await sessions[i].forward(ids.slice(0, prefillTokens), sessions[i].emptyPast());
      prefill[i].push(performance.now() - t);
    }
  }
  const decodeAt = async (past: number) => {
    const steps: number[][] = sessions.map(() => []);
    for (let r = 0; r < Math.max(1, Math.ceil(options.reps / 2)); r++) {
      const states = [];
      for (const s of sessions) states.push((await s.forward(ids.slice(0, past), s.emptyPast())).present);
      for (let k = 0; k < options.steps; k++) {
        for (const i of order(k)) {
          const t = performance.now();
          states[i] = (await sessions[i].forward([ids[past + k]], states[i])).present;
          steps[i].push(performance.now() - t);
        }
      }
    }
    return steps.map(median);
  };
  const a = await decodeAt(pastA);
  const b = await decodeAt(pastB);
  // one forward pass over k tokens (verifying k-1 drafted tokens) against one token, same past
  const verify: Record<string, number[]>[] = sessions.map(() => ({}));
  const states = [];
  for (const s of sessions) states.push((await s.forward(ids.slice(0, pastB - 8), s.emptyPast())).present);
  for (let r = 0; r < options.steps; r++) {
    for (const k of [1, 3, 5, 9]) {
      for (const i of order(r + k)) {
        const t = performance.now();
        await sessions[i].forwardAll(ids.slice(pastB - 8, pastB - 8 + k), states[i]);
        (verify[i][`tokens_${k}`] ??= []).push(performance.now() - t);
      }
    }
  }
  for (const e of engines) await e.dispose();
  return threadsList.map((threads, i) => ({
    threads,
    load_ms: round(loadMs[i]),
    prefill_tokens: prefillTokens,
    prefill_ms: round(median(prefill[i])),
    past_a: pastA,
    ms_per_token_a: round(a[i], 2),
    past_b: pastB,
    ms_per_token_b: round(b[i], 2),
    forward_ms_by_tokens_at_past_b: Object.fromEntries(
      Object.entries(verify[i]).map(([k, v]) => [k, round(median(v), 2)]),
    ),
  }));
}

type VariantFigures = {
  prefill_ms: number;
  decode_ms_per_token: number;
  step_all_outputs_ms: number;
  step_logits_only_ms: number;
};

/**
 * Graph variants on raw ORT sessions (their logits need not be [1, n, vocab]), measured in
 * alternation like timeEngines: prefill, decode, and one decode step from the same past fetching
 * every output or the logits alone (the difference is what copying the presents out costs).
 */
async function timeVariants(
  files: Record<string, string>,
  config: Record<string, number>,
  ids: number[],
  options: FigureOptions,
): Promise<Record<string, VariantFigures>> {
  const names = Object.keys(files);
  const sessions: ort.InferenceSession[] = [];
  for (const name of names)
    sessions.push(await ort.InferenceSession.create(files[name], { graphOptimizationLevel: 'all' }));
  const L = config.n_layer,
    H = config.n_head,
    D = config.n_embd / config.n_head;
  const feeds = (tokens: number[], past: Record<string, ort.Tensor> | undefined, pastLen: number) => {
    const n = tokens.length;
    const f: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLen + n).fill(1n), [1, pastLen + n]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map((_, i) => BigInt(pastLen + i))), [1, n]),
    };
    for (let i = 0; i < L; i++)
      for (const kv of ['key', 'value'])
        f[`past_key_values.${i}.${kv}`] =
          past?.[`present.${i}.${kv}`] ?? new ort.Tensor('float32', new Float32Array(0), [1, H, 0, D]);
    return f;
  };
  const k = sessions.length;
  const order = (r: number) => sessions.map((_, i) => (i + r) % k);
  const n = Math.min(1024, config.n_positions);
  const prefill: number[][] = sessions.map(() => []);
  for (let r = 0; r < options.reps; r++) {
    for (const i of order(r)) {
      const t = performance.now();
      await sessions[i].run(feeds(ids.slice(0, n), undefined, 0));
      prefill[i].push(performance.now() - t);
    }
  }
  const past = Math.min(1024, config.n_positions - options.steps - 1);
  const prompts: Record<string, ort.Tensor>[] = [];
  for (const s of sessions) prompts.push(await s.run(feeds(ids.slice(0, past), undefined, 0)));
  const outs = [...prompts];
  const steps: number[][] = sessions.map(() => []);
  const all: number[][] = sessions.map(() => []);
  const logitsOnly: number[][] = sessions.map(() => []);
  for (let step = 0; step < options.steps; step++) {
    for (const i of order(step)) {
      let t = performance.now();
      outs[i] = await sessions[i].run(feeds([ids[past + step]], outs[i], past + step));
      steps[i].push(performance.now() - t);
      t = performance.now();
      await sessions[i].run(feeds([ids[past]], prompts[i], past));
      all[i].push(performance.now() - t);
      t = performance.now();
      await sessions[i].run(feeds([ids[past]], prompts[i], past), ['logits']);
      logitsOnly[i].push(performance.now() - t);
    }
  }
  for (const s of sessions) await s.release();
  return Object.fromEntries(
    names.map((name, i) => [
      name,
      {
        prefill_ms: round(median(prefill[i])),
        decode_ms_per_token: round(median(steps[i]), 2),
        step_all_outputs_ms: round(median(all[i]), 2),
        step_logits_only_ms: round(median(logitsOnly[i]), 2),
      },
    ]),
  );
}

function combineLookups(parts: PromptLookup[]): PromptLookup {
  const positions = parts.reduce((n, p) => n + p.positions, 0);
  const drafts = parts.reduce((n, p) => n + p.draft_share * p.positions, 0);
  const accepted = parts.reduce((n, p) => n + p.accepted_per_draft * p.draft_share * p.positions, 0);
  return {
    draft_share: round(drafts / Math.max(1, positions), 3),
    accepted_per_draft: round(accepted / Math.max(1, drafts), 2),
    tokens_per_step: round(1 + accepted / Math.max(1, positions), 2),
    ngram: parts[0]?.ngram ?? 3,
    k: parts[0]?.k ?? 4,
    positions,
  };
}

export async function measureFigures(options: FigureOptions): Promise<Figures> {
  const probe = await Engine.load({ modelDir: options.modelDir, variant: 'model.onnx', device: 'cpu', threads: 0 });
  const ids = probe.tokenizer.encode(options.text);
  const { numLayers } = probe.session.layout;
  const config = probe.folder.config as Record<string, number>;
  const modelBytes = fs.statSync(probe.folder.onnxPath).size;
  const lookupIds = options.lookupTexts.map((t) => probe.tokenizer.encode(t).slice(-3000));
  await probe.dispose();
  const need = Math.min(1024, config.n_positions ?? 1024) + options.steps + 1;
  if (ids.length < need) throw new Error(`the figure text gives ${ids.length} tokens, ${need} needed`);

  const engines = await timeEngines(options, options.threadsToTry, ids);
  const present = Object.fromEntries(Object.entries(options.variants).filter(([, file]) => fs.existsSync(file)));
  const variants = Object.keys(present).length > 0 ? await timeVariants(present, config, ids, options) : {};
  const bandwidthMethod = { js_sum: round(await bandwidth('sum'), 1), memcmp: round(await bandwidth('memcmp'), 1) };
  const bw = Math.max(bandwidthMethod.js_sum, bandwidthMethod.memcmp);
  // K and V, every layer, every position: 2 × layers × n_embd floats (kv heads × head dim = n_embd for GPT-2)
  const kvPerPosition = 2 * numLayers * Number(config.n_embd) * 4;
  const base = engines[0];
  const floor = (past: number) => ((modelBytes + kvPerPosition * past) / (bw * 1e9)) * 1000;
  return {
    engines,
    bandwidth_gbs: bw,
    bandwidth_method: bandwidthMethod,
    model_bytes: modelBytes,
    kv_bytes_per_position: kvPerPosition,
    floor_ms_per_token_a: round(floor(base.past_a), 2),
    floor_ms_per_token_b: round(floor(base.past_b), 2),
    prompt_lookup: combineLookups(
      lookupIds.map((x) => promptLookup(x, Math.min(1024, Number(config.n_positions ?? 1024)))),
    ),
    variants,
  };
}

export function variantPaths(repoRoot: string, modelDir: string): Record<string, string> {
  const dir = path.join(repoRoot, 'test', 'bench', '.models', 'variants', path.basename(path.resolve(modelDir)));
  const onnx = path.join(path.resolve(modelDir), 'onnx');
  return {
    full_logits: path.join(onnx, 'model.onnx'),
    last_logits: path.join(dir, 'model_last_logits.onnx'),
    // the model folder's own int8 graph, when it ships one
    int8: path.join(onnx, 'model_quantized.onnx'),
  };
}
