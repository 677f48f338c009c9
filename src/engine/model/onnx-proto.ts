// The few pieces of protobuf's wire format that the engine's graph edits need (slice-graph.ts writes
// a graph, last-rows-graph.ts rewrites one), so that no protobuf library or .proto file is shipped
// for them. Writers build byte arrays; the reader walks fields over a source it reads on demand, so
// a model of a gigabyte is walked without holding its weights in memory.
import * as fs from 'node:fs';

/** ONNX TensorProto.DataType of the element types the edits use. */
export const ELEM = { float32: 1, int64: 7, float16: 10 } as const;

export function varint(value: number): number[] {
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
export function int64Varint(value: number): number[] {
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

/** A length-delimited field. */
export const field = (num: number, bytes: ArrayLike<number>): number[] => [
  ...varint((num << 3) | 2),
  ...varint(bytes.length),
  ...Array.from(bytes),
];
export const int = (num: number, value: number): number[] => [...varint(num << 3), ...int64Varint(value)];
export const str = (num: number, text: string): number[] => field(num, [...Buffer.from(text, 'utf8')]);

/** ValueInfoProto of a tensor whose dims are numbers or symbolic names (no shape when undefined). */
export function valueInfo(name: string, elem: number, dims: (number | string)[] | undefined): number[] {
  const shape = dims
    ? field(
        2,
        dims.flatMap((d) => field(1, typeof d === 'number' ? int(1, d) : str(2, d))),
      )
    : [];
  const tensorType = [...int(1, elem), ...shape];
  return [...str(1, name), ...field(2, field(1, tensorType))];
}

/** An int64 TensorProto (a 1-D initializer). */
export function int64Initializer(name: string, values: number[]): number[] {
  return [...int(1, values.length), ...int(2, ELEM.int64), ...field(7, values.flatMap(int64Varint)), ...str(8, name)];
}

/** Bytes read on demand: a file (by position) or an array. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/** A file read through a window; what read() returns is a copy, not a view of the window. */
export function fileSource(fd: number, size: number, windowBytes = 1 << 20): ByteSource {
  const window = Buffer.allocUnsafe(windowBytes);
  let from = 0;
  let filled = 0;
  return {
    size,
    read(offset, length) {
      if (length > windowBytes) {
        const out = Buffer.allocUnsafe(length);
        fs.readSync(fd, out, 0, length, offset);
        return out;
      }
      if (offset < from || offset + length > from + filled) {
        from = offset;
        filled = fs.readSync(fd, window, 0, Math.min(windowBytes, size - offset), offset);
      }
      return Buffer.from(window.subarray(offset - from, offset - from + length));
    },
  };
}

export function arraySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** One field: its number, wire type, where it starts (at its key) and ends, and where its payload starts. */
export interface WireField {
  num: number;
  wire: number;
  start: number;
  payload: number;
  end: number;
  /** The value of a varint field. */
  value: number;
}

export class MalformedProto extends Error {}

/** The fields of the message that spans [start, end) of `source`, in order. */
export function* fields(source: ByteSource, start: number, end: number): Generator<WireField> {
  let pos = start;
  const readVarint = (): number => {
    const head = source.read(pos, Math.min(10, end - pos));
    let value = 0;
    let scale = 1;
    for (let i = 0; i < head.length; i++) {
      value += (head[i] & 127) * scale;
      scale *= 128;
      if (head[i] < 128) {
        pos += i + 1;
        return value;
      }
    }
    throw new MalformedProto(`unterminated varint at ${pos}`);
  };
  while (pos < end) {
    const fieldStart = pos;
    const key = readVarint();
    const num = Math.floor(key / 8);
    const wire = key % 8;
    let value = 0;
    let payload = pos;
    if (wire === 0) {
      value = readVarint();
      payload = fieldStart;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 2) {
      const length = readVarint();
      payload = pos;
      pos += length;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new MalformedProto(`unsupported wire type ${wire} at ${fieldStart}`);
    }
    if (pos > end) throw new MalformedProto(`field ${num} at ${fieldStart} runs past its message`);
    yield { num, wire, start: fieldStart, payload, end: pos, value };
  }
}

export function text(source: ByteSource, f: WireField): string {
  return Buffer.from(source.read(f.payload, f.end - f.payload)).toString('utf8');
}
