"""Byte-level BPE (GPT-2 style): training, a cached encoder, and the tokenizer.json writer.

The tokenizer.json uses Hugging Face's own ByteLevel pre-tokenizer (GPT-2's regex), so the
extension's tokenizer library (@huggingface/tokenizers) splits text exactly as this file does.
Python's `re` has no \\p{L}; the `regex` module (Debian: python3-regex) has, so the pattern below
is GPT-2's pattern verbatim and no approximation is needed for parity.

GPT-2's regex keeps whitespace together: `\\s+(?!\\S)` takes a run of spaces (or a newline plus the
next line's indentation) except its last space, which then prefixes the following word
(" def", " return"). Frequent runs therefore become single tokens through ordinary merges.
"""
import collections
import heapq
import json
import os

import regex

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
PAT = regex.compile(GPT2_PATTERN)

EOT = "<|endoftext|>"
FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = "<fim_prefix>", "<fim_middle>", "<fim_suffix>"
# StarCoder's spelling and order: ids 0..3, so they stay put whatever the vocabulary size
SPECIALS = [EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode char map (tokenizer.json stores strings)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


B2U = bytes_to_unicode()
U2B = {u: b for b, u in B2U.items()}


def train(texts, vocab_size, log=print):
    """Learn merges from an iterable of strings. Returns the merges as (left, right) symbol strings.

    Classic incremental BPE: count pre-token frequencies once, then repeatedly merge the most
    frequent adjacent pair, updating only the words that contain it. Ties break on the pair's
    symbol strings so the result does not depend on dict ordering.
    """
    counts = collections.Counter()
    for t in texts:
        counts.update(PAT.findall(t))
    n_merges = vocab_size - len(SPECIALS) - 256
    words = [[B2U[b] for b in w.encode("utf-8")] for w in counts]
    freqs = list(counts.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for wi, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_count[p] += freqs[wi]
            where[p].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        c, p = heapq.heappop(heap)
        if -c != pair_count.get(p, 0) or c == 0:
            continue  # stale heap entry
        a, b = p
        ab = a + b
        merges.append(p)
        delta = collections.Counter()
        for wi in where.pop(p):
            w, f = words[wi], freqs[wi]
            for q in zip(w, w[1:]):
                delta[q] -= f
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(ab)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for q in zip(out, out[1:]):
                delta[q] += f
                where[q].add(wi)
        for q, d in delta.items():
            if d:
                pair_count[q] += d
                heapq.heappush(heap, (-pair_count[q], q))
        pair_count.pop(p, None)
    log(f"bpe: {len(counts)} unique pre-tokens, {len(merges)} merges")
    return merges


def tokenizer_json(merges):
    """The Hugging Face tokenizer.json for these merges (GPT-2 layout, merges as "a b" strings)."""
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for b in range(256):
        vocab[B2U[b]] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    added = [{"id": vocab[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s in SPECIALS]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {**byte_level, "trim_offsets": False},
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def tokenizer_config_json(model_max_length):
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": {str(i): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                                          "single_word": False, "special": True} for i, s in enumerate(SPECIALS)},
        "additional_special_tokens": SPECIALS[1:],
        "bos_token": EOT,
        "clean_up_tokenization_spaces": False,
        "eos_token": EOT,
        "model_max_length": model_max_length,
        "tokenizer_class": "GPT2Tokenizer",
        "unk_token": EOT,
    }


def save(out_dir, merges, model_max_length):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(merges), f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config_json(model_max_length), f, indent=2)


class Tokenizer:
    """Encoder/decoder for a tokenizer.json written by save(). Caches each pre-token's ids, which
    makes encoding a code corpus fast (identifiers and indentation repeat a lot)."""

    def __init__(self, path):
        t = json.load(open(path, encoding="utf-8"))
        self.vocab = t["model"]["vocab"]
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(t["model"]["merges"])}
        self.special = {a["content"]: a["id"] for a in t["added_tokens"]}
        self.eot, self.fim_prefix = self.special[EOT], self.special[FIM_PREFIX]
        self.fim_middle, self.fim_suffix = self.special[FIM_MIDDLE], self.special[FIM_SUFFIX]
        self.special_pat = regex.compile("|".join(regex.escape(s) for s in self.special))
        self.token_bytes = [b""] * len(self.vocab)
        for s, i in self.vocab.items():
            self.token_bytes[i] = s.encode("utf-8") if s in self.special else bytes(U2B[c] for c in s)
        self.cache = {}

    def __len__(self):
        return len(self.vocab)

    def _bpe(self, word):
        syms = [B2U[b] for b in word.encode("utf-8")]
        while len(syms) > 1:
            best, best_rank = None, None
            for i in range(len(syms) - 1):
                r = self.ranks.get((syms[i], syms[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            a, b = syms[best], syms[best + 1]
            out, i = [], 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            syms = out
        return [self.vocab[s] for s in syms]

    def encode_ordinary(self, text):
        """Encode text, treating special-token spellings as plain text."""
        ids, cache = [], self.cache
        for w in PAT.findall(text):
            r = cache.get(w)
            if r is None:
                r = cache[w] = self._bpe(w)
            ids.extend(r)
        return ids

    def encode(self, text):
        """Encode like Hugging Face tokenizers: special-token spellings become their ids."""
        ids, pos = [], 0
        for m in self.special_pat.finditer(text):
            ids.extend(self.encode_ordinary(text[pos:m.start()]))
            ids.append(self.special[m.group()])
            pos = m.end()
        ids.extend(self.encode_ordinary(text[pos:]))
        return ids

    def decode_bytes(self, ids):
        return b"".join(self.token_bytes[i] for i in ids)

    def decode(self, ids):
        return self.decode_bytes(ids).decode("utf-8", "replace")
