// A real llama.cpp llama-server on loopback for the server-backend tests: the binary built by
// scripts/llama-server.sh (it builds one into ~/.cache/wisp when missing: minutes), serving the GGUF
// recipe/export_gguf.py writes from a model folder (written into the cache when missing).
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../unit/fixture';

/** How long a stopped server may take to exit on its own before it is killed. */
const STOP_GRACE_MS = 5_000;

function cacheDir(): string {
  return process.env.WISP_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'wisp');
}

/** Runs a command without blocking the event loop (the real-editor test runs in the extension host). */
function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, out, errOut) =>
        err ? reject(new Error(`${path.basename(file)}: ${err.message}\n${errOut.slice(-3000)}`)) : resolve(out),
    );
    child.stderr?.pipe(process.stderr);
  });
}

/** The llama-server binary, built first when missing (progress on stderr). */
export async function llamaServerBinary(): Promise<string> {
  return (await run(path.join(REPO_ROOT, 'scripts', 'llama-server.sh'), [], 60 * 60_000)).trim();
}

/** The llama-server binary if it has been built, else undefined (never builds). */
export async function builtLlamaServer(): Promise<string | undefined> {
  try {
    return (await run(path.join(REPO_ROOT, 'scripts', 'llama-server.sh'), ['--check'], 60_000)).trim();
  } catch {
    return undefined;
  }
}

/**
 * The model folder's GGUF, written by recipe/export_gguf.py when missing or older than the ONNX
 * model: of the given tensor type, or any (the exporter's choice: f16 when that loses nothing).
 */
export async function ggufFor(modelDir: string, outtype?: 'f32' | 'f16'): Promise<string> {
  const name = path.basename(path.resolve(modelDir));
  const onnx = fs.statSync(path.join(modelDir, 'onnx', 'model.onnx')).mtimeMs;
  for (const t of outtype ? [outtype] : ['f32', 'f16']) {
    const p = path.join(cacheDir(), 'gguf', `${name}-${t}.gguf`);
    if (fs.existsSync(p) && fs.statSync(p).mtimeMs >= onnx) return p;
  }
  const exporter = path.join(REPO_ROOT, 'recipe', 'export_gguf.py');
  const args = [exporter, '--model', modelDir, ...(outtype ? ['--outtype', outtype] : [])];
  const out = await run('/usr/bin/python3', args, 10 * 60_000);
  const m = out.match(/^wrote (.+\.gguf):/m);
  if (!m) throw new Error(`export_gguf.py said: ${out}`);
  return m[1]!;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  url: string;
  child: ChildProcess;
  /** Ends the server (its own pid only) and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServerOptions {
  /** Threads for generation and for prompt evaluation (default 2). */
  threads?: number;
  /** More llama-server arguments, e.g. a batch size. */
  extraArgs?: string[];
}

/** Starts llama-server on 127.0.0.1 at a free port; resolves once /health answers ok (bounded wait). */
export async function startLlamaServer(
  bin: string,
  gguf: string,
  nCtx: number,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const port = await freePort();
  const threads = String(options.threads ?? 2);
  // Greedy answers equal the local engine's only without the server's default repeat penalty
  // (1.1) and with f32 KV and no flash attention (test/server/README.md).
  const args = ['-m', gguf, '--host', '127.0.0.1', '--port', String(port), '-c', String(nCtx), '-np', '1'];
  args.push('-t', threads, '-tb', threads, '-ctk', 'f32', '-ctv', 'f32', '--no-webui', '-fa', 'off');
  args.push('--repeat-penalty', '1', ...(options.extraArgs ?? []));
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // llama-server's graceful shutdown can wait on an idle keep-alive connection for minutes (seen
  // on a loaded machine): after a grace period it is killed outright.
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(kill);
  };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`llama-server exited (${child.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return { url, child, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`llama-server not ready after 600 tries:\n${log}`);
}
