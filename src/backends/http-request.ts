// Extension host. A JSON POST whose answer is read as a stream, and a GET read whole (a server's
// description of itself), on node:http(s) rather than the global fetch: VS Code's extension host
// replaces fetch with its own (proxy support), which held back a streamed answer here for seconds.
// The signal aborts the request at any point, which closes the connection so the server stops
// generating.
import http from 'node:http';
import https from 'node:https';

export interface StreamedResponse {
  status: number;
  contentType: string;
  body: AsyncIterable<Uint8Array>;
  /** The whole body as text (error statuses, answers that are not streamed). */
  text(): Promise<string>;
}

export class ConnectError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    /** The request went out on a kept-alive connection from an earlier one. */
    readonly reusedSocket = false,
  ) {
    super(message);
  }
}

export function postStream(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<StreamedResponse> {
  const payload = Buffer.from(JSON.stringify(body));
  return againOnReset(() => requestOnce('POST', url, payload, headers, signal), signal);
}

/** A GET's status and body, which must be at most `maxBytes` (a URL that is not the server's may answer anything). */
export async function getText(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  maxBytes = 4 << 20,
): Promise<{ status: number; text: string }> {
  const response = await againOnReset(() => requestOnce('GET', url, undefined, headers, signal), signal);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    // Leaving the loop destroys the response, which closes the connection.
    if (size > maxBytes) throw new Error(`the answer is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return { status: response.status, text: Buffer.concat(chunks).toString('utf8') };
}

async function againOnReset(send: () => Promise<StreamedResponse>, signal: AbortSignal): Promise<StreamedResponse> {
  try {
    return await send();
  } catch (err) {
    // A kept-alive connection the server closed as it was reused (llama-server says keep-alive,
    // then closes a connection after a streamed answer): Node's documented remedy is to send again.
    if (!(err instanceof ConnectError && err.reusedSocket && err.code === 'ECONNRESET') || signal.aborted) throw err;
    return send();
  }
}

function requestOnce(
  method: 'GET' | 'POST',
  url: string,
  payload: Buffer | undefined,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<StreamedResponse> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let incoming: http.IncomingMessage | undefined;
    // Not http.request's own `signal` option: its AbortError surfaced as an uncaught exception
    // once the body had been read. Destroying both ends closes the connection all the same.
    const onAbort = () => {
      req.destroy();
      incoming?.destroy();
    };
    const req = transport.request(
      target,
      {
        method,
        headers: payload
          ? { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) }
          : headers,
      },
      (res) => {
        incoming = res;
        res.once('close', () => signal.removeEventListener('abort', onAbort));
        // Errors while the body is read reach the reader through its iterator; one after reading
        // stopped (the abort that ends an early-cut stream) must not become an uncaught exception.
        res.on('error', () => {});
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: res,
          // Decoded once at the end: a character split between two chunks stays whole.
          text: async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of res) chunks.push(chunk as Buffer);
            return Buffer.concat(chunks).toString('utf8');
          },
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => reject(new ConnectError(err.message, err.code, req.reusedSocket)));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    req.end(payload);
  });
}
