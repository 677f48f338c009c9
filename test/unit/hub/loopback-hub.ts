// A Hugging Face hub on 127.0.0.1 for the download tests: one model repository of real files, with
// the two endpoints @huggingface/hub uses to list and fetch them (the tree API with sizes, git blob
// ids and LFS sha256; resolve/<revision>/<path> with Range), and faults a test can switch on.
// It serves only what it was given, and stops by itself after `lifetimeMs` if a test forgets it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface HubFile {
  path: string;
  content: Buffer;
  /** Stored with LFS: listed with the sha256 of its content, as the hub lists weights. */
  lfs: boolean;
}

export interface LoopbackHubOptions {
  repo: string;
  revision?: string;
  files: HubFile[];
  lifetimeMs?: number;
}

export interface LoopbackHub {
  /** Pass as `hubUrl`. */
  url: string;
  /** Every request, `METHOD url [range]`, in order. */
  requests: string[];
  /** The next response body for `file` stops after `bytes` bytes and the connection is dropped. */
  dropAfter(file: string, bytes: number): void;
  /** From now on `file` is served as `content` (the listing still describes the original). */
  serveInstead(file: string, content: Buffer): void;
  /** Holds every response body for `file` until release() (to cancel a download mid-file). */
  stall(file: string): { release(): void };
  stop(): Promise<void>;
}

/** The files of a model folder on disk, the .onnx graphs as LFS files. */
export function repositoryFromFolder(dir: string, names: string[]): HubFile[] {
  return names.map((name) => ({
    path: name,
    content: fs.readFileSync(path.join(dir, ...name.split('/'))),
    lfs: name.endsWith('.onnx'),
  }));
}

const sha = (algorithm: string, ...parts: Array<string | Buffer>) => {
  const hash = crypto.createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

function treeEntries(files: HubFile[]) {
  const dirs = new Set(files.flatMap((f) => (f.path.includes('/') ? [f.path.slice(0, f.path.lastIndexOf('/'))] : [])));
  return [
    ...[...dirs].map((d) => ({ type: 'directory', path: d, size: 0, oid: sha('sha1', d) })),
    ...files.map((f) => {
      const gitOid = sha('sha1', `blob ${f.content.length}\0`, f.content);
      if (!f.lfs) return { type: 'file', path: f.path, size: f.content.length, oid: gitOid };
      const sha256 = sha('sha256', f.content);
      return {
        type: 'file',
        path: f.path,
        size: f.content.length,
        oid: sha('sha1', sha256),
        lfs: { oid: sha256, size: f.content.length, pointerSize: 134 },
      };
    }),
  ];
}

export async function startLoopbackHub(options: LoopbackHubOptions): Promise<LoopbackHub> {
  const revision = options.revision ?? 'main';
  const listing = JSON.stringify(treeEntries(options.files));
  const served = new Map(options.files.map((f) => [f.path, f.content]));
  const drops = new Map<string, number>();
  const stalls = new Map<string, Promise<void>>();
  const requests: string[] = [];
  const treePrefix = `/api/models/${options.repo}/tree/${revision}`;
  const resolvePrefix = `/${options.repo}/resolve/${encodeURIComponent(revision)}/`;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    if (req.method === 'GET' && url.pathname === treePrefix && url.searchParams.get('recursive') === 'true') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(listing);
      return;
    }
    const file = url.pathname.startsWith(resolvePrefix)
      ? decodeURIComponent(url.pathname.slice(resolvePrefix.length))
      : undefined;
    const content = file === undefined ? undefined : served.get(file);
    if (req.method !== 'GET' || file === undefined || content === undefined) {
      res
        .writeHead(404, { 'X-Error-Code': 'EntryNotFound', 'Content-Type': 'application/json' })
        .end('{"error":"Entry not found"}');
      return;
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Math.min(Number(range[2]), content.length - 1) : content.length - 1;
    if (start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${content.length}` }).end();
      return;
    }
    const body = content.subarray(start, end + 1);
    const headers = {
      ETag: `"${sha('sha1', content)}"`,
      'Accept-Ranges': 'bytes',
      'Content-Length': String(body.length),
      'Content-Type': 'application/octet-stream',
    };
    res.writeHead(
      range ? 206 : 200,
      range ? { ...headers, 'Content-Range': `bytes ${start}-${end}/${content.length}` } : headers,
    );
    const drop = drops.get(file);
    // The probe for the size (bytes=0-0) is not the transfer a fault is aimed at.
    if (drop !== undefined && body.length > 1) {
      drops.delete(file);
      res.write(body.subarray(0, drop), () => res.destroy());
      return;
    }
    const stalled = body.length > 1 ? stalls.get(file) : undefined;
    if (stalled) {
      res.write(body.subarray(0, Math.min(4096, body.length)));
      void stalled.then(() => res.end(body.subarray(Math.min(4096, body.length))));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () =>
    new Promise<void>((resolve) => {
      clearTimeout(lifetime);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const lifetime = setTimeout(() => void stop(), options.lifetimeMs ?? 120_000);
  lifetime.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    dropAfter: (file, bytes) => drops.set(file, bytes),
    serveInstead: (file, content) => served.set(file, content),
    stall: (file) => {
      let release = () => {};
      stalls.set(
        file,
        new Promise<void>(
          (resolve) =>
            (release = () => {
              stalls.delete(file);
              resolve();
            }),
        ),
      );
      return { release: () => release() };
    },
    stop,
  };
}
