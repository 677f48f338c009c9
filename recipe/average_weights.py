"""Average the weights of several checkpoints of one lineage (a "model soup").

Each session ends with its own cooldown branch off one stable-phase trajectory. Where two branches
leave it close together (~20 M tokens apart here) their mean had a lower held-out loss than either,
at no training cost; 36 M tokens or more apart it was far worse (recipe README, "Weights averaged
across sessions"), so check a mean with val_loss.py before using it. Only checkpoints of one config
can be averaged; the mean is taken in fp32 and written in the checkpoint format export_onnx.py and
val_loss.py read ({"config", "model"}, fp16).

usage: /usr/bin/python3 recipe/average_weights.py --weights A.pt B.pt [C.pt ...] --out SOUP.pt
"""
import argparse

import torch


def average_state(states):
    """The element-wise mean of state dicts with the same keys and shapes."""
    keys = list(states[0].keys())
    for s in states[1:]:
        if list(s.keys()) != keys:
            raise ValueError("checkpoints hold different parameters: they are not one shape")
        for k in keys:
            if s[k].shape != states[0][k].shape:
                raise ValueError(f"{k}: shape {tuple(s[k].shape)} against {tuple(states[0][k].shape)}")
    return {k: sum(s[k].float() for s in states) / len(states) for k in keys}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if len(a.weights) < 2:
        ap.error("--weights needs at least two checkpoints")
    cks = [torch.load(w, map_location="cpu") for w in a.weights]
    for w, ck in zip(a.weights[1:], cks[1:]):
        if ck["config"] != cks[0]["config"]:
            raise SystemExit(f"average_weights.py: {w} has another config than {a.weights[0]}")
    mean = average_state([ck["model"] for ck in cks])
    torch.save({"config": cks[0]["config"], "model": {k: v.half() for k, v in mean.items()}}, a.out)
    print(f"average_weights.py: mean of {len(cks)} checkpoints -> {a.out}")


if __name__ == "__main__":
    main()
