// The last-rows rewrite (src/engine/model/last-rows-graph.ts) on every family fixture's graph: the
// rows it computes equal the same rows of the untouched graph, the KV cache it returns is the same,
// the weights stay in the file, and a graph it does not understand is left alone.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ModelSession } from '../../../src/engine/model/model-session';
import { LOGITS_START_INPUT, lastRowsGraph } from '../../../src/engine/model/last-rows-graph';
import { arraySource } from '../../../src/engine/model/onnx-proto';
import { maxAbsDiff } from './kv-checks';
import { REPO_ROOT, TINY_MODEL } from '../fixture';

const FAMILIES = path.join(REPO_ROOT, 'test', 'fixtures', 'families');

/** Graphs the rewrite applies to: MatMul heads, a Gemm between Reshapes, a bias Add, a Cast, MatMulNBits. */
const REWRITTEN: [string, string][] = [
  [TINY_MODEL, 'model.onnx'],
  [path.join(FAMILIES, 'codegen'), 'model.onnx'],
  [path.join(FAMILIES, 'gpt_bigcode'), 'model.onnx'],
  [path.join(FAMILIES, 'llama'), 'model.onnx'],
  [path.join(FAMILIES, 'qwen2'), 'model.onnx'],
  [path.join(FAMILIES, 'qwen2'), 'model_fp16.onnx'],
  [path.join(FAMILIES, 'qwen2'), 'model_q4.onnx'],
];

async function open(dir: string, file: string, lastRowLogits: boolean): Promise<ModelSession> {
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  return ModelSession.create(path.join(dir, 'onnx', file), config, { device: 'cpu', threads: 1, lastRowLogits });
}

describe('logits for the last rows only', () => {
  for (const [dir, file] of REWRITTEN) {
    it(`${path.basename(dir)}/${file}: same rows and cache as the full graph`, async () => {
      const full = await open(dir, file, false);
      const last = await open(dir, file, true);
      try {
        assert.equal(full.layout.logitsStartInput, undefined);
        assert.equal(last.layout.logitsStartInput, LOGITS_START_INPUT);
        const vocab = last.layout.vocabSize;
        const prompt = Array.from({ length: 23 }, (_, i) => (i * 37 + 5) % vocab);
        const a = await full.forward(prompt, full.emptyPast());
        const b = await last.forward(prompt, last.emptyPast());
        assert.equal(b.logits.length, vocab);
        assert.ok(maxAbsDiff(a.logits, b.logits) <= 1e-4, `last row differs by ${maxAbsDiff(a.logits, b.logits)}`);
        a.present.tensors.forEach((t, i) => {
          assert.deepEqual(t.dims, b.present.tensors[i].dims);
          assert.equal(maxAbsDiff(t.data as Float32Array, b.present.tensors[i].data as Float32Array), 0);
        });
        const more = [3, 1, 4];
        const aa = await full.forwardAll(more, a.present);
        const bb = await last.forwardAll(more, b.present);
        assert.equal(bb.logits.length, more.length * vocab);
        assert.ok(maxAbsDiff(aa.logits, bb.logits) <= 1e-4, `rows differ by ${maxAbsDiff(aa.logits, bb.logits)}`);
      } finally {
        await full.release();
        await last.release();
      }
    });
  }

  it('moves the weights out of the rewritten model, referring to the file', () => {
    const file = path.join(FAMILIES, 'qwen2', 'onnx', 'model.onnx');
    const bytes = fs.readFileSync(file);
    const rewritten = lastRowsGraph(arraySource(bytes), { location: 'model.onnx' });
    assert.ok(rewritten);
    assert.ok(rewritten.length < bytes.length / 4, `${rewritten.length} of ${bytes.length} bytes`);
    assert.ok(Buffer.from(rewritten).includes('model.onnx'));
  });

  it('leaves a graph whose logits come from an If (a merged decoder) alone', async () => {
    const dir = path.join(FAMILIES, 'gpt2-merged');
    const bytes = fs.readFileSync(path.join(dir, 'onnx', 'decoder_model_merged.onnx'));
    assert.equal(lastRowsGraph(arraySource(bytes), { location: 'decoder_model_merged.onnx' }), undefined);
    const session = await open(dir, 'decoder_model_merged.onnx', true);
    try {
      assert.equal(session.layout.logitsStartInput, undefined);
      const { logits } = await session.forward([1, 2, 3], session.emptyPast());
      assert.equal(logits.length, session.layout.vocabSize);
    } finally {
      await session.release();
    }
  });

  it('leaves a Reshape after the head alone when the vocabulary size is not known', () => {
    const bytes = fs.readFileSync(path.join(TINY_MODEL, 'onnx', 'model.onnx'));
    assert.equal(lastRowsGraph(arraySource(bytes), { location: 'model.onnx' }), undefined);
    assert.ok(lastRowsGraph(arraySource(bytes), { location: 'model.onnx', vocabSize: 512 }));
  });
});
