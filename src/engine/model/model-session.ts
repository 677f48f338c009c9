// One ONNX Runtime session over a decoder-only graph: feed tokens with a KV cache, get logits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DeviceSetting } from '../process/protocol';
import { deviceCandidates } from './device';
import { halvesToFloats } from './float16';
import type { KvState } from '../sequence-cache';
import { ModelLayout, ModelLayoutError, TensorInfo, kvTensorDims, readModelLayout } from './model-layout';

/**
 * The keys/values of `length` positions: one tensor per past input, shaped as kvTensorDims says
 * ([1, kvHeads, length, headDim] split, [1, length, 2 × headDim] for GPTBigCode's fused cache).
 */
export class KvPast implements KvState {
  constructor(
    readonly tensors: ort.Tensor[],
    readonly length: number,
    private readonly layout: ModelLayout,
  ) {}

  get bytes(): number {
    return this.tensors.reduce((sum, t) => sum + (t.data as ArrayBufferView).byteLength, 0);
  }

  /**
   * The first `keep` positions, copied into new contiguous tensors: the past axis is the second
   * last, so each block before it (one per head, or one in all for the multi-query fused cache)
   * keeps its first keep × row values.
   */
  truncate(keep: number): KvPast {
    if (keep >= this.length) return this;
    const dims = kvTensorDims(this.layout, keep);
    const row = dims[dims.length - 1];
    const blocks = dims.slice(0, -2).reduce((a, b) => a * b, 1);
    const before = this.length * row;
    const after = keep * row;
    const tensors = this.tensors.map((t) => {
      const src = t.data as Float32Array | Uint16Array;
      const dst = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(blocks * after);
      for (let b = 0; b < blocks; b++) dst.set(src.subarray(b * before, b * before + after), b * after);
      return new ort.Tensor(t.type, dst, dims);
    });
    return new KvPast(tensors, keep, this.layout);
  }
}

export interface ForwardResult {
  /** Logits of the last fed position. */
  logits: Float32Array;
  present: KvPast;
}

export interface SessionOptions {
  device: DeviceSetting;
  /** Intra-op threads; 0 lets onnxruntime choose. */
  threads: number;
}

export class ModelLoadError extends Error {}

function cudaProviderInstalled(): boolean {
  try {
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = path.join(root, 'bin', 'napi-v6', 'linux', 'x64');
    return fs.existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0].slice(0, 300);
}

function tensorInfos(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

export class ModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly layout: ModelLayout,
    /** The providers actually in use, and why we fell back if we did. */
    readonly providers: string[],
    readonly fallbackReason: string | undefined,
  ) {}

  /**
   * `auto` tries each candidate provider on its own and keeps the first that initialises, noting
   * why the others did not; an explicitly chosen device that fails is an error naming it, never a
   * silent fall back to the CPU.
   */
  static async create(
    onnxPath: string,
    config: Record<string, unknown>,
    options: SessionOptions,
  ): Promise<ModelSession> {
    const candidates = deviceCandidates(options.device, process.platform, cudaProviderInstalled());
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(options.threads > 0 ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
    };
    const unavailable: string[] = [];
    let session: ort.InferenceSession | undefined;
    let provider = 'cpu';
    for (const candidate of candidates) {
      try {
        session = await ort.InferenceSession.create(onnxPath, { ...base, executionProviders: [candidate] });
        provider = candidate;
        break;
      } catch (err) {
        const reason = firstLine((err as Error).message);
        if (candidate === 'cpu') throw new ModelLoadError(`cannot load ${onnxPath}: ${reason}`);
        if (options.device !== 'auto') {
          throw new ModelLoadError(
            `wisp.device is "${candidate}" but that execution provider could not start: ${reason}. Set wisp.device to "auto" or "cpu".`,
          );
        }
        unavailable.push(`${candidate} (${reason})`);
      }
    }
    if (!session) throw new ModelLoadError(`no execution provider could load ${onnxPath}`);
    const fallbackReason =
      unavailable.length > 0
        ? `device auto: ${unavailable.join('; ')} not available, running on ${provider}`
        : undefined;
    const providers = [provider];
    let layout: ModelLayout;
    try {
      layout = readModelLayout(tensorInfos(session.inputMetadata), tensorInfos(session.outputMetadata), config);
    } catch (err) {
      await session.release();
      if (err instanceof ModelLayoutError) throw new ModelLoadError(`${path.basename(onnxPath)}: ${err.message}`);
      throw err;
    }
    return new ModelSession(session, layout, providers, fallbackReason);
  }

  emptyPast(): KvPast {
    const { kvDtype } = this.layout;
    const dims = kvTensorDims(this.layout, 0);
    const tensors = this.layout.pastNames.map(
      () => new ort.Tensor(kvDtype, kvDtype === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims),
    );
    return new KvPast(tensors, 0, this.layout);
  }

  /** Feed `ids` after the positions held by `past`; returns the last position's logits and the new cache. */
  async forward(ids: readonly number[], past: KvPast): Promise<ForwardResult> {
    const all = await this.forwardAll(ids, past);
    const vocab = this.layout.vocabSize;
    return { logits: all.logits.subarray((ids.length - 1) * vocab, ids.length * vocab), present: all.present };
  }

  /** Like forward, with the logits of every fed position ([ids.length × vocab], row-major). */
  async forwardAll(ids: readonly number[], past: KvPast): Promise<{ logits: Float32Array; present: KvPast }> {
    if (ids.length === 0) throw new Error('forward needs at least one token');
    const { layout } = this;
    const n = ids.length;
    const total = past.length + n;
    if (total > layout.maxPositions) {
      throw new Error(`sequence of ${total} positions exceeds the model's ${layout.maxPositions}`);
    }
    const inputIds = new BigInt64Array(n);
    for (let i = 0; i < n; i++) inputIds[i] = BigInt(ids[i]);
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', inputIds, [1, n]) };
    if (layout.hasAttentionMask) {
      feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
    }
    if (layout.hasPositionIds) {
      const positions = new BigInt64Array(n);
      for (let i = 0; i < n; i++) positions[i] = BigInt(past.length + i);
      feeds.position_ids = new ort.Tensor('int64', positions, [1, n]);
    }
    if (layout.useCacheBranchInput) {
      // The first call of a merged decoder feeds the empty past like any other: its no-cache branch
      // never reads the past inputs, and a 0-length past axis is valid (transformers.js does the same).
      feeds[layout.useCacheBranchInput] = new ort.Tensor('bool', new Uint8Array([past.length > 0 ? 1 : 0]), [1]);
    }
    layout.pastNames.forEach((name, i) => {
      feeds[name] = past.tensors[i];
    });
    const out = await this.session.run(feeds);
    const logitsTensor = out.logits;
    const logits =
      logitsTensor.type === 'float16'
        ? halvesToFloats(logitsTensor.data as Uint16Array)
        : (logitsTensor.data as Float32Array);
    const present = new KvPast(
      layout.presentNames.map((name) => out[name]),
      total,
      layout,
    );
    return { logits, present };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
