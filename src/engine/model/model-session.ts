// One ONNX Runtime session over a decoder-only graph: feed tokens with a KV cache, get logits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import './ort-telemetry-off';
import * as ort from 'onnxruntime-node';
import type { DeviceSetting } from '../process/protocol';
import { deviceCandidates } from './device';
import { DeviceSpeeds, judgeAccelerator, median, softwareWebgpuAdapter, speedKey } from './device-speed';
import { providerErrorReason } from './provider-messages';
import { sliceGraph } from './slice-graph';
import { lastRowsGraph } from './last-rows-graph';
import { MalformedProto, fileSource } from './onnx-proto';
import { halvesToFloats } from './float16';
import type { KvState } from '../sequence-cache';
import { ModelLayout, ModelLayoutError, TensorInfo, kvTensorDims, readModelLayout } from './model-layout';

/** GPU tensors shared by the states that view them; released when the last one is disposed. */
class DeviceTensors {
  private refs = 1;
  constructor(readonly tensors: ort.Tensor[]) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) for (const t of this.tensors) t.dispose();
  }
}

/**
 * The keys/values of `length` positions: one tensor per past input, shaped as kvTensorDims says
 * ([1, kvHeads, length, headDim] split, [1, length, 2 × headDim] for GPTBigCode's fused cache).
 * Host tensors are plain data. Device tensors (WebGPU's 'gpu-buffer' outputs) may hold more
 * positions than `length`: truncate() makes a view sharing them, and the Slice graph copies the
 * kept positions on the device when the view is fed (see forwardAll). Whoever holds a state
 * disposes it once done; that frees the device memory when no other state views it.
 */
export class KvPast implements KvState {
  private readonly device: DeviceTensors | undefined;
  private disposed = false;

  constructor(
    readonly tensors: ort.Tensor[],
    readonly length: number,
    private readonly layout: ModelLayout,
    device?: DeviceTensors,
  ) {
    this.device = device ?? (tensors[0]?.location === 'gpu-buffer' ? new DeviceTensors(tensors) : undefined);
  }

  get onDevice(): boolean {
    return this.device !== undefined;
  }

  get bytes(): number {
    return this.tensors.reduce((sum, t) => sum + t.size * (t.type === 'float16' ? 2 : 4), 0);
  }

  /** Positions the tensors hold (more than `length` for a truncated device state). */
  get heldPositions(): number {
    const dims = this.tensors[0]?.dims;
    return dims ? dims[dims.length - 2] : 0;
  }

  /**
   * The first `keep` positions. On the host: copied into new contiguous tensors (the past axis is
   * the second last, so each block before it — one per head, or one in all for the multi-query
   * fused cache — keeps its first keep × row values). On the device: a view, a new reference.
   */
  truncate(keep: number): KvPast {
    if (this.device) return new KvPast(this.tensors, Math.min(keep, this.length), this.layout, this.device.retain());
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

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.device?.release();
  }
}

export interface ForwardResult {
  /** Logits of the rows asked for (forward: the last fed position; forwardAll: every fed one), row-major. */
  logits: Float32Array;
  present: KvPast;
}

