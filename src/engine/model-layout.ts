// What a decoder-only ONNX graph expects and returns, read from the graph itself and config.json,
// so no single model's layout is hard-coded. Pure: the session's metadata goes in, a layout comes out.

export type KvDtype = 'float32' | 'float16';

export interface TensorInfo {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

export interface ModelLayout {
  numLayers: number;
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
  pastNames: string[];
  presentNames: string[];
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

const PAST_PATTERN = /^past_key_values\.(\d+)\.(key|value)$/;

/** Presents are named present.{i}.key (GPT-2, Llama exports) or present_key_values.{i}.key. */
function presentNameFor(layer: number, kind: string, outputs: Set<string>): string | undefined {
  for (const candidate of [`present.${layer}.${kind}`, `present_key_values.${layer}.${kind}`]) {
    if (outputs.has(candidate)) return candidate;
  }
  return undefined;
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
  const fused = inputs.find((i) => /^past_key_values\.\d+\.key_value$/.test(i.name));
  if (fused) {
    throw new ModelLayoutError(
      `fused key/value cache inputs ('${fused.name}', GPTBigCode layout) are not supported yet`,
    );
  }

  const layers = new Map<number, TensorInfo>();
  for (const input of inputs) {
    const m = PAST_PATTERN.exec(input.name);
    if (m && m[2] === 'key') layers.set(Number(m[1]), input);
  }
  const numLayers = layers.size;
  if (numLayers === 0) {
    throw new ModelLayoutError(
      "the model has no 'past_key_values.{i}.key/value' inputs: it was exported without a KV cache " +
        '(export it with past key values, e.g. optimum\'s "text-generation-with-past" task)',
    );
  }
  const pastNames: string[] = [];
  const presentNames: string[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    for (const kind of ['key', 'value']) {
      const past = `past_key_values.${layer}.${kind}`;
      if (!inputNames.has(past)) throw new ModelLayoutError(`the model lacks the input '${past}'`);
      const present = presentNameFor(layer, kind, outputNames);
      if (!present) throw new ModelLayoutError(`the model lacks the output 'present.${layer}.${kind}'`);
      pastNames.push(past);
      presentNames.push(present);
    }
  }

  const firstPast = layers.get(0)!;
  if (firstPast.type !== 'float32' && firstPast.type !== 'float16') {
    throw new ModelLayoutError(`unsupported KV cache type '${firstPast.type}' (expected float32 or float16)`);
  }
  if (firstPast.shape.length !== 4 && firstPast.shape.length !== 0) {
    throw new ModelLayoutError(
      `unsupported KV cache shape [${firstPast.shape.join(', ')}] (expected [batch, heads, past, head_dim])`,
    );
  }

  const attentionHeads = numberField(config, ['num_attention_heads', 'n_head', 'num_heads']);
  const hidden = numberField(config, ['hidden_size', 'n_embd', 'd_model']);
  const staticHeads = typeof firstPast.shape[1] === 'number' ? (firstPast.shape[1] as number) : undefined;
  const staticHeadDim = typeof firstPast.shape[3] === 'number' ? (firstPast.shape[3] as number) : undefined;
  const kvHeads = staticHeads ?? numberField(config, ['num_key_value_heads', 'n_head_kv']) ?? attentionHeads;
  const headDim =
    staticHeadDim ??
    numberField(config, ['head_dim']) ??
    (hidden !== undefined && attentionHeads ? hidden / attentionHeads : undefined);
  if (!kvHeads || !headDim || !Number.isInteger(headDim)) {
    throw new ModelLayoutError(
      'cannot tell the KV cache shape: config.json needs num_attention_heads (or n_head) and hidden_size (or n_embd)',
    );
  }
  const configLayers = numberField(config, ['num_hidden_layers', 'n_layer', 'num_layers']);
  if (configLayers !== undefined && configLayers !== numLayers) {
    throw new ModelLayoutError(
      `config.json says ${configLayers} layers but the graph has a KV cache for ${numLayers}`,
    );
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
  };
}
