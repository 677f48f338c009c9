"""Deepen a GPT-2-layout checkpoint without changing what it computes, so training goes on from it.

By session 8 the 3.45 M-parameter model had seen ~38 tokens per parameter, and 45.6 M more tokens
lowered the loss on the new files only: the shape, not the data, looks like the limit. Starting a
larger model over would throw away 130 M CPU tokens, so this grows the trained one instead: each
new block is a copy of the block below it whose two output projections (attention c_proj and
MLP c_fc_proj, weights and biases) are zero. A pre-LayerNorm block with zero output projections
adds nothing to the residual stream, so the grown model's logits equal the original's (up to
float rounding), and the new blocks start learning from the first step: the gradient of a zero
projection is its input times the upstream gradient, not zero. Copying the block below (rather
than a fresh init) gives the new block features the model already uses.

The AdamW state goes with it: every old parameter keeps its moments and step count under its new
position; the new blocks' parameters start with no state, as AdamW starts any parameter.

usage: /usr/bin/python3 recipe/grow_depth.py --src train_state/stable.pt --dst grown/stable.pt --after 1,3
       (--after: the 0-based blocks that each get a copy inserted right above them)
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from architectures import build_model  # noqa: E402
from gpt import GPTConfig  # noqa: E402

ZEROED = ("c_proj.weight", "c_proj.bias", "c_fc_proj.weight", "c_fc_proj.bias")


def grown_layout(n_layer, after):
    """For each block of the grown model: (index of the source block, whether it is a new copy)."""
    layout = []
    for i in range(n_layer):
        layout.append((i, False))
        if i in after:
            layout.append((i, True))
    return layout


def grow_state(model_sd, n_layer, after):
    """The grown model's state dict, and for each of its parameter names the old name it came from
    (None for the new blocks' parameters)."""
    out, source = {}, {}
    for name, t in model_sd.items():
        if not name.startswith("h."):
            out[name], source[name] = t, name
    for j, (i, new) in enumerate(grown_layout(n_layer, after)):
        prefix = f"h.{i}."
        for name, t in model_sd.items():
            if name.startswith(prefix):
                rest = name[len(prefix):]
                key = f"h.{j}.{rest}"
                out[key] = torch.zeros_like(t) if new and rest in ZEROED else t.clone()
                source[key] = None if new else name
    return out, source


def grow_optimizer(osd, old_model, new_model, source, tc):
    """Carry AdamW's per-parameter state (keyed by the position in adamw_groups' order) over to
    the grown model's positions."""
    def positions(model):
        names = {id(p): n for n, p in model.named_parameters()}
        groups = train.adamw_groups(model.parameters(), tc)
        return [names[id(p)] for g in groups for p in g["params"]]

    old_index = {n: i for i, n in enumerate(positions(old_model))}
    new_names = positions(new_model)
    state = {}
    for j, n in enumerate(new_names):
        old = source[n]
        if old is not None and old_index[old] in osd["state"]:
            state[j] = copy.deepcopy(osd["state"][old_index[old]])
    groups, start = [], 0
    for g_old, g_new in zip(osd["param_groups"], train.adamw_groups(new_model.parameters(), tc)):
        g = dict(g_old)
        g["params"] = list(range(start, start + len(g_new["params"])))
        start += len(g_new["params"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


def grow_checkpoint(ck, after, tc=None):
    """A checkpoint as train.py saves it (config, model, and optionally optimizer, steps, tokens),
    deepened by one copied block above each block in `after`."""
    tc = tc or train.TrainConfig()
    cfg = GPTConfig(**ck["config"])
    assert cfg.arch == "gpt2", "grows the GPT-2 block only"
    after = sorted(set(after))
    assert after and all(0 <= i < cfg.n_layer for i in after), f"--after must name blocks 0..{cfg.n_layer - 1}"
    new_cfg = GPTConfig(**{**cfg.to_dict(), "n_layer": cfg.n_layer + len(after)})
    sd, source = grow_state(ck["model"], cfg.n_layer, after)
    out = {**ck, "config": new_cfg.to_dict(), "model": sd}
    if "optimizer" in ck:
        old_model, new_model = build_model(cfg), build_model(new_cfg)
        out["optimizer"] = grow_optimizer(ck["optimizer"], old_model, new_model, source, tc)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="stable.pt or model.fp16.pt")
    ap.add_argument("--dst", required=True)
    ap.add_argument("--after", required=True, help="comma-separated 0-based blocks, e.g. 1,3")
    a = ap.parse_args()
    ck = torch.load(a.src, map_location="cpu")
    grown = grow_checkpoint(ck, [int(i) for i in a.after.split(",")])
    os.makedirs(os.path.dirname(os.path.abspath(a.dst)), exist_ok=True)
    torch.save(grown, a.dst)
    c = grown["config"]
    print(f"{a.src}: {ck['config']['n_layer']} blocks -> {a.dst}: {c['n_layer']} blocks "
          f"({build_model(GPTConfig(**c)).n_params() / 1e6:.2f}M params)")


if __name__ == "__main__":
    main()
