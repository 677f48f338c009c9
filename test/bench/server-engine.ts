// The benchmark's `llama.cpp server` row: a real llama-server (scripts/llama-server.sh) serving the
// same model folder written as GGUF (recipe/export_gguf.py, f32 like the ONNX file the engine runs;
// both cached in ~/.cache/wisp), driven through Wisp's own llama.cpp backend (src/backends), so the
// replay sends exactly what the extension sends with wisp.server.fimTemplate `auto`: for a Wisp
// model's GGUF (named so by /props) POST /completion in its SPM order, else POST /infill; with
// cache_prompt, streamed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CompletionRequest, CompletionResult } from '../../src/engine/engine';
import { llamaCppFormat } from '../../src/backends/llama-cpp-format';
import { ServerClient } from '../../src/backends/server-client';
import { builtLlamaServer, ggufFor, startLlamaServer } from '../server/llama-server-fixture';

/** What the benchmark needs of an engine row: Wisp's EngineClient has exactly this. */
export interface BenchEngine {
  readonly pid: number | undefined;
  complete(request: CompletionRequest, options: { signal?: AbortSignal }): Promise<CompletionResult | undefined>;
  clearCache(): void | Promise<void>;
  dispose(): void;
}

export interface ServerEngineOptions {
  modelDir: string;
  /** The replay engines' intra-op threads: llama-server's -t and -tb. */
  threads: number;
  /** The engine's prompt budget in tokens (promptBudget): llama-server's batch, from which /infill takes its window. */
  promptTokens: number;
  log: (line: string) => void;
}

/**
 * llama-server for the same weights as the local engine. /infill keeps the last 3/4 of the batch
 * of prefix tokens and a quarter less 2 of suffix tokens, so a batch of the engine's prompt budget
 * gives the engine's window (a quarter for the suffix, `suffixShare` 0.25); /completion's prompt is
 * cut to the server's context by the client (prompt-budget.ts). The host-memory prompt
 * cache is off: the server's reuse is then its slot's KV cache alone, as Wisp's is its one KV cache.
 * Undefined when llama-server has not been built: the bench does not wait minutes for a build.
 */
export async function startServerEngine(options: ServerEngineOptions): Promise<BenchEngine | undefined> {
  const bin = await builtLlamaServer();
  if (!bin) {
    options.log('llama-server is not built (scripts/llama-server.sh builds it, minutes): no llama.cpp server row');
    return undefined;
  }
  const gguf = await ggufFor(options.modelDir, 'f32');
  const config = JSON.parse(fs.readFileSync(path.join(options.modelDir, 'config.json'), 'utf8')) as {
    n_positions?: number;
  };
  const slots = fs.mkdtempSync(path.join(os.tmpdir(), 'wisp-bench-slots-'));
  const server = await startLlamaServer(bin, gguf, config.n_positions ?? 1024, {
    threads: options.threads,
    extraArgs: ['-b', String(options.promptTokens), '--cache-ram', '0', '--slot-save-path', slots],
  });
  options.log(`llama-server ${path.basename(gguf)} at ${server.url}, ${options.threads} thread(s)`);
  const client = new ServerClient({
    format: llamaCppFormat,
    url: server.url,
    model: '',
    fimTemplate: 'auto',
    log: (line) => options.log(`llama.cpp server: ${line}`),
  });
  return {
    pid: server.child.pid,
    complete: (request, opts) => client.complete(request, opts),
    // Forgets the slot's cached prompt (the server waits for a running request to end first).
    async clearCache() {
      const r = await fetch(`${server.url}/slots/0?action=erase`, {
        method: 'POST',
        signal: AbortSignal.timeout(30_000),
      });
      if (!r.ok) throw new Error(`llama-server slot erase: HTTP ${r.status}: ${await r.text()}`);
    },
    dispose() {
      client.dispose();
      void server.stop().then(() => fs.rmSync(slots, { recursive: true, force: true }));
    },
  };
}
