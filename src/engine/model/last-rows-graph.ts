// Logits for the last rows only. Decoder exports (optimum, torch.onnx, the recipe's) apply the LM
// head to every fed position: a 480-token prefill of a 151,936-token vocabulary computes and copies
// 480 × 151,936 logits to use one row. This rewrites such a graph at load time: a Slice takes the
// last k rows of the hidden state before the head, k fed through a new input (LOGITS_START_INPUT,
// [-k]), so a prefill asks for 1 row and a verifying or scoring call for as many as it needs.
//
// The rewritten model keeps its weights where they are: every inline initializer of some size
// becomes external data pointing at its bytes in the original file, so the new model is only the
// graph (kilobytes) and onnxruntime reads the weights from the file itself, as it does with a path.
// A graph whose head cannot be found by the rule below is left alone (undefined): all rows.
import {
  ByteSource,
  ELEM,
  WireField,
  field,
  fields,
  int,
  int64Initializer,
  str,
  text,
  valueInfo,
  varint,
} from './onnx-proto';

export const LOGITS_START_INPUT = 'wisp_logits_start';
const SLICED = 'wisp_logits_hidden';
const ENDS = 'wisp_logits_ends';
const AXES = 'wisp_logits_axes';
const SHAPE = 'wisp_logits_shape';
const ROWS_DIM = 'wisp_logits_rows';

/** Initializers at least this large move to external data; smaller ones stay inline. */
const EXTERNAL_MIN_BYTES = 1024;

/** Ops that compute the head; the first input is the hidden state. */
const HEADS = new Set(['MatMul', 'Gemm', 'MatMulNBits', 'FusedMatMul']);
/** Row-wise ops that may sit between the head and `logits` (a bias, a cast, a soft cap, a reshape). */
const UNARY = new Set(['Cast', 'Identity', 'Tanh', 'Reshape']);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div']);

interface NodeInfo {
  field: WireField;
  op: string;
  inputs: string[];
  outputs: string[];
}

export interface LastRowsOptions {
  /** File name of the model, relative to the folder onnxruntime is told holds external data. */
  location: string;
  /** Needed only when a Reshape follows the head (its new shape is [1, -1, vocab]). */
  vocabSize?: number;
}

function readNode(source: ByteSource, f: WireField): NodeInfo {
  const node: NodeInfo = { field: f, op: '', inputs: [], outputs: [] };
  for (const g of fields(source, f.payload, f.end)) {
    if (g.num === 1) node.inputs.push(text(source, g));
    else if (g.num === 2) node.outputs.push(text(source, g));
    else if (g.num === 4) node.op = text(source, g);
  }
  return node;
}

function nameOf(source: ByteSource, f: WireField, nameField: number): string | undefined {
  for (const g of fields(source, f.payload, f.end)) if (g.num === nameField) return text(source, g);
  return undefined;
}

/** The same node with input `index` renamed to `name`. */
function renameInput(source: ByteSource, node: NodeInfo, index: number, name: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let seen = 0;
  for (const g of fields(source, node.field.payload, node.field.end)) {
    if (g.num === 1 && seen++ === index) parts.push(Uint8Array.from(str(1, name)));
    else parts.push(source.read(g.start, g.end - g.start));
  }
  return lengthDelimited(1, Buffer.concat(parts));
}

function lengthDelimited(num: number, payload: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.from([...varint((num << 3) | 2), ...varint(payload.length)]), payload]);
}

/** A TensorProto with its raw_data (field 9) replaced by a reference to the same bytes in the file. */
function externalized(source: ByteSource, f: WireField, location: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let raw: WireField | undefined;
  for (const g of fields(source, f.payload, f.end)) {
    if (g.num === 9 && g.end - g.payload >= EXTERNAL_MIN_BYTES) raw = g;
    else parts.push(source.read(g.start, g.end - g.start));
  }
  if (!raw) return source.read(f.start, f.end - f.start);
  const entry = (key: string, value: string): number[] => field(13, [...str(1, key), ...str(2, value)]);
  parts.push(
    Uint8Array.from([
      ...entry('location', location),
      ...entry('offset', String(raw.payload)),
      ...entry('length', String(raw.end - raw.payload)),
      ...int(14, 1),
    ]),
  );
  return lengthDelimited(5, Buffer.concat(parts));
}

/** The logits ValueInfoProto with its row axis renamed (its length is now k, not the fed length). */
function logitsInfo(source: ByteSource, f: WireField): Uint8Array {
  let elem = ELEM.float32 as number;
  let dims: (number | string)[] | undefined;
  for (const t of fields(source, f.payload, f.end)) {
    if (t.num !== 2) continue;
    for (const tt of fields(source, t.payload, t.end)) {
      if (tt.num !== 1) continue;
      for (const x of fields(source, tt.payload, tt.end)) {
        if (x.num === 1) elem = x.value;
        if (x.num !== 2) continue;
        dims = [];
        for (const d of fields(source, x.payload, x.end)) {
          let dim: number | string = '';
          for (const v of fields(source, d.payload, d.end)) {
            if (v.num === 1) dim = v.value;
            else if (v.num === 2) dim = text(source, v);
          }
          dims.push(dim);
        }
      }
    }
  }
  if (dims && dims.length === 3) dims[1] = ROWS_DIM;
  return Uint8Array.from(field(12, valueInfo('logits', elem, dims)));
}

