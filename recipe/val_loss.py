"""Held-out loss of one or more checkpoints on one corpus's validation files, side by side.

train.py's periodic evaluation uses 4 batches per language on the corpus it trains on; comparing
two checkpoints (two shapes, or one model before and after a corpus grew) wants more batches and
the same validation files for both. This runs train.evaluate, fp32, with the same fixed seed for
every checkpoint, so each sees exactly the same windows.

usage: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 recipe/val_loss.py \
           --weights A/model.fp16.pt B/model.fp16.pt [--data recipe/data] [--eval_batches 16] [--spm_rate 1]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import train  # noqa: E402
from architectures import build_model  # noqa: E402
from gpt import GPTConfig  # noqa: E402


def val_loss(weights, data, eval_batches, spm_rate=None):
    ck = torch.load(weights, map_location="cpu")
    cfg = GPTConfig(**ck["config"])
    model = build_model(cfg)
    model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    tc = train.TrainConfig()
    tc.eval_batches = eval_batches
    if spm_rate is not None:
        tc.spm_rate = spm_rate
    tok = bpe.Tokenizer(os.path.join(data, "tokenizer", "tokenizer.json"))
    val = train.Batches(data, "val", tok, tc, cfg.n_positions, seed=0)
    return {"weights": weights, "n_layer": cfg.n_layer, "tokens": ck.get("tokens"),
            **train.evaluate(model, val, tc, "cpu", torch.autocast("cpu", enabled=False))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", nargs="+", required=True)
    ap.add_argument("--data", default=os.path.join(train.HERE, "data"))
    ap.add_argument("--eval_batches", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--spm_rate", type=float, help="FIM samples' share in SPM order (default: train.py's 0.5); "
                    "0 or 1 gives the FIM-middle loss of one order alone")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"| weights | blocks | val py | val ts | val js | val FIM-middle |  ({a.eval_batches} batches of 8 x 512 per language, {a.data})")
    print("|---|---:|---:|---:|---:|---:|")
    for w in a.weights:
        r = val_loss(w, a.data, a.eval_batches, a.spm_rate)
        print(f"| {w} | {r['n_layer']} | {r['py']:.3f} | {r['ts']:.3f} | {r['js']:.3f} | {r['fim_middle']:.3f} |", flush=True)
        print(json.dumps(r), file=sys.stderr)


if __name__ == "__main__":
    main()
