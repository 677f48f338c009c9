// The peer engine process: transformers.js (`AutoModelForCausalLM` + `generate`, greedy) on the
// same model folder, speaking the engine process's protocol (src/engine/protocol.ts), so the
// benchmark drives it through the same EngineClient as Wisp and it gets the same prompts, the same
// cancellation and the same stop rule. The prompt ids come from Wisp's own tokenizer and
// buildPrompt, so both engines read identical tokens; transformers.js does everything after that.
//
// transformers.js is loaded from test/bench/peer/node_modules at run time (never bundled), and
// only in this process: the Wisp figures come from processes that never load it.
import * as path from 'node:path';
import type { CompletionRequest, CompletionResult, EngineInfo } from '../../src/engine/engine';
import { readModelFolder } from '../../src/shared/model-folder';
import { buildPrompt } from '../../src/engine/prompt-format';
import { ModelTokenizer } from '../../src/engine/model/tokenizer';
import { serveEngine } from './engine-server';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Tjs = any;

const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Tjs>;

export function peerPackageDir(repoRoot: string): string {
  return path.join(repoRoot, 'test', 'bench', 'peer', 'node_modules', '@huggingface', 'transformers');
}

/** Lines of content in `text` cut to `maxLines` (the rule of src/engine/generate.ts). */
function cutToLines(text: string, maxLines: number | undefined): { text: string; stopped: boolean } {
  if (!maxLines) return { text, stopped: false };
  const start = text.search(/\S/);
  if (start < 0) return { text, stopped: false };
  let index = start;
  for (let line = 0; line < maxLines; line++) {
    index = text.indexOf('\n', index);
    if (index < 0) return { text, stopped: false };
    if (line < maxLines - 1) index++;
  }
  return { text: text.slice(0, index), stopped: true };
}

/** transformers.js behind the engine protocol. */
export function runPeerEngine(repoRoot: string): void {
  let tjs: Tjs;
  let model: Tjs;
  let tokenizer: ModelTokenizer | undefined;
  let maxPositions = 1024;

  async function complete(request: CompletionRequest, isCancelled: () => boolean): Promise<CompletionResult> {
    const started = performance.now();
    const newTokens = Math.max(1, Math.min(request.maxNewTokens, maxPositions - 8));
    const contextTokens = Math.max(8, Math.min(request.contextTokens, maxPositions - newTokens));
    const tok = tokenizer!;
    const prompt = buildPrompt(tok, request.prefix, request.suffix, {
      contextTokens,
      suffixShare: request.suffixShare ?? 0.25,
    });
    const n = prompt.ids.length;
    const inputIds = new tjs.Tensor('int64', BigInt64Array.from(prompt.ids.map(BigInt)), [1, n]);
    const mask = new tjs.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    let stopReason: CompletionResult['stats']['stopReason'] = 'length';
    // stop like Wisp: end token (generate's own), the line limit, the time budget, cancellation
    class WispStop extends tjs.StoppingCriteria {
      _call(all: (number | bigint)[][]): boolean[] {
        return all.map((row) => {
          if (isCancelled()) return ((stopReason = 'cancelled'), true);
          if (performance.now() - started >= request.timeBudgetMs) return ((stopReason = 'time'), true);
          const gen = row.slice(n).map(Number);
          // Wisp stops on any of its stop ids (end token, FIM tokens); generate() alone knows only eos
          if (gen.length > 0 && tok.stopIds.has(gen[gen.length - 1])) return ((stopReason = 'eos'), true);
          const text = tok.decode(gen);
          if (cutToLines(text, request.maxLines).stopped) return ((stopReason = 'stop'), true);
          return false;
        });
      }
    }
    const out = await model.generate({
      input_ids: inputIds,
      attention_mask: mask,
      max_new_tokens: newTokens,
      do_sample: false,
      stopping_criteria: [new WispStop()],
    });
    const gen = Array.from(out.data as BigInt64Array, Number).slice(n);
    const stopAt = gen.findIndex((t) => tok.stopIds.has(t));
    const kept = stopAt >= 0 ? gen.slice(0, stopAt) : gen;
    if (stopAt >= 0) stopReason = 'eos';
    const total = performance.now() - started;
    return {
      text: cutToLines(tok.decode(kept), request.maxLines).text,
      stats: {
        promptTokens: n,
        reusedTokens: 0,
        prefilledTokens: n,
        generatedTokens: gen.length,
        tokenizeMs: 0,
        prefillMs: NaN,
        decodeMs: NaN,
        totalMs: total,
        stopReason,
      },
    };
  }

  async function load(modelDir: string): Promise<EngineInfo> {
    tjs = await dynamicImport(path.join(peerPackageDir(repoRoot), 'dist', 'transformers.node.mjs'));
    tjs.env.allowRemoteModels = false;
    tjs.env.localModelPath = path.dirname(path.resolve(modelDir)) + path.sep;
    const folder = readModelFolder(modelDir, 'model.onnx');
    tokenizer = new ModelTokenizer(
      folder.tokenizerJson,
      folder.tokenizerConfig,
      folder.config,
      folder.generationConfig,
    );
    maxPositions = Number(folder.config.n_positions ?? folder.config.max_position_embeddings ?? 1024);
    model = await tjs.AutoModelForCausalLM.from_pretrained(path.basename(path.resolve(modelDir)), {
      dtype: 'fp32',
      device: 'cpu',
    });
    return {
      modelDir,
      modelName: path.basename(modelDir),
      variant: 'model.onnx',
      providers: ['cpu'],
      fim: tokenizer.fim !== undefined,
      numLayers: Number(folder.config.n_layer ?? 0),
      vocabSize: Number(folder.config.vocab_size ?? 0),
      maxPositions,
    };
  }

  serveEngine({ load, complete });
}
