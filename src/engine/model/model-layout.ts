// What a decoder-only ONNX graph expects and returns, read from the graph itself and config.json,
// so no single model's layout is hard-coded. Pure: the session's metadata goes in, a layout comes out.
import { LOGITS_START_INPUT } from './last-rows-graph';

export type KvDtype = 'float32' | 'float16';

export interface TensorInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

/**
 * How one layer's cache is stored. 'split': past_key_values.{i}.key and .value, each
 * [batch, kvHeads, past, headDim]. 'fused' (GPTBigCode): past_key_values.{i}.key_value with keys and
 * values side by side on the last axis, [batch, past, 2 * headDim] under multi-query attention or
 * [batch, kvHeads, past, 2 * headDim] without it.
 */
export type KvCacheKind = 'split' | 'fused';

export interface ModelLayout {
  numLayers: number;
  kvCache: KvCacheKind;
  /** Whether the cache tensors have a heads axis (all but GPTBigCode's multi-query cache do). */
  kvHeadsAxis: boolean;
  /** Heads of the key/value cache (fewer than the attention heads under grouped-query attention). */
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  /** Longest sequence the model was trained for (n_positions / max_position_embeddings). */
  maxPositions: number;
  kvDtype: KvDtype;
  hasPositionIds: boolean;
  hasAttentionMask: boolean;
  /** Older merged decoders take a boolean telling them whether the past is real. */
  useCacheBranchInput?: string;
  /** Cache inputs in feed order, and the outputs that return them one position longer. */
  pastNames: string[];
  presentNames: string[];
  /** The input that asks for the last k rows of logits ([-k]; see last-rows-graph.ts), when the graph has one. */
  logitsStartInput?: string;
}

/** The shape of one cache tensor holding `length` positions, batch 1. The past axis is always the second last. */
export function kvTensorDims(layout: ModelLayout, length: number): number[] {
  const row = layout.kvCache === 'fused' ? 2 * layout.headDim : layout.headDim;
  return layout.kvHeadsAxis ? [1, layout.kvHeads, length, row] : [1, length, row];
}

export class ModelLayoutError extends Error {}

type Config = Record<string, unknown>;

