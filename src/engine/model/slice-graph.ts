// A one-node ONNX graph that keeps the first `keep` positions of a KV tensor, for caches that live
// on the GPU. onnxruntime-node cannot read a GPU tensor back (getData() on a 'gpu-buffer' tensor
// aborts the process in 1.30), and copying every layer to the host and back would cost what the
// cache saves; a Slice run by the same provider copies on the device instead.
//
// The graph is written as ONNX protobuf bytes here (a few fields of ModelProto) rather than
// shipped as a file: it depends only on the element type, and onnxruntime takes a model as bytes.
import { ELEM, field, int64Initializer, int, str, valueInfo } from './onnx-proto';

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
