// A one-node ONNX graph that keeps the first `keep` positions of a KV tensor, for caches that live
// on the GPU. onnxruntime-node cannot read a GPU tensor back (getData() on a 'gpu-buffer' tensor
// aborts the process in 1.30), and copying every layer to the host and back would cost what the
// cache saves; a Slice run by the same provider copies on the device instead.
//
// The graph is written as ONNX protobuf bytes here (a few fields of ModelProto) rather than
// shipped as a file: it depends only on the element type, and onnxruntime takes a model as bytes.

/** ONNX TensorProto.DataType: FLOAT, FLOAT16, INT64. */
const ELEM = { float32: 1, float16: 10, int64: 7 } as const;

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A signed int64 varint (two's complement over 10 bytes for negatives). */
function int64Varint(value: number): number[] {
  if (value >= 0) return varint(value);
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const field = (num: number, bytes: number[]): number[] => [
  ...varint((num << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
];
const int = (num: number, value: number): number[] => [...varint(num << 3), ...int64Varint(value)];
const str = (num: number, text: string): number[] => field(num, [...Buffer.from(text, 'utf8')]);

/** ValueInfoProto of a tensor whose dims are numbers or symbolic names. */
function valueInfo(name: string, elem: number, dims: (number | string)[]): number[] {
  const dimProtos = dims.flatMap((d) => field(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  const tensorType = [...int(1, elem), ...field(2, dimProtos)];
  return [...str(1, name), ...field(2, field(1, tensorType))];
}

function int64Initializer(name: string, values: number[]): number[] {
  return [...int(1, values.length), ...int(2, ELEM.int64), ...field(7, values.flatMap(int64Varint)), ...str(8, name)];
}

/**
 * Model bytes: output = Slice(data, starts=[0], ends=[keep], axes=[-2]) over a rank-`rank` tensor,
 * `keep` an int64 [1] input. Opset 13, IR version 8.
 */
export function sliceGraph(dtype: 'float32' | 'float16', rank: number): Uint8Array {
  const elem = ELEM[dtype];
  const dims = Array.from({ length: rank }, (_, i) => `d${i}`);
  const node = [
    ...str(1, 'data'),
    ...str(1, 'starts'),
    ...str(1, 'keep'),
    ...str(1, 'axes'),
    ...str(2, 'sliced'),
    ...str(4, 'Slice'),
  ];
  const graph = [
    ...field(1, node),
    ...str(2, 'kv_slice'),
    ...field(5, int64Initializer('starts', [0])),
    ...field(5, int64Initializer('axes', [-2])),
    ...field(11, valueInfo('data', elem, dims)),
    ...field(11, valueInfo('keep', ELEM.int64, [1])),
    ...field(12, valueInfo('sliced', elem, dims)),
  ];
  const model = [...int(1, 8), ...field(8, [...str(1, ''), ...int(2, 13)]), ...field(7, graph)];
  return Uint8Array.from(model);
}
