// Broken model folders give a precise error, never a hang or a crash.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Engine } from '../../../src/engine/engine';
import { readModelLayout } from '../../../src/engine/model/model-layout';
import { TINY_MODEL } from '../fixture';

const copies: string[] = [];
after(() => copies.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function brokenCopy(change: (dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-model-'));
  copies.push(dir);
  fs.cpSync(TINY_MODEL, dir, { recursive: true });
  change(dir);
  return dir;
}

const load = (modelDir: string) => Engine.load({ modelDir, device: 'cpu', threads: 1 });

describe('model loading failures', () => {
  it('a folder that does not exist', async () => {
    await assert.rejects(load('/no/such/model'), /model folder does not exist: \/no\/such\/model/);
  });

  it('a missing tokenizer.json', async () => {
    const dir = brokenCopy((d) => fs.rmSync(path.join(d, 'tokenizer.json')));
    await assert.rejects(load(dir), /tokenizer\.json is missing/);
  });

  it('a config.json that is not JSON', async () => {
    const dir = brokenCopy((d) => fs.writeFileSync(path.join(d, 'config.json'), '{"n_layer": 2,'));
    await assert.rejects(load(dir), /config\.json is not valid JSON/);
  });

  it('no ONNX graph', async () => {
    const dir = brokenCopy((d) => fs.rmSync(path.join(d, 'onnx'), { recursive: true }));
    await assert.rejects(load(dir), /no ONNX graph/);
  });

  it('a truncated .onnx file', async () => {
    const dir = brokenCopy((d) => {
      const file = path.join(d, 'onnx', 'model.onnx');
      fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 5000));
    });
    await assert.rejects(load(dir), /cannot load .*model\.onnx/);
  });

  it('a config.json that disagrees with the graph', async () => {
    const dir = brokenCopy((d) => {
      const file = path.join(d, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), n_layer: 6 }));
    });
    await assert.rejects(load(dir), /config\.json says 6 layers but the graph has a KV cache for 2/);
  });

  it('inputs the engine does not understand', () => {
    const kv = (n: string) => ({ name: n, type: 'float32', shape: ['batch', 4, 'past', 16] });
    assert.throws(
      () =>
        readModelLayout(
          [{ name: 'input_ids', type: 'int64', shape: [] }],
          [{ name: 'logits', type: 'float32', shape: [] }],
          {},
        ),
      /without a KV cache/,
    );
    assert.throws(
      () =>
        readModelLayout(
          [{ name: 'input_ids', type: 'int64', shape: [] }, kv('past_key_values.0.key_value')],
          [{ name: 'logits', type: 'float32', shape: [] }],
          {},
        ),
      /lacks the output 'present\.0\.key_value'/,
    );
    assert.throws(
      () => readModelLayout([{ name: 'tokens', type: 'int64', shape: [] }], [], {}),
      /no 'input_ids' input/,
    );
  });
});
