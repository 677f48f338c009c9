"""Step 3: encode the corpus with the trained tokenizer into flat uint16 token files.

data/tokens/{train,val}_{py,ts,js}.bin: documents joined with <|endoftext|>, one file per
language so train.py can set the language mix without re-encoding; data/tokens/manifest.json
holds the token counts.
usage: /usr/bin/python3 recipe/encode_corpus.py [--data DIR]   (DIR defaults to recipe/data; it
must hold corpus/ and tokenizer/)
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "data"), help="data folder; default recipe/data")
    DATA = os.path.abspath(ap.parse_args().data)
    tok = bpe.Tokenizer(os.path.join(DATA, "tokenizer", "tokenizer.json"))
    assert len(tok) <= 65536
    out_dir = os.path.join(DATA, "tokens")
    os.makedirs(out_dir, exist_ok=True)
    counts = {}
    for split in ("train", "val"):
        t0 = time.time()
        ids = {"py": [], "ts": [], "js": []}
        chars = {k: 0 for k in ids}
        with gzip.open(os.path.join(DATA, "corpus", f"{split}.jsonl.gz"), "rt", encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                # ordinary encoding: a literal "<|endoftext|>" inside source code stays text
                ids[d["lang"]].extend(tok.encode_ordinary(d["text"]))
                ids[d["lang"]].append(tok.eot)
                chars[d["lang"]] += len(d["text"])
        for lang, arr in ids.items():
            np.array(arr, dtype=np.uint16).tofile(os.path.join(out_dir, f"{split}_{lang}.bin"))
            print(f"{split} {lang}: {len(arr):,} tokens ({chars[lang] / max(1, len(arr)):.2f} chars/token)")
            counts.setdefault(split, {})[lang] = {"tokens": len(arr), "chars": chars[lang]}
        print(f"{split} encoded in {time.time() - t0:.0f}s", flush=True)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(counts, f, indent=1)


if __name__ == "__main__":
    main()
