// Extension host. Splits a server's streamed HTTP body into the frames its format uses: lines of
// JSON (Ollama's NDJSON) or server-sent events (llama.cpp and OpenAI-compatible servers). Bytes
// are decoded as one UTF-8 stream, so a character split across network chunks arrives whole.

/** Lines of a byte stream, without their line endings; a last line without one is kept. */
export async function* lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) yield pending.replace(/\r$/, '');
}

/**
 * The `data` of each server-sent event (several `data:` lines of one event are joined by
 * newlines, as the SSE specification says); comments and other fields are skipped.
 */
export async function* sseData(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let data: string[] = [];
  for await (const line of lines(chunks)) {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
  }
  if (data.length > 0) yield data.join('\n');
}

/** Non-empty lines: NDJSON's frames. */
export async function* ndjsonLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  for await (const line of lines(chunks)) if (line.trim().length > 0) yield line;
}