export interface SessionOptions {
  device: DeviceSetting;
  /** Intra-op threads; 0 lets onnxruntime choose. */
  threads: number;
  /** Earlier measurements (see device-speed.ts); those this load makes are added to `deviceSpeeds`. */
  deviceSpeeds?: DeviceSpeeds;
  /** false keeps the graph's LM head on every fed position (the benchmark's before/after); default true. */
  lastRowLogits?: boolean;
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

function tensorInfos(metadata: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] {
  return metadata.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

/**
 * What to hand onnxruntime: the graph rewritten to compute logits for the rows asked for only
 * (last-rows-graph.ts; its weights stay in the file, read from the model's folder), or the path.
 */
function modelToLoad(
  onnxPath: string,
  config: Record<string, unknown>,
  lastRowLogits: boolean,
): { model: string | Uint8Array; options: ort.InferenceSession.SessionOptions } {
  if (!lastRowLogits) return { model: onnxPath, options: {} };
  const fd = fs.openSync(onnxPath, 'r');
  let rewritten: Uint8Array | undefined;
  try {
    const vocab = config.vocab_size ?? config.n_vocab;
    rewritten = lastRowsGraph(fileSource(fd, fs.fstatSync(fd).size), {
      location: path.basename(onnxPath),
      vocabSize: typeof vocab === 'number' ? vocab : undefined,
    });
  } catch (err) {
    // onnxruntime, given the path, says what is wrong with the file in its own words
    if (!(err instanceof MalformedProto)) throw err;
  } finally {
    fs.closeSync(fd);
  }
  if (!rewritten) return { model: onnxPath, options: {} };
  const folder = path.dirname(path.resolve(onnxPath));
  return {
    model: rewritten,
    options: { extra: { session: { model_external_initializers_file_folder_path: folder } } },
  };
}

/** A session with its graph's layout, on one provider. */
interface Opened {
  session: ort.InferenceSession;
  layout: ModelLayout;
}

export class ModelSession {
  /** Slice graphs by element type, for truncating device-resident states (created on first use). */
  private slicers = new Map<string, Promise<ort.InferenceSession>>();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly layout: ModelLayout,
    /** The providers actually in use, and why we fell back if we did. */
    readonly providers: string[],
    readonly fallbackReason: string | undefined,
    /** Said once when an explicitly chosen device runs, but slowly (a software adapter). */
    readonly deviceWarning: string | undefined,
    /** The measurements given, plus those this load made. */
    readonly deviceSpeeds: DeviceSpeeds,
  ) {}

  /**
   * `auto` tries each candidate provider on its own and keeps the first that initialises and is
   * worth it (device-speed.ts: a real adapter, measured faster than the CPU), noting why the others
   * were passed over; an explicitly chosen device that fails is an error naming it, never a silent
   * fall back to the CPU.
   */
  static async create(
    onnxPath: string,
    config: Record<string, unknown>,
    options: SessionOptions,
  ): Promise<ModelSession> {
    const candidates = deviceCandidates(options.device, process.platform, cudaProviderInstalled());
    const toLoad = modelToLoad(onnxPath, config, options.lastRowLogits ?? true);
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(options.threads > 0 ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      ...toLoad.options,
    };
    const speeds: DeviceSpeeds = { ...options.deviceSpeeds };
    const passed: string[] = [];
    const software = softwareWebgpuAdapter(process.platform, process.env);
    for (const candidate of candidates) {
      let opened: Opened;
      try {
        opened = await ModelSession.open(onnxPath, toLoad.model, config, candidate, base);
      } catch (err) {
        if (err instanceof ModelLoadError) throw err;
        const reason = providerErrorReason((err as Error).message);
        if (candidate === 'cpu') throw new ModelLoadError(`cannot load ${onnxPath}: ${reason}`);
        if (options.device !== 'auto') {
          throw new ModelLoadError(
            `wisp.device is "${candidate}" but that execution provider could not start: ${reason}. Set wisp.device to "auto" or "cpu".`,
          );
        }
        passed.push(`${candidate} (${reason}) not available`);
        continue;
      }
      const isSoftware = candidate === 'webgpu' && software;
      if (options.device === 'auto' && candidate !== 'cpu') {
        const ms = await ModelSession.timed(speeds, onnxPath, candidate, opened);
        const cpuMs = await ModelSession.timed(speeds, onnxPath, 'cpu', undefined, toLoad.model, config, base);
        const verdict = judgeAccelerator(ms, cpuMs, isSoftware);
        if (!verdict.use) {
          await opened.session.release();
          passed.push(`${candidate} not used (${verdict.reason})`);
          continue;
        }
      }
      const fallbackReason =
        passed.length > 0 ? `device auto: ${passed.join('; ')}; running on ${candidate}` : undefined;
      const warning = isSoftware
        ? 'wisp.device is "webgpu" on a software adapter (lavapipe, llvmpipe or SwiftShader): it runs, ' +
          'but slower than the CPU. Set wisp.device to "auto" or "cpu" for speed.'
        : undefined;
      return new ModelSession(opened.session, opened.layout, [candidate], fallbackReason, warning, speeds);
    }
    throw new ModelLoadError(`no execution provider could load ${onnxPath}`);
  }

  /**
   * A session on one provider. Under WebGPU the KV outputs stay on the device ('gpu-buffer') and
   * are fed back as the next past, so a step copies only its logits to the host; their names are
   * known once a session has read the graph, hence the second creation.
   */
  private static async open(
    onnxPath: string,
    model: string | Uint8Array,
    config: Record<string, unknown>,
    provider: string,
    base: ort.InferenceSession.SessionOptions,
  ): Promise<Opened> {
    let session = await ModelSession.createSession(model, { ...base, executionProviders: [provider] });
    let layout: ModelLayout;
    try {
      layout = readModelLayout(tensorInfos(session.inputMetadata), tensorInfos(session.outputMetadata), config);
    } catch (err) {
      await session.release();
      if (err instanceof ModelLayoutError) throw new ModelLoadError(`${path.basename(onnxPath)}: ${err.message}`);
      throw err;
    }
    if (provider === 'webgpu') {
      await session.release();
      const preferredOutputLocation = Object.fromEntries(
        layout.presentNames.map((name) => [name, 'gpu-buffer' as const]),
      );
      session = await ModelSession.createSession(model, {
        ...base,
        executionProviders: [provider],
        preferredOutputLocation,
      });
    }
    return { session, layout };
  }

  private static createSession(
    model: string | Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<ort.InferenceSession> {
    return typeof model === 'string'
      ? ort.InferenceSession.create(model, options)
      : ort.InferenceSession.create(model, options);
  }

  /** ms per decode step on `provider`: remembered, or measured on `opened` (or a session opened for it). */
  private static async timed(
    speeds: DeviceSpeeds,
    onnxPath: string,
    provider: string,
    opened: Opened | undefined,
    model: string | Uint8Array = onnxPath,
    config: Record<string, unknown> = {},
    base: ort.InferenceSession.SessionOptions = {},
  ): Promise<number> {
    const key = speedKey(onnxPath, provider, ort.env.versions.common);
    if (speeds[key] !== undefined) return speeds[key];
    const own = opened ?? (await ModelSession.open(onnxPath, model, config, provider, base));
    const probe = new ModelSession(own.session, own.layout, [provider], undefined, undefined, speeds);
    try {
      speeds[key] = await probe.decodeStepMs();
    } finally {
      probe.releaseSlicers();
      if (!opened) await own.session.release();
    }
    return speeds[key];
  }

  /**
   * The median of a few decode steps after a short prompt: what a keystroke pays per token. The
   * first step runs apart (kernel compilation, allocation) and is not counted.
   */
  private async decodeStepMs(steps = 5, promptLength = 16): Promise<number> {
    const vocab = this.layout.vocabSize;
    const prompt = Array.from({ length: promptLength }, (_, i) => (i * 7 + 1) % vocab);
    let { present: past } = await this.forward(prompt, this.emptyPast());
    const times: number[] = [];
    for (let i = 0; i <= steps; i++) {
      const t0 = performance.now();
      const { present } = await this.forward([(i * 13 + 3) % vocab], past);
      if (i > 0) times.push(performance.now() - t0);
      past.dispose();
      past = present;
    }
    past.dispose();
    return median(times);
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
  forward(ids: readonly number[], past: KvPast): Promise<ForwardResult> {
    return this.forwardRows(ids, past, 1);
  }

  /** Like forward, with the logits of every fed position ([ids.length × vocab], row-major). */
  forwardAll(ids: readonly number[], past: KvPast): Promise<ForwardResult> {
    return this.forwardRows(ids, past, ids.length);
  }

  /**
   * Feed `ids`; the logits of the last `rows` fed positions ([rows × vocab]). A graph with the
   * last-rows input computes only those; any other computes all and the rest are dropped here.
   */
  private async forwardRows(ids: readonly number[], past: KvPast, rows: number): Promise<ForwardResult> {
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
    if (layout.logitsStartInput) {
      feeds[layout.logitsStartInput] = new ort.Tensor('int64', new BigInt64Array([BigInt(-rows)]), [1]);
    }
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
    const pastTensors = await this.materialize(past);
    layout.pastNames.forEach((name, i) => {
      feeds[name] = pastTensors[i];
    });
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds);
    } finally {
      if (pastTensors !== past.tensors) for (const t of pastTensors) t.dispose();
    }
    const logitsTensor = out.logits;
    const all =
      logitsTensor.type === 'float16'
        ? halvesToFloats(logitsTensor.data as Uint16Array)
        : (logitsTensor.data as Float32Array);
    const logits = all.subarray(all.length - rows * layout.vocabSize);
    const present = new KvPast(
      layout.presentNames.map((name) => out[name]),
      total,
      layout,
    );
    return { logits, present };
  }

  /**
   * The tensors to feed for `past`: its own, or — for a truncated device state — its first
   * `length` positions copied on the device by the Slice graph (the caller disposes the copies).
   */
  private async materialize(past: KvPast): Promise<readonly ort.Tensor[]> {
    if (!past.onDevice || past.heldPositions === past.length) return past.tensors;
    const keep = new ort.Tensor('int64', new BigInt64Array([BigInt(past.length)]), [1]);
    const copies: ort.Tensor[] = [];
    for (const t of past.tensors) {
      const slicer = await this.slicer(t.type as 'float32' | 'float16', t.dims.length);
      copies.push((await slicer.run({ data: t, keep })).sliced);
    }
    return copies;
  }

  private slicer(dtype: 'float32' | 'float16', rank: number): Promise<ort.InferenceSession> {
    const key = `${dtype}/${rank}`;
    let slicer = this.slicers.get(key);
    if (!slicer) {
      slicer = ort.InferenceSession.create(sliceGraph(dtype, rank), {
        executionProviders: [this.providers[0]],
        preferredOutputLocation: 'gpu-buffer',
      });
      this.slicers.set(key, slicer);
    }
    return slicer;
  }

  private releaseSlicers(): void {
    for (const slicer of this.slicers.values()) void slicer.then((s) => s.release());
    this.slicers.clear();
  }

  async release(): Promise<void> {
    this.releaseSlicers();
    await this.session.release();
  }
}
