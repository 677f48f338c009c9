// Token healing (the name comes from Microsoft's Guidance): the cursor rarely sits where ordinary
// tokenization would end a token. A prefix that ends in "\n" before the indentation the user has
// not typed yet, or in "ret" before "urn", ends in a token that whole text almost never produces
// there: the model has seen few such boundaries, and the context cache's n-grams, made from whole
// text, none. So the prefix's last token is taken back off the prompt and the first generated
// token must begin with its text: generation continues from a boundary both have seen, and the
// text already typed is dropped from the result.
import { BuiltPrompt, prefixEnd } from './prompt-format';

export interface Healing {
  /** The text of the token taken back: the first generated token starts with it. */
  text: string;
  /** 1 for each token id whose text starts with `text`. */
  allowed: Uint8Array;
}

/** Masks kept for the texts healed most recently: typing reuses them. */
const KEPT_MASKS = 64;

export class TokenHealer {
  private vocabTexts: string[] | undefined;
  private readonly masks = new Map<string, Uint8Array>();

  /** `decodableSize`: ids below it can be decoded; `vocabSize`: the model's output width. */
  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly decodableSize: number,
    private readonly vocabSize: number,
    private readonly excluded: ReadonlySet<number>,
  ) {}

  /** The prompt without its prefix's last token, and what the first token must start with. */
  heal(prompt: BuiltPrompt, fimOrder: 'psm' | 'spm'): { prompt: BuiltPrompt; healing: Healing } | undefined {
    if (prompt.prefixTokens === 0) return undefined;
    const last = prefixEnd(prompt, fimOrder) - 1;
    const text = this.decode([prompt.ids[last]]);
    if (text.length === 0 || text.includes('\uFFFD')) return undefined;
    const ids = prompt.ids.slice(0, last).concat(prompt.ids.slice(last + 1));
    return { prompt: { ...prompt, ids, prefixTokens: prompt.prefixTokens - 1 }, healing: { text, allowed: this.mask(text) } };
  }

  private mask(text: string): Uint8Array {
    const kept = this.masks.get(text);
    if (kept) {
      this.masks.delete(text);
      this.masks.set(text, kept);
      return kept;
    }
    this.vocabTexts ??= Array.from({ length: this.decodableSize }, (_, id) => (this.excluded.has(id) ? '' : this.decode([id])));
    const allowed = new Uint8Array(this.vocabSize);
    this.vocabTexts.forEach((t, id) => {
      if (t.startsWith(text)) allowed[id] = 1;
    });
    this.masks.set(text, allowed);
    if (this.masks.size > KEPT_MASKS) this.masks.delete(this.masks.keys().next().value!);
    return allowed;
  }
}

/** The logits with every id the healing does not allow set to −∞. */
export function restrictToHealing(logits: Float32Array, healing: Healing): Float32Array {
  const restricted = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) restricted[i] = healing.allowed[i] ? logits[i] : -Infinity;
  return restricted;
}
