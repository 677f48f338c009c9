// The model's own tokenizer (tokenizer.json), read with transformers.js's tokenizer library.
import { Tokenizer } from '@huggingface/tokenizers';
import type { RepoTokens } from '../context/cross-file';

/** The three sentinel tokens of fill-in-the-middle prompts, whatever a family calls them. */
export interface FimTokens {
  prefix: number;
  suffix: number;
  middle: number;
}

/** Spellings of FIM sentinels, per model family: [prefix, suffix, middle]. */
const FIM_SPELLINGS: Array<[string, string, string]> = [
  ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'], // StarCoder, SantaCoder, Wisp's own
  ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'], // Qwen2.5-Coder
  ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'], // DeepSeek-Coder
  ['▁<PRE>', '▁<SUF>', '▁<MID>'], // CodeLlama's tokenizer.json (SentencePiece pieces, not added tokens)
  ['<PRE>', '<SUF>', '<MID>'], // CodeLlama, where a conversion made them added tokens
];

/** Spellings of repository-level tokens: [file separator, repository name]. */
const REPO_SPELLINGS: Array<[string, string]> = [
  ['<|file_sep|>', '<|repo_name|>'], // Qwen2.5-Coder
  ['<file_sep>', '<repo_name>'], // StarCoder2
];

/** End-of-infill tokens that are ordinary vocabulary pieces rather than added special tokens. */
const VOCAB_STOPS = ['▁<EOT>', '<EOT>'];

function eosIds(...sources: unknown[]): number[] {
  const ids: number[] = [];
  for (const value of sources) {
    if (typeof value === 'number') ids.push(value);
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'number') ids.push(v);
  }
  return ids;
}

export class ModelTokenizer {
  private readonly tokenizer: Tokenizer;
  /** Added/special tokens: content → id. */
  readonly specialTokens: Map<string, number>;
  readonly fim: FimTokens | undefined;
  /** Tokens that separate the files of a repository, for models trained on whole repositories. */
  readonly repo: RepoTokens | undefined;
  /**
   * Suffix-prefix-middle order, for models trained on it (config.json "fim_order": "spm"): the
   * prefix comes last, so typing appends to the prompt and the cache keeps everything before it.
   */
  readonly fimOrder: 'psm' | 'spm';
  /** Token ids that end a generation: EOS from the configs plus every added special token. */
  readonly stopIds: Set<number>;
  readonly eosId: number | undefined;
  /** One past the largest id the tokenizer can decode. */
  readonly size: number;

  constructor(
    tokenizerJson: Record<string, unknown>,
    tokenizerConfig: Record<string, unknown>,
    config: Record<string, unknown> = {},
    generationConfig: Record<string, unknown> = {},
  ) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    let maxId = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;
    this.size = maxId + 1;
    this.specialTokens = new Map();
    const added = tokenizerJson.added_tokens;
    if (Array.isArray(added)) {
      for (const t of added as Array<{ id: number; content: string; special?: boolean }>) {
        if (typeof t.id === 'number' && typeof t.content === 'string' && t.special !== false) {
          this.specialTokens.set(t.content, t.id);
        }
      }
    }
    this.fim = undefined;
    for (const [p, s, m] of FIM_SPELLINGS) {
      const ids = [p, s, m].map((n) => this.specialTokens.get(n) ?? this.tokenizer.token_to_id(n));
      if (ids.every((id) => typeof id === 'number')) {
        this.fim = { prefix: ids[0]!, suffix: ids[1]!, middle: ids[2]! };
        break;
      }
    }
    this.repo = undefined;
    for (const [sep, name] of REPO_SPELLINGS) {
      const fileSep = this.specialTokens.get(sep);
      if (fileSep !== undefined) {
        this.repo = { fileSep, repoName: this.specialTokens.get(name) };
        break;
      }
    }
    this.fimOrder = config.fim_order === 'spm' ? 'spm' : 'psm';
    const configEos = eosIds(generationConfig.eos_token_id, config.eos_token_id);
    const namedEos =
      typeof tokenizerConfig.eos_token === 'string' ? this.specialTokens.get(tokenizerConfig.eos_token) : undefined;
    this.eosId = configEos[0] ?? namedEos;
    const vocabStops = VOCAB_STOPS.map((t) => this.tokenizer.token_to_id(t)).filter(
      (id): id is number => typeof id === 'number',
    );
    this.stopIds = new Set([...configEos, ...this.specialTokens.values(), ...vocabStops]);
  }

  /**
   * Encode text from a document. Text that spells a special token (a file that contains
   * "<|endoftext|>") is encoded as ordinary characters, so a document cannot inject control tokens.
   */
  encode(text: string): number[] {
    if (text.length === 0) return [];
    const ids: number[] = [];
    let start = 0;
    for (;;) {
      const hit = this.nextSpecial(text, start);
      if (!hit) break;
      this.encodePlain(text.slice(start, hit.index), ids);
      this.encodePlain(hit.content.slice(0, 1), ids);
      this.encodePlain(hit.content.slice(1), ids);
      start = hit.index + hit.content.length;
    }
    this.encodePlain(text.slice(start), ids);
    return ids;
  }

  decode(ids: number[]): string {
    return ids.length === 0
      ? ''
      : this.tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The vocabulary entry of a token (byte-level symbols for BPE models), for display. */
  tokenString(id: number): string {
    return this.tokenizer.id_to_token(id) ?? `<${id}>`;
  }

  private encodePlain(text: string, into: number[]): void {
    if (text.length === 0) return;
    for (const id of this.tokenizer.encode(text, { add_special_tokens: false }).ids) into.push(id);
  }

  private nextSpecial(text: string, from: number): { index: number; content: string } | undefined {
    let best: { index: number; content: string } | undefined;
    for (const content of this.specialTokens.keys()) {
      const index = text.indexOf(content, from);
      if (index >= 0 && (!best || index < best.index)) best = { index, content };
    }
    return best;
  }
}
