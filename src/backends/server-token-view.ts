// Extension host. The token view's data from a model server's answer: its top tokens' raw
// log-probabilities for the next position. The server tells nothing of the rest of the vocabulary,
// so the sampling settings are applied to those top tokens with the local engine's own filter
// (shared/sampler.ts), and the kept count, mass and entropy are over them (TokenViewData.server).
import type { TokenViewData } from '../engine/process/protocol';
import { SamplingParams, filterDistribution } from '../shared/sampler';
import type { ServerDistribution } from './server-format';

export function serverTokenView(
  answer: ServerDistribution,
  sampling: SamplingParams,
  backend: string,
  asked: number,
): TokenViewData {
  const top = [...answer.top].sort((a, b) => b.logprob - a.logprob).slice(0, asked);
  // Log-probabilities are logits less one constant: the filter's softmax over them gives the
  // probabilities renormalised over these tokens.
  const kept = filterDistribution(
    top.map((t) => t.logprob),
    sampling,
  );
  const keptProb = new Map<number, number>();
  kept.ids.forEach((index, j) => keptProb.set(index, kept.probs[j]));
  const raw = top.map((t) => Math.exp(t.logprob));
  let keptMass = 0;
  for (const index of kept.ids) keptMass += raw[index];
  const timings = answer.timings ?? {};
  const reused = timings.cachedTokens ?? 0;
  const computed = timings.promptTokens ?? 0;
  return {
    tokens: [],
    promptTokens: reused + computed,
    tokensAfterCursor: 0,
    reusedTokens: reused,
    computedTokens: computed,
    prefillMs: timings.promptMs ?? 0,
    drawn: [],
    distribution: {
      candidates: top.map((t, index) => ({
        id: t.id,
        text: t.text,
        piece: t.text,
        special: false,
        raw: raw[index],
        filtered: keptProb.get(index) ?? 0,
        excluded: !keptProb.has(index),
      })),
      entropyBits: raw.reduce((h, p) => (p > 0 ? h - p * Math.log2(p) : h), 0),
      keptCount: kept.ids.length,
      keptMass,
    },
    suggestion: [],
    server: { backend, asked },
  };
}
