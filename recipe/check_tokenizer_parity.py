"""Check that the extension's tokenizer (@huggingface/tokenizers in Node) and this recipe's Python
encoder give identical ids, since the model was trained on the Python ids.

Snippets: a few hundred random slices of held-out (validation) files, cut at arbitrary character
positions the way an editor prefix is, plus hand-written edge cases (special-token spellings,
non-ASCII, CRLF, tabs, long whitespace runs).
usage: /usr/bin/python3 recipe/check_tokenizer_parity.py [--tokenizer DIR] [--n 400]
"""
import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EDGE_CASES = [
    "", " ", "\n", "\t\tx", "a\r\nb", "    \n    \n", " " * 37 + "x", "x = 1  # comment   \n",
    "<fim_prefix>def f(<fim_suffix>)\n<fim_middle>", "text<|endoftext|>more", "<fim_prefix", "<|endoftext|",
    "naïve café — “quotes” 日本語 😀 Ω≈ç", "x\u00a0=\u00a01", "déf f(ñ):\n\treturn ñ²", "'s 've 're 'll 'd 'm 't",
    "123456789 3.14159 0xFF 1e-9", "__init__ __name__ _private", "a_b_c snake_case CamelCase",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", default=os.path.join(os.path.dirname(HERE), "models", "wisp-code-small"))
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus", "val.jsonl.gz"))
    ap.add_argument("--n", type=int, default=400)
    a = ap.parse_args()
    tok = bpe.Tokenizer(os.path.join(a.tokenizer, "tokenizer.json"))
    rng = random.Random(0)
    with gzip.open(a.corpus, "rt", encoding="utf-8") as f:
        docs = [json.loads(l)["text"] for l in f]
    snippets = list(EDGE_CASES)
    while len(snippets) < a.n:
        d = rng.choice(docs)
        i = rng.randrange(len(d))
        snippets.append(d[i:i + rng.choice([20, 100, 400, 2000])])
    cases = [{"text": s, "ids": tok.encode(s)} for s in snippets]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(cases, f)
    try:
        r = subprocess.run(["node", os.path.join(HERE, "tokenizer_parity.mjs"), a.tokenizer, f.name],
                           capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    print(r.stdout.strip())
    if r.returncode:
        print(r.stderr.strip())
    # Python side of the round trip
    bad_rt = sum(tok.decode(c["ids"]) != c["text"] for c in cases)
    n_tok = sum(len(c["ids"]) for c in cases)
    print(f"python: {len(cases)} snippets, {n_tok} tokens, decode(encode(x)) != x for {bad_rt}")
    sys.exit(r.returncode or (1 if bad_rt else 0))


if __name__ == "__main__":
    main()
