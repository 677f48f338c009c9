// Compare ONNX variants of one model folder against its fp32 model.onnx in onnxruntime-node:
// next-token argmax agreement on held-out code prefixes, greedy continuations with the KV cache
// (token-for-token agreement with fp32), max |logit diff|, and per-token decode time.
// usage: node recipe/compare_variants.mjs MODEL_DIR VAL.jsonl.gz onnx/model_quantized.onnx [...]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Tokenizer } from '@huggingface/tokenizers';

// onnxruntime's telemetry off, as in Wisp (src/engine/model/ort-telemetry-off.ts): set before it loads
process.env.ORT_DISABLE_TELEMETRY = '1';
const { default: ort } = await import('onnxruntime-node');

const [dir, valFile, ...variants] = process.argv.slice(2);
const readJson = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const cfg = readJson('config.json');
const tok = new Tokenizer(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
const L = cfg.n_layer, H = cfg.n_head, hd = cfg.n_embd / cfg.n_head, V = cfg.vocab_size;
const docs = zlib.gunzipSync(fs.readFileSync(valFile)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l).text);

// deterministic prefixes: 24 held-out files, cut at a line start near the middle, 300 tokens at most
const prompts = [];
for (let i = 0; prompts.length < 24 && i < docs.length; i++) {
  const d = docs[(i * 7) % docs.length];
  const cut = d.indexOf('\n', Math.floor(d.length / 2));
  if (cut < 0) continue;
  const ids = tok.encode(d.slice(0, cut + 1)).ids.slice(-300);
  if (ids.length >= 50) prompts.push(ids);
}
const i64 = (arr, dims) => new ort.Tensor('int64', BigInt64Array.from(arr.map(BigInt)), dims);
const argmax = (a) => { let b = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i; return b; };

async function run(file) {
  const s = await ort.InferenceSession.create(path.join(dir, file), { intraOpNumThreads: 1 });
  const step = async (chunk, past, cache) => {
    const n = chunk.length;
    const feeds = { input_ids: i64(chunk, [1, n]), attention_mask: i64(Array(past + n).fill(1), [1, past + n]),
      position_ids: i64(chunk.map((_, i) => past + i), [1, n]) };
    for (let i = 0; i < L; i++) for (const kv of ['key', 'value'])
      feeds[`past_key_values.${i}.${kv}`] = cache ? cache[`present.${i}.${kv}`] : new ort.Tensor('float32', new Float32Array(0), [1, H, 0, hd]);
    const out = await s.run(feeds);
    return { last: out.logits.data.slice((n - 1) * V, n * V), cache: out };
  };
  const res = [];
  let decodeMs = 0, decodeN = 0;
  for (const ids of prompts) {
    let r = await step(ids, 0, null);
    const first = r.last;
    const greedy = [];
    let pos = ids.length;
    for (let k = 0; k < 16; k++) {
      const nxt = argmax(r.last);
      greedy.push(nxt);
      const t = performance.now();
      r = await step([nxt], pos++, r.cache);
      decodeMs += performance.now() - t; decodeN++;
    }
    res.push({ first, greedy });
  }
  return { res, msPerToken: decodeMs / decodeN, mb: fs.statSync(path.join(dir, file)).size / 1e6 };
}

const base = await run('onnx/model.onnx');
console.log(`fp32 model.onnx: ${base.mb.toFixed(1)} MB, decode ${base.msPerToken.toFixed(2)} ms/token, ${prompts.length} prompts`);
for (const v of variants) {
  const r = await run(v);
  let top1 = 0, same = 0, total = 0, fullSeq = 0, maxDiff = 0;
  r.res.forEach((x, i) => {
    const b = base.res[i];
    if (argmax(x.first) === argmax(b.first)) top1++;
    for (let j = 0; j < x.first.length; j++) maxDiff = Math.max(maxDiff, Math.abs(x.first[j] - b.first[j]));
    let k = 0; while (k < 16 && x.greedy[k] === b.greedy[k]) k++;
    same += k; total += 16; if (k === 16) fullSeq++;
  });
  console.log(`${v}: ${r.mb.toFixed(1)} MB, decode ${r.msPerToken.toFixed(2)} ms/token, next-token argmax = fp32 in ${top1}/${prompts.length}, ` +
    `greedy prefix agreement ${(100 * same / total).toFixed(1)}% of tokens, identical 16-token continuations ${fullSeq}/${prompts.length}, max |logit diff| ${maxDiff.toFixed(3)}`);
}
