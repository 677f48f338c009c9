"""A benchmark-only GPT of realistic size with random weights: test/bench/.models/random-5m/.

The default model (models/wisp-code-small) is trained elsewhere; until it exists the benchmark
needs a model of the same shape to time: 4 layers, d=256, 4 heads, vocabulary 8192, 1,024
positions (~5M parameters, ~23 MB fp32). Random weights give meaningless completions, so its
acceptance and typing-through figures say nothing about quality; its timings are what matter.

The tokenizer is the project's 8k BPE when recipe/data/tokenizer exists, else one trained
here (recipe/bpe.py) on ~2 MB of Debian's Python standard library. Model code, export and
tokenizer code are imported from recipe, not copied.

usage: /usr/bin/python3 test/bench/make_bench_model.py [--out test/bench/.models/random-5m]
"""
import argparse
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "recipe"))
import bpe  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402
from export_onnx import write_model_folder, kv_consistency  # noqa: E402
from make_fixture import stdlib_sample  # noqa: E402

CONFIG = GPTConfig(vocab_size=8192, n_positions=1024, n_layer=4, n_head=4, n_embd=256)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, ".models", "random-5m"))
    ap.add_argument("--tokenizer", default=os.path.join(REPO, "recipe", "data", "tokenizer"))
    a = ap.parse_args()
    t0 = time.time()
    os.makedirs(a.out, exist_ok=True)
    tok_dir = a.tokenizer
    if not os.path.exists(os.path.join(tok_dir, "tokenizer.json")):
        merges = bpe.train(stdlib_sample(2_000_000), CONFIG.vocab_size)
        bpe.save(a.out, merges, CONFIG.n_positions)
        tok_dir = a.out
    torch.manual_seed(5)
    model = GPT(CONFIG).eval()
    write_model_folder(model, a.out, tok_dir)
    print(f"wrote {a.out}: {model.n_params() / 1e6:.2f}M params, "
          f"kv-vs-full max|diff| {kv_consistency(model):.1e}, tokenizer from {tok_dir}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
