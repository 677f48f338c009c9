// From the text around the cursor to the token ids the model reads, within a token budget.
//
// Fill-in-the-middle when the tokenizer has FIM tokens, in PSM order:
//   <prefix-token> prefix <suffix-token> suffix <middle-token>   → the model writes the middle
// or, for models trained on it, SPM order (Bavarian et al. 2022):
//   <prefix-token> <suffix-token> suffix <middle-token> prefix
// otherwise the prefix alone. In PSM order every keystroke changes the prefix and so everything
// after it: the suffix is fed again each time. In SPM order the suffix budget is fixed and the
// prefix comes last, so a keystroke feeds only the last token or two. The prefix keeps its end and
// loses its start when over budget; the
// start moves in whole blocks of tokens so that, while the user types, the first tokens stay the
// same from one keystroke to the next and the KV cache keeps matching them. A repository header
// (cross-file.ts), when there is one, comes first and takes its tokens out of the same budget.
import type { FimTokens } from './model/tokenizer';

export interface PromptTokenizer {
  encode(text: string): number[];
  readonly fim: FimTokens | undefined;
  readonly fimOrder?: 'psm' | 'spm';
}

export interface PromptBudget {
  /** Most tokens in the whole prompt. */
  contextTokens: number;
  /** Share of the budget the suffix may take when the prefix needs the room (0–1). */
  suffixShare: number;
  /** Token ids put before the prompt (a repository header); absent = none. */
  header?: readonly number[];
}

export interface BuiltPrompt {
  ids: number[];
  /** Tokens of the repository header at the start of `ids`. */
  headerTokens: number;
  prefixTokens: number;
  suffixTokens: number;
  /** Whether the prefix or suffix lost tokens to the budget. */
  truncated: boolean;
  fim: boolean;
}

/**
 * The prompt's token budget for a request: what it asks for, less the room its new tokens need in
 * the model's context (Engine.run makes the same reckoning).
 */
export function promptBudget(maxPositions: number, maxNewTokens: number, contextTokens: number): number {
  const newTokens = Math.max(1, Math.min(maxNewTokens, maxPositions - 8));
  return Math.max(8, Math.min(contextTokens, maxPositions - newTokens));
}

/** The prefix's start moves by this many tokens at a time (see the header). */
export const PREFIX_TRIM_BLOCK = 64;

export function trimPrefixTokens(ids: number[], budget: number): number[] {
  if (ids.length <= budget) return ids;
  const excess = ids.length - budget;
  const drop = Math.min(ids.length, Math.ceil(excess / PREFIX_TRIM_BLOCK) * PREFIX_TRIM_BLOCK);
  return ids.slice(drop);
}

export function buildPrompt(
  tokenizer: PromptTokenizer,
  prefix: string,
  suffix: string,
  budget: PromptBudget,
): BuiltPrompt {
  const header = budget.header ?? [];
  const contextTokens = Math.max(8, budget.contextTokens - header.length);
  const prefixIds = tokenizer.encode(prefix);
  const fim = tokenizer.fim;
  if (!fim) {
    const kept = trimPrefixTokens(prefixIds, contextTokens);
    return {
      ids: [...header, ...kept],
      headerTokens: header.length,
      prefixTokens: kept.length,
      suffixTokens: 0,
      truncated: kept.length < prefixIds.length,
      fim: false,
    };
  }
  const room = Math.max(0, contextTokens - 3);
  const spm = tokenizer.fimOrder === 'spm';
  let suffixIds = suffix.length > 0 ? tokenizer.encode(suffix) : [];
  const shareRoom = Math.floor(room * budget.suffixShare);
  const suffixRoom = spm ? shareRoom : Math.max(room - prefixIds.length, shareRoom);
  const suffixTruncated = suffixIds.length > suffixRoom;
  if (suffixTruncated) suffixIds = suffixIds.slice(0, suffixRoom);
  const keptPrefix = trimPrefixTokens(prefixIds, room - suffixIds.length);
  return {
    ids: spm
      ? [...header, fim.prefix, fim.suffix, ...suffixIds, fim.middle, ...keptPrefix]
      : [...header, fim.prefix, ...keptPrefix, fim.suffix, ...suffixIds, fim.middle],
    headerTokens: header.length,
    prefixTokens: keptPrefix.length,
    suffixTokens: suffixIds.length,
    truncated: suffixTruncated || keptPrefix.length < prefixIds.length,
    fim: true,
  };
}

/** Index of the prefix's first token. */
export function prefixStart(prompt: BuiltPrompt, fimOrder: 'psm' | 'spm' | undefined): number {
  return prefixEnd(prompt, fimOrder) - prompt.prefixTokens;
}

/** Index just past the prefix tokens: where the cursor is, and where generation continues from. */
export function prefixEnd(prompt: BuiltPrompt, fimOrder: 'psm' | 'spm' | undefined): number {
  return prompt.fim && fimOrder !== 'spm' ? prompt.headerTokens + 1 + prompt.prefixTokens : prompt.ids.length;
}
