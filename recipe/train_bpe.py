"""Step 2: train the byte-level BPE tokenizer on a sample of the training split.

Writes data/tokenizer/tokenizer.json + tokenizer_config.json (Hugging Face format, read by the
extension's @huggingface/tokenizers) and prints how common whitespace encodes, because code
completion lives on indentation: a 4- or 8-space indent should cost one token, not eight.

usage: /usr/bin/python3 recipe/train_bpe.py [--vocab 8192] [--chars 12000000]
"""
import argparse
import gzip
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=8192, help="total ids, special tokens included")
    ap.add_argument("--chars", type=int, default=12_000_000, help="training sample size")
    ap.add_argument("--n_positions", type=int, default=512, help="written as model_max_length")
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus", "train.jsonl.gz"))
    ap.add_argument("--out", default=os.path.join(HERE, "data", "tokenizer"))
    a = ap.parse_args()

    # the corpus file is shuffled across sources, so its first N characters are a fair sample
    texts, n = [], 0
    with gzip.open(a.corpus, "rt", encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            n += len(texts[-1])
            if n >= a.chars:
                break
    t0 = time.time()
    merges = bpe.train(texts, a.vocab)
    bpe.save(a.out, merges, a.n_positions)
    print(f"trained on {n/1e6:.1f}M chars in {time.time()-t0:.0f}s -> {a.out}")

    tok = bpe.Tokenizer(os.path.join(a.out, "tokenizer.json"))
    for s in ["    ", "        ", "\n    ", "\n        ", "\n            ", "\t\t", "\n\n", "  ",
              "    return self", "        if x is None:\n            return"]:
        ids = tok.encode(s)
        print(f"  {s!r:45} -> {len(ids)} tokens {[tok.decode([i]) for i in ids]}")
    sample = texts[-1][:20000]
    print(f"compression on a sample: {len(sample) / len(tok.encode(sample)):.2f} chars/token")


if __name__ == "__main__":
    main()
