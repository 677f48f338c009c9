// Token healing (the name comes from Microsoft's Guidance): the cursor rarely sits where ordinary
// tokenization would end a token. A prefix that ends in "\n" before the indentation the user has
// not typed yet, or in " hav" before "ersine", ends in a token that whole text almost never
// produces there: the model has seen few such boundaries, and the context cache's n-grams, made
// from whole text, none. So the prefix's last token is taken back off the prompt and generation
// must first restore its text: each token must either start with what is still to restore, or be
// a start of it (" ha" then "versine", as whole text splits " haversine"). Generation continues
// from boundaries both have seen, and the restored text is dropped from the result.
import { BuiltPrompt, prefixEnd } from '../prompt-format';

export interface Healing {
  /** The text taken back: the generated tokens restore it first. */
  text: string;
  /** Ids allowed while `required` (the rest of `text` still to restore) is not empty. */
  allowedFor(required: string): Uint8Array;
  /** What is still to restore after token `id`; '' once restored. */
  after(required: string, id: number): string;
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

  /** The prompt without its prefix's last token, and the healing that restores it. */
  heal(prompt: BuiltPrompt, fimOrder: 'psm' | 'spm'): { prompt: BuiltPrompt; healing: Healing } | undefined {
    if (prompt.prefixTokens === 0) return undefined;
    const last = prefixEnd(prompt, fimOrder) - 1;
    const text = this.decode([prompt.ids[last]]);
    if (text.length === 0 || text.includes('\uFFFD')) return undefined;
    const ids = prompt.ids.slice(0, last).concat(prompt.ids.slice(last + 1));
    const healing: Healing = {
      text,
      allowedFor: (required) => this.mask(required),
      after: (required, id) => {
        const t = this.texts()[id] ?? '';
        return t.startsWith(required) ? '' : required.slice(t.length);
      },
    };
    return { prompt: { ...prompt, ids, prefixTokens: prompt.prefixTokens - 1 }, healing };
  }

  private texts(): string[] {
    this.vocabTexts ??= Array.from({ length: this.decodableSize }, (_, id) =>
      this.excluded.has(id) ? '' : this.decode([id]),
    );
    return this.vocabTexts;
  }

  private mask(required: string): Uint8Array {
    const kept = this.masks.get(required);
    if (kept) {
      this.masks.delete(required);
      this.masks.set(required, kept);
      return kept;
    }
    const allowed = new Uint8Array(this.vocabSize);
    this.texts().forEach((t, id) => {
      if (t.length > 0 && (t.startsWith(required) || required.startsWith(t))) allowed[id] = 1;
    });
    this.masks.set(required, allowed);
    if (this.masks.size > KEPT_MASKS) this.masks.delete(this.masks.keys().next().value!);
    return allowed;
  }
}

/** The logits with every id the mask does not allow set to −∞. */
export function restrictTo(logits: Float32Array, allowed: Uint8Array): Float32Array {
  const restricted = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) restricted[i] = allowed[i] ? logits[i] : -Infinity;
  return restricted;
}
