// Reusing the keys/values of text the model has already read.
//
// How it works, in plain words: every request is a token sequence. The cache keeps a few
// sequences the model has processed (their ids and the key/value tensors for every position).
// A new request is matched against them by longest common token prefix: that many positions are
// reused as they are, and only the tail after them is fed to the model. Typing one character
// usually changes the last token or two, so a keystroke costs a few tokens of work; a backspace or
// an edit earlier in the text shortens the common prefix (the tensors are truncated to it);
// switching to another file picks that file's sequence, which is kept in the same small LRU.
// States are never mutated in place (the model returns new tensors every step), so a matched
// sequence stays valid for other requests. Memory is bounded by entry count and by bytes.
//
// States may live on a GPU (model-session.ts): each holder of a state disposes it when done. The
// cache owns the states it was given and disposes them when they are evicted or superseded; match()
// hands out a state of the caller's own (a view of the cached one on the device, sharing its
// memory, so a shorter common prefix after a backspace or an edit costs no copy to the host).

export interface KvState {
  /** Positions held. */
  readonly length: number;
  readonly bytes: number;
  /**
   * A state holding the first `keep` positions (keep may equal length), the caller's to dispose;
   * the original stays valid.
   */
  truncate(keep: number): KvState;
  /** Release what the state holds (device memory); a no-op for plain host data. */
  dispose(): void;
}

interface Entry<S extends KvState> {
  ids: number[];
  state: S;
  lastUsed: number;
}

export interface CacheMatch<S extends KvState> {
  /** State covering ids[0 .. reused), or undefined when nothing is reused. */
  state: S | undefined;
  reused: number;
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

export class SequenceCache<S extends KvState> {
  private entries: Entry<S>[] = [];
  private clock = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  get bytes(): number {
    return this.entries.reduce((sum, e) => sum + e.state.bytes, 0);
  }

  /**
   * The longest reusable prefix of `ids`. At most ids.length - 1 positions are reused, because the
   * model must be fed at least one token to produce the next token's logits.
   */
  match(ids: readonly number[]): CacheMatch<S> {
    let best: Entry<S> | undefined;
    let bestLength = 0;
    for (const entry of this.entries) {
      const n = Math.min(commonPrefixLength(entry.ids, ids), entry.state.length, ids.length - 1);
      if (n > bestLength || (n === bestLength && best && entry.lastUsed > best.lastUsed)) {
        best = entry;
        bestLength = n;
      }
    }
    if (!best || bestLength === 0) return { state: undefined, reused: 0 };
    best.lastUsed = ++this.clock;
    return { state: best.state.truncate(bestLength) as S, reused: bestLength };
  }

  /**
   * Remember a processed sequence (the cache takes the state over). Entries that it supersedes
   * (sharing at least half of their positions with it: the same document a few keystrokes ago) are
   * dropped, so the slots keep distinct documents rather than many versions of one.
   */
  put(ids: readonly number[], state: S): void {
    const kept = this.entries.filter((e) => commonPrefixLength(e.ids, ids) * 2 < e.ids.length);
    this.drop(this.entries.filter((e) => !kept.includes(e)));
    this.entries = kept;
    this.entries.push({ ids: ids.slice(0, state.length), state, lastUsed: ++this.clock });
    this.entries.sort((a, b) => b.lastUsed - a.lastUsed);
    while (this.entries.length > this.maxEntries || (this.entries.length > 1 && this.bytes > this.maxBytes)) {
      this.drop([this.entries.pop()!]);
    }
    if (this.entries.length === 1 && this.bytes > this.maxBytes) this.clear();
  }

  clear(): void {
    this.drop(this.entries);
    this.entries = [];
  }

  private drop(entries: readonly Entry<S>[]): void {
    for (const e of entries) e.state.dispose();
  }
}