function numberField(config: Config, names: string[]): number | undefined {
  for (const n of names) {
    const v = config[n];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

const PAST_PATTERN = /^past_key_values\.(\d+)\.(key|value|key_value)$/;

/** Presents are named present.{i}.key (GPT-2, Llama exports) or present_key_values.{i}.key. */
function presentNameFor(layer: number, kind: string, outputs: Set<string>): string | undefined {
  for (const candidate of [`present.${layer}.${kind}`, `present_key_values.${layer}.${kind}`]) {
    if (outputs.has(candidate)) return candidate;
  }
  return undefined;
}

function describeShape(info: TensorInfo): string {
  return `[${info.shape.join(', ')}]`;
}

export function readModelLayout(inputs: TensorInfo[], outputs: TensorInfo[], config: Config): ModelLayout {
  const inputNames = new Set(inputs.map((i) => i.name));
  const outputNames = new Set(outputs.map((o) => o.name));
  if (!inputNames.has('input_ids')) {
    throw new ModelLayoutError(`the model has no 'input_ids' input (inputs: ${[...inputNames].join(', ')})`);
  }
  if (!outputNames.has('logits')) {
    throw new ModelLayoutError(`the model has no 'logits' output (outputs: ${[...outputNames].join(', ')})`);
  }
  if (config.is_encoder_decoder === true || inputNames.has('encoder_hidden_states')) {
    throw new ModelLayoutError(
      `'${String(config.model_type ?? 'this model')}' is an encoder-decoder model; Wisp runs decoder-only models`,
    );
  }

  const firstOfLayer = new Map<number, TensorInfo>();
  const kinds = new Set<string>();
  for (const input of inputs) {
    const m = PAST_PATTERN.exec(input.name);
    if (!m) continue;
    kinds.add(m[2] === 'key_value' ? 'fused' : 'split');
    if (m[2] !== 'value') firstOfLayer.set(Number(m[1]), input);
  }
  const numLayers = firstOfLayer.size;
  if (numLayers === 0) {
    throw new ModelLayoutError(
      "the model has no 'past_key_values.{i}.key/value' inputs: it was exported without a KV cache " +
        '(export it with past key values, e.g. optimum\'s "text-generation-with-past" task)',
    );
  }
  if (kinds.size > 1) throw new ModelLayoutError('the model mixes fused key_value and split key/value cache inputs');
  const kvCache: KvCacheKind = kinds.has('fused') ? 'fused' : 'split';
  const cacheKinds = kvCache === 'fused' ? ['key_value'] : ['key', 'value'];
  const pastNames: string[] = [];
  const presentNames: string[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    for (const kind of cacheKinds) {
      const past = `past_key_values.${layer}.${kind}`;
      if (!inputNames.has(past)) throw new ModelLayoutError(`the model lacks the input '${past}'`);
      const present = presentNameFor(layer, kind, outputNames);
      if (!present) throw new ModelLayoutError(`the model lacks the output 'present.${layer}.${kind}'`);
      pastNames.push(past);
      presentNames.push(present);
    }
  }

  const firstPast = firstOfLayer.get(0)!;
  if (firstPast.type !== 'float32' && firstPast.type !== 'float16') {
    throw new ModelLayoutError(`unsupported KV cache type '${firstPast.type}' (expected float32 or float16)`);
  }
  const rank = firstPast.shape.length;
  // Rank 3 is the multi-query fused cache; a rank-3 split cache is Bloom's [batch × heads, head_dim, past] keys.
  const rankOk = rank === 0 || rank === 4 || (kvCache === 'fused' && rank === 3);
  if (!rankOk) {
    const expected =
      kvCache === 'fused'
        ? '[batch, past, 2 × head_dim] or [batch, heads, past, 2 × head_dim]'
        : '[batch, heads, past, head_dim]';
    throw new ModelLayoutError(
      `unsupported KV cache shape ${describeShape(firstPast)} for '${firstPast.name}' ` +
        `(model_type '${String(config.model_type ?? 'unknown')}'; Wisp reads ${expected})`,
    );
  }
  // A graph that does not state the rank: GPTBigCode's config says multi_query (true unless stated).
  const kvHeadsAxis = rank === 0 ? !(kvCache === 'fused' && config.multi_query !== false) : rank === 4;
  const staticDim = (axis: number): number | undefined =>
    typeof firstPast.shape[axis] === 'number' ? (firstPast.shape[axis] as number) : undefined;
  const lastAxis = kvHeadsAxis ? 3 : 2;
  const staticRow = staticDim(lastAxis);

  const attentionHeads = numberField(config, ['num_attention_heads', 'n_head', 'num_heads']);
  const hidden = numberField(config, ['hidden_size', 'n_embd', 'd_model']);
  const staticHeads = kvHeadsAxis ? staticDim(1) : 1;
  const kvHeads = staticHeads ?? numberField(config, ['num_key_value_heads', 'n_head_kv']) ?? attentionHeads;
  const headDim =
    (staticRow !== undefined ? staticRow / (kvCache === 'fused' ? 2 : 1) : undefined) ??
    numberField(config, ['head_dim']) ??
    (hidden !== undefined && attentionHeads ? hidden / attentionHeads : undefined);
  if (!kvHeads || !headDim || !Number.isInteger(headDim)) {
    throw new ModelLayoutError(
      'cannot tell the KV cache shape: config.json needs num_attention_heads (or n_head) and hidden_size (or n_embd)',
    );
  }
  const configLayers = numberField(config, ['num_hidden_layers', 'n_layer', 'num_layers']);
  if (configLayers !== undefined && configLayers !== numLayers) {
    throw new ModelLayoutError(`config.json says ${configLayers} layers but the graph has a KV cache for ${numLayers}`);
  }

  const logits = outputs.find((o) => o.name === 'logits')!;
  const staticVocab = typeof logits.shape[2] === 'number' ? (logits.shape[2] as number) : undefined;
  const configVocab = numberField(config, ['vocab_size', 'n_vocab']);
  if (staticVocab !== undefined && configVocab !== undefined && staticVocab !== configVocab) {
    throw new ModelLayoutError(`config.json says vocab_size ${configVocab} but the graph's logits have ${staticVocab}`);
  }
  const vocabSize = staticVocab ?? configVocab;
  if (!vocabSize) throw new ModelLayoutError('config.json has no vocab_size');

  const useCacheBranch = inputs.find((i) => i.name === 'use_cache_branch');
  return {
    numLayers,
    kvCache,
    kvHeadsAxis,
    kvHeads,
    headDim,
    vocabSize,
    maxPositions: numberField(config, ['n_positions', 'max_position_embeddings', 'n_ctx', 'seq_length']) ?? 2048,
    kvDtype: firstPast.type as KvDtype,
    hasPositionIds: inputNames.has('position_ids'),
    hasAttentionMask: inputNames.has('attention_mask'),
    useCacheBranchInput: useCacheBranch?.name,
    pastNames,
    presentNames,
    logitsStartInput: inputNames.has(LOGITS_START_INPUT) ? LOGITS_START_INPUT : undefined,
  };
}
