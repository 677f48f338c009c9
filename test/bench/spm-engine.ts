// A benchmark-only engine process for one lever: Wisp's own Engine (session, KV cache, generate)
// with the fill-in-the-middle prompt in suffix–prefix–middle (SPM) order instead of PSM.
//
// Why: in PSM order (<fim_prefix> prefix <fim_suffix> suffix <fim_middle>) the suffix comes after
// the prefix, so its keys/values depend on the prefix and every keystroke re-feeds the whole
// suffix (up to 25% of the context). In SPM order (StarCoder's: <fim_prefix><fim_suffix> suffix
// <fim_middle> prefix) the text after the cursor, which typing does not change, comes first and
// stays cached; a keystroke feeds only the retokenized end of the prefix. A model must be trained
// with SPM examples for the completions to make sense; the timing does not depend on that.
import type { CompletionRequest, CompletionResult } from '../../src/engine/engine';
import { Engine } from '../../src/engine/engine';
import { generate } from '../../src/engine/generate';
import type { SequenceCache } from '../../src/engine/kv-cache';
import type { KvPast } from '../../src/engine/model-session';
import { trimPrefixTokens } from '../../src/engine/prompt-format';
import { ServedEngine, serveEngine } from './engine-server';

export function spmPromptIds(engine: Engine, prefix: string, suffix: string, contextTokens: number, suffixShare: number): number[] {
  const tok = engine.tokenizer;
  const prefixIds = tok.encode(prefix);
  const fim = tok.fim;
  if (!fim) return trimPrefixTokens(prefixIds, contextTokens);
  const room = Math.max(0, contextTokens - 3);
  let suffixIds = suffix.length > 0 ? tok.encode(suffix) : [];
  suffixIds = suffixIds.slice(0, Math.max(room - prefixIds.length, Math.floor(room * suffixShare)));
  const kept = trimPrefixTokens(prefixIds, room - suffixIds.length);
  return [fim.prefix, fim.suffix, ...suffixIds, fim.middle, ...kept];
}

export function runSpmEngine(): void {
  serveEngine(spmEngine());
}

export function spmEngine(): ServedEngine {
  let engine: Engine | undefined;
  return {
    async load(modelDir, threads) {
      engine = await Engine.load({ modelDir, variant: 'model.onnx', device: 'cpu', threads });
      return engine.info();
    },
    clearCache: () => engine?.clearCache(),
    async complete(request: CompletionRequest, isCancelled): Promise<CompletionResult> {
      const e = engine!;
      const startedAt = performance.now();
      const maxPositions = e.session.layout.maxPositions;
      const newTokens = Math.max(1, Math.min(request.maxNewTokens, maxPositions - 8));
      const contextTokens = Math.max(8, Math.min(request.contextTokens, maxPositions - newTokens));
      const ids = spmPromptIds(e, request.prefix, request.suffix, contextTokens, request.suffixShare ?? 0.25);
      const tokenizedAt = performance.now();
      const { stepper, logits, reused } = await e.prefill(ids, true);
      const prefilledAt = performance.now();
      // the engine keeps its cache private; this bench-only engine puts the sequence back itself
      const cache = (e as unknown as { cache: SequenceCache<KvPast> }).cache;
      try {
        const result = await generate(stepper, e.tokenizer, logits, {
          sampling: request.sampling,
          seed: request.seed,
          maxNewTokens: newTokens,
          stop: request.stop,
          maxLines: request.maxLines,
          stopIds: e.tokenizer.stopIds,
          timeBudgetMs: request.timeBudgetMs,
          startedAt,
          roomLeft: maxPositions - ids.length,
          isCancelled,
        });
        const finishedAt = performance.now();
        return {
          text: result.text,
          stats: {
            promptTokens: ids.length,
            reusedTokens: reused,
            prefilledTokens: ids.length - reused,
            generatedTokens: result.tokens.length,
            tokenizeMs: tokenizedAt - startedAt,
            prefillMs: prefilledAt - tokenizedAt,
            decodeMs: finishedAt - prefilledAt,
            totalMs: finishedAt - startedAt,
            stopReason: result.stopReason,
          },
        };
      } finally {
        cache.put(stepper.ids, stepper.past);
      }
    },
  };
}
