import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { lines, ndjsonLines, sseData } from '../../../src/backends/stream-frames';

/** The bytes of `text`, cut at the given points (which may fall inside a UTF-8 character). */
async function* chunked(text: string, cuts: number[]): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const p of [...points, bytes.length]) {
    if (p > start) yield bytes.slice(start, p);
    start = Math.max(start, p);
  }
}

async function collect(gen: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

describe('stream framing', () => {
  it('lines: the same lines however the bytes are chunked, UTF-8 split across chunks included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\r\n]/g, '')),
          { maxLength: 8 },
        ),
        fc.array(fc.nat(400), { maxLength: 12 }),
        async (parts, cuts) => {
          const text = parts.map((p) => `${p}\n`).join('');
          assert.deepEqual(await collect(lines(chunked(text, cuts))), parts);
        },
      ),
    );
  });

  it('server-sent events: data of each event, multi-line data joined, comments and other fields skipped', async () => {
    const text = ': keep-alive\n\nevent: message\ndata: {"a":1}\n\ndata: one\ndata: two\nid: 3\n\ndata:[DONE]\n\n';
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(200), { maxLength: 10 }), async (cuts) => {
        assert.deepEqual(await collect(sseData(chunked(text, cuts))), ['{"a":1}', 'one\ntwo', '[DONE]']);
      }),
    );
  });

  it('CRLF line endings and a last event without its blank line', async () => {
    assert.deepEqual(await collect(sseData(chunked('data: x\r\n\r\ndata: y', []))), ['x', 'y']);
  });

  it('NDJSON: non-empty lines, a last line without a newline kept', async () => {
    assert.deepEqual(await collect(ndjsonLines(chunked('{"a":1}\n\n{"b":2}', [3, 9]))), ['{"a":1}', '{"b":2}']);
  });
});
