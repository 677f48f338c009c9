// Times one decode step of a model folder's GPT-2 graph against make_gqa_probe.py's
// GroupQueryAttention graph of the same weights, fed two ways: the KV cache as today (past of P
// positions in, presents of P+1 out) and one fixed buffer of n_positions per tensor, bound as both
// the past input and the present output so that the op writes the new position in place. Checks
// first that both ways give the reference logits over a prompt and ten steps. Rounds interleave
// the three so that the machine's load falls on all alike; medians per past length.
// usage: node test/bench/gqa-probe.mjs MODEL_DIR GQA.onnx [--json OUT.json]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// onnxruntime's telemetry off, as in Wisp (src/engine/model/ort-telemetry-off.ts)
process.env.ORT_DISABLE_TELEMETRY = '1';
const ort = require('onnxruntime-node');
const [modelDir, gqaPath] = process.argv.slice(2);
const jsonAt = process.argv.indexOf('--json');
if (!modelDir || !gqaPath) throw new Error('usage: node test/bench/gqa-probe.mjs MODEL_DIR GQA.onnx [--json OUT.json]');
const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
const layers = config.n_layer;
const heads = config.n_head;
const headDim = config.n_embd / heads;
const bufferLength = config.n_positions;
const vocab = config.vocab_size;
const ROUNDS = 61;
const PASTS = [16, 247, 495];

const options = { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 };
const ids = (a) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
const int32 = (a, dims) => new ort.Tensor('int32', Int32Array.from(a), dims);
const kvNames = [];
for (let l = 0; l < layers; l++)
  for (const kv of ['key', 'value']) kvNames.push([`past_key_values.${l}.${kv}`, `present.${l}.${kv}`]);
const kvOf = (length, fill = 0) =>
  Object.fromEntries(
    kvNames.map(([name]) => [
      name,
      new ort.Tensor('float32', new Float32Array(heads * length * headDim).fill(fill), [1, heads, length, headDim]),
    ]),
  );
const presentsAsPast = (out) => Object.fromEntries(kvNames.map(([past, present]) => [past, out[present]]));

const reference = await ort.InferenceSession.create(path.join(modelDir, 'onnx', 'model.onnx'), options);
const gqa = await ort.InferenceSession.create(gqaPath, options);
const buffers = kvOf(bufferLength);
const inPlace = { logits: null, ...Object.fromEntries(kvNames.map(([past, present]) => [present, buffers[past]])) };

const referenceFeeds = (chunk, past, length) => ({
  input_ids: ids(chunk),
  attention_mask: ids(Array(length + chunk.length).fill(1)),
  position_ids: ids(chunk.map((_, i) => length + i)),
  ...past,
});
const gqaFeeds = (chunk, past, length, total) => ({
  input_ids: ids(chunk),
  position_ids: ids(chunk.map((_, i) => length + i)),
  seqlens_k: int32([length + chunk.length - 1], [1]),
  total_sequence_length: int32([total], []),
  ...past,
});

// Same logits: a 30-token prompt, then 10 single steps, each way.
const tokens = Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % vocab);
const chunks = [tokens.slice(0, 30), ...tokens.slice(30).map((t) => [t])];
const worst = { concat: 0, inPlace: 0 };
let refPast = kvOf(0);
let gqaPast = kvOf(0);
let length = 0;
let outputCopied = false;
for (const chunk of chunks) {
  const want = (await reference.run(referenceFeeds(chunk, refPast, length))).logits.data.slice(-vocab);
  const concat = await gqa.run(gqaFeeds(chunk, gqaPast, length, length + chunk.length));
  const shared = await gqa.run(gqaFeeds(chunk, buffers, length, bufferLength), inPlace);
  outputCopied ||= shared['present.0.key'].data.buffer !== buffers['past_key_values.0.key'].data.buffer;
  for (let j = 0; j < vocab; j++) {
    worst.concat = Math.max(worst.concat, Math.abs(concat.logits.data[j] - want[j]));
    worst.inPlace = Math.max(worst.inPlace, Math.abs(shared.logits.data[j] - want[j]));
  }
  refPast = presentsAsPast(await reference.run(referenceFeeds(chunk, refPast, length)));
  gqaPast = presentsAsPast(concat);
  length += chunk.length;
}

const rows = [];
for (const past of PASTS) {
  const cache = kvOf(past, 0.01);
  const ways = {
    'model.onnx (today)': () => reference.run(referenceFeeds([5], cache, past)),
    'GQA, past in, presents out': () => gqa.run(gqaFeeds([5], cache, past, past + 1)),
    'GQA, one buffer in place': () => gqa.run(gqaFeeds([5], buffers, past, bufferLength), inPlace),
  };
  const times = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, step] of Object.entries(ways)) {
      const t0 = performance.now();
      await step();
      times[name].push(performance.now() - t0);
    }
  }
  for (const [name, t] of Object.entries(times)) {
    t.sort((a, b) => a - b);
    rows.push({ past, way: name, medianMs: t[ROUNDS >> 1], p10Ms: t[Math.floor(ROUNDS / 10)] });
  }
}

console.log(
  `max |logits - reference| over a 30-token prompt and 10 steps: past in ${worst.concat.toExponential(1)}, in place ${worst.inPlace.toExponential(1)}`,
);
console.log(`onnxruntime-node returned the bound present in a new buffer (copied out): ${outputCopied ? 'yes' : 'no'}`);
console.log(`\n| past | graph, KV cache | decode step median | p10 | against today |\n|---:|---|---:|---:|---:|`);
for (const row of rows) {
  const today = rows.find((r) => r.past === row.past && r.way === 'model.onnx (today)');
  console.log(
    `| ${row.past} | ${row.way} | ${row.medianMs.toFixed(2)} ms | ${row.p10Ms.toFixed(2)} ms | ×${(today.medianMs / row.medianMs).toFixed(2)} |`,
  );
}
if (jsonAt > 0)
  fs.writeFileSync(
    process.argv[jsonAt + 1],
    JSON.stringify({ model: modelDir, gqa: gqaPath, worst, outputCopied, rounds: ROUNDS, rows }, null, 2) + '\n',
  );