/**
 * The model with the last-rows Slice before its LM head, or undefined when the graph does not have
 * the shape this handles: `logits` produced by a MatMul/Gemm/MatMulNBits followed by nothing but
 * row-wise ops, each value on the way used once (an If-merged decoder, for one, is left alone).
 */
export function lastRowsGraph(source: ByteSource, options: LastRowsOptions): Uint8Array | undefined {
  let graph: WireField | undefined;
  let opset = 0;
  for (const f of fields(source, 0, source.size)) {
    if (f.num === 7) {
      if (graph) return undefined;
      graph = f;
    } else if (f.num === 8) {
      let domain = '';
      let version = 0;
      for (const g of fields(source, f.payload, f.end)) {
        if (g.num === 1) domain = text(source, g);
        if (g.num === 2) version = g.value;
      }
      if (domain === '' || domain === 'ai.onnx') opset = version;
    }
  }
  if (!graph || opset < 13) return undefined;

  const nodes: NodeInfo[] = [];
  const nodeAt = new Map<WireField, NodeInfo>();
  const constants = new Set<string>();
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  const graphFields: WireField[] = [];
  for (const f of fields(source, graph.payload, graph.end)) {
    graphFields.push(f);
    if (f.num === 1) {
      const node = readNode(source, f);
      nodes.push(node);
      nodeAt.set(f, node);
      if (node.op === 'Constant') node.outputs.forEach((o) => constants.add(o));
    } else if (f.num === 5) {
      const name = nameOf(source, f, 8);
      if (name !== undefined) constants.add(name);
    } else if (f.num === 11 || f.num === 12) {
      const name = nameOf(source, f, 1);
      if (name !== undefined) (f.num === 11 ? inputs : outputs).add(name);
    }
  }
  const producer = new Map<string, NodeInfo>();
  const consumers = new Map<string, number>();
  for (const node of nodes) {
    node.outputs.forEach((o) => producer.set(o, node));
    node.inputs.forEach((i) => consumers.set(i, (consumers.get(i) ?? 0) + 1));
  }
  const taken = (name: string): boolean => producer.has(name) || constants.has(name) || inputs.has(name);
  if ([LOGITS_START_INPUT, SLICED, ENDS, AXES, SHAPE].some(taken)) return undefined;

  const reshapes: NodeInfo[] = [];
  let value = 'logits';
  let head: NodeInfo | undefined;
  while (!head) {
    const node = producer.get(value);
    if (!node) return undefined;
    if (value !== 'logits' && (consumers.get(value) !== 1 || outputs.has(value))) return undefined;
    if (HEADS.has(node.op)) {
      head = node;
    } else if (UNARY.has(node.op)) {
      if (node.op === 'Reshape') reshapes.push(node);
      value = node.inputs[0];
    } else if (BINARY.has(node.op)) {
      const varying = node.inputs.filter((i) => !constants.has(i));
      if (varying.length !== 1) return undefined;
      value = varying[0];
    } else {
      return undefined;
    }
  }
  const hidden = head.inputs[0];
  if (!hidden || constants.has(hidden)) return undefined;
  if (reshapes.length > 0 && !options.vocabSize) return undefined;

  // Slice on the second-last axis: the positions of [batch, positions, hidden], or the rows of the
  // [batch × positions, hidden] a Gemm head reads (batch is 1 in the engine).
  const slice = [
    ...str(1, hidden),
    ...str(1, LOGITS_START_INPUT),
    ...str(1, ENDS),
    ...str(1, AXES),
    ...str(2, SLICED),
    ...str(3, 'wisp_logits_slice'),
    ...str(4, 'Slice'),
  ];
  const added = [
    ...field(5, int64Initializer(ENDS, [Number.MAX_SAFE_INTEGER])),
    ...field(5, int64Initializer(AXES, [-2])),
    ...(reshapes.length > 0 ? field(5, int64Initializer(SHAPE, [1, -1, options.vocabSize!])) : []),
    ...field(11, valueInfo(LOGITS_START_INPUT, ELEM.int64, [1])),
  ];

  const parts: Uint8Array[] = [];
  for (const f of graphFields) {
    if (f.num === 1) {
      const node = nodeAt.get(f)!;
      if (node === head) {
        parts.push(Uint8Array.from(field(1, slice)));
        parts.push(renameInput(source, node, 0, SLICED));
      } else if (reshapes.includes(node)) {
        parts.push(renameInput(source, node, 1, SHAPE));
      } else {
        parts.push(source.read(f.start, f.end - f.start));
      }
    } else if (f.num === 5) {
      parts.push(externalized(source, f, options.location));
    } else if (f.num === 12 && nameOf(source, f, 1) === 'logits') {
      parts.push(logitsInfo(source, f));
    } else {
      parts.push(source.read(f.start, f.end - f.start));
    }
  }
  parts.push(Uint8Array.from(added));
  const newGraph = lengthDelimited(7, Buffer.concat(parts));

  const model: Uint8Array[] = [];
  for (const f of fields(source, 0, source.size)) {
    model.push(f.num === 7 ? newGraph : source.read(f.start, f.end - f.start));
  }
  return Buffer.concat(model);
}
