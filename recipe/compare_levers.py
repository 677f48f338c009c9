"""Issue 15's two levers, measured at equal tokens against the current recipe: a Llama-style block
(llama_gpt.py) and the Muon optimiser (muon.py) for the matrix weights.

Every variant starts from scratch with the same seed, the same shape (train.py's defaults), the
same batches in the same order (one data seed), the same batch size and the same step-based
warmup-stable-decay schedule, so the only differences are the block and the optimiser. With
--resume, a GPT-2 variant continues the shipped lineage from a copy of its stable.pt instead: does
switching the optimiser pay without starting over? Each run writes RUN_DIR/[resume-]VARIANT.json (train-loss curve, throughput, final validation losses with more
batches than train.py's periodic eval); --summary prints the table.

usage (one variant per process, so a long series survives a kill):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 recipe/compare_levers.py \
      --variant llama-muon --out recipe/runs/levers
  ... compare_levers.py --variant gpt2-muon --steps 250 --resume COPY_OF/stable.pt
  /usr/bin/python3 recipe/compare_levers.py --summary --out recipe/runs/levers
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch

import train
from architectures import build_model
from gpt import GPTConfig
from muon import make_optimisers
import bpe

DEFAULT_MUON_LR = 0.02  # the published default
DEFAULT_STEPS = 500  # 2.05 M tokens at batch 8 x 512
VARIANTS = ("gpt2-adamw", "llama-adamw", "gpt2-muon", "llama-muon")


def schedule(step, steps, warmup, cooldown, min_ratio):
    """Multiplier of the peak learning rate: linear warmup, constant, linear cooldown to min_ratio."""
    m = min(1.0, (step + 1) / warmup)
    start = steps * (1.0 - cooldown)
    if step >= start:
        m = min_ratio + (m - min_ratio) * (steps - step) / (steps - start)
    return m


def run(a):
    torch.set_num_threads(a.threads)
    tc = train.TrainConfig()
    tc.eval_batches = a.eval_batches
    tok = bpe.Tokenizer(os.path.join(a.data, "tokenizer", "tokenizer.json"))
    block, opt_name = a.variant.split("-")
    assert block == "gpt2" or not a.resume, "the shipped model has the GPT-2 block"
    ck = torch.load(a.resume, map_location="cpu") if a.resume else None
    # a resumed run keeps the lineage's shape, or a grown one (grow_depth.py)
    cfg = GPTConfig(**ck["config"]) if ck else GPTConfig(
        vocab_size=len(tok), n_positions=tc.n_positions, n_layer=tc.n_layer, n_head=tc.n_head, n_embd=tc.n_embd,
        arch=block)
    torch.manual_seed(0)
    model = build_model(cfg).train()
    opts, peaks = make_optimisers(model, tc, a.muon_lr, opt_name == "muon")
    warmup = tc.warmup_steps
    if a.resume:
        # Continue the shipped lineage instead of starting over: AdamW goes on with its saved
        # moments at full rate (as train.py resumes); Muon starts its momentum afresh and re-warms,
        # the price of switching optimiser mid-run, which is part of what is measured.
        model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
        if opt_name == "adamw":
            opts[0].load_state_dict(ck["optimizer"])
            warmup = 1
    batches = train.Batches(a.data, "train", tok, tc, cfg.n_positions, seed=a.data_seed)
    val = train.Batches(a.data, "val", tok, tc, cfg.n_positions, seed=0)
    no_amp = torch.autocast("cpu", enabled=False)
    # --bf16: the training step's matmuls in bf16 (fp32 weights and optimiser); evaluation stays fp32
    step_amp = torch.autocast("cpu", dtype=torch.bfloat16) if a.bf16 else no_amp
    curve, losses, t0 = [], [], time.time()
    for step in range(a.steps):
        m = schedule(step, a.steps, warmup, tc.cooldown, tc.min_lr / tc.lr)
        for opt, peak in zip(opts, peaks):
            for g in opt.param_groups:
                g["lr"] = peak * m
        x, y = batches.get(tc.batch_size)
        with step_amp:
            loss = train.loss_fn(model, x, y)
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        for opt in opts:
            opt.step()
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
        if (step + 1) % 10 == 0:
            curve.append({"step": step + 1, "tokens": (step + 1) * x.numel(),
                          "loss": round(float(np.mean(losses[-10:])), 4), "s": round(time.time() - t0, 1)})
            print(json.dumps({"variant": a.variant, **curve[-1]}), flush=True)
    train_s = time.time() - t0
    tokens = len(losses) * tc.batch_size * cfg.n_positions
    val_losses = train.evaluate(model, val, tc, "cpu", no_amp)
    out = {"variant": a.variant, "params": model.n_params(), "n_layer": cfg.n_layer, "steps": len(losses),
           "tokens": tokens, "batch": tc.batch_size,
           "threads": a.threads, "bf16": a.bf16, "muon_lr": a.muon_lr if opt_name == "muon" else None, "adamw_lr": tc.lr,
           "train_s": round(train_s, 1), "tokens_per_s": round(tokens / train_s),
           "final_train_loss": round(float(np.mean(losses[-20:])), 4), "val": val_losses,
           "val_batches_per_language": a.eval_batches, "curve": curve}
    os.makedirs(a.out, exist_ok=True)
    name = a.variant if a.steps == DEFAULT_STEPS else f"{a.variant}-{a.steps}"
    if opt_name == "muon" and a.muon_lr != DEFAULT_MUON_LR:
        name = f"{name}-lr{a.muon_lr:g}"
    if a.bf16:
        name = f"{name}-bf16"
    if cfg.n_layer != tc.n_layer:
        name = f"{name}-L{cfg.n_layer}"
    if a.resume:
        name = f"resume-{name}"
        out["resumed_at_tokens"] = ck["tokens"]
    with open(os.path.join(a.out, f"{name}.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({k: v for k, v in out.items() if k != "curve"}), flush=True)


def smoothed(curve, width=5):
    """(tokens, mean loss of the last `width` records) for each record of a curve."""
    return [(c["tokens"], float(np.mean([r["loss"] for r in curve[max(0, i - width + 1):i + 1]])))
            for i, c in enumerate(curve)]


def stable_phase_match(base, run, cooldown):
    """The run's smoothed train loss at its last record before the cooldown, and the tokens the
    baseline needed to first reach it (None if it never did). The baseline's whole curve counts,
    its cooldown included: a cooldown lowers the loss below what its stable phase would have
    reached at those tokens, so a saving read this way is a lower bound."""
    end = run["steps"] * (1.0 - cooldown)
    pts = [p for p, c in zip(smoothed(run["curve"]), run["curve"]) if c["step"] <= end]
    tokens, loss = pts[-1]
    prev = None
    for t, l in smoothed(base["curve"]):
        if l <= loss:
            if prev is None:
                return tokens, loss, t
            t0, l0 = prev
            return tokens, loss, t0 + (t - t0) * (l0 - loss) / (l0 - l)
        prev = (t, l)
    return tokens, loss, None


def summary(a):
    rows = []
    for f in sorted(os.listdir(a.out)):
        if f.endswith(".json"):
            rows.append(json.load(open(os.path.join(a.out, f))))
    lineage = train.TrainConfig()
    print("| variant | start | tokens | params | final train loss | val py | val ts | val js | val FIM-middle "
          "| Δ FIM-middle | stable-phase loss | baseline tokens to reach it | tokens it needed for the baseline's |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        # each run is compared with the AdamW GPT-2 run of the lineage's shape, the same start and
        # length: the fp32 one, or where there is none, the bf16 one
        start = r.get("resumed_at_tokens")
        bases = [b for b in rows if b["variant"] == "gpt2-adamw" and b.get("resumed_at_tokens") == start
                 and b["steps"] == r["steps"] and b.get("n_layer", 4) == lineage.n_layer]
        base = next((b for b in bases if not b.get("bf16")), bases[0] if bases else None)
        v = r["val"]
        d = f"{v['fim_middle'] - base['val']['fim_middle']:+.3f}" if base else ""
        match = "– | – | –"
        if base and base is not r and not start:  # a resumed run's loss barely moves: compare its val only
            tokens, loss, need = stable_phase_match(base, r, lineage.cooldown)
            match = f"{loss:.3f} at {tokens / 1e6:.2f}M | " + (
                f"{need / 1e6:.2f}M (x{need / tokens:.2f})" if need
                else f"more than {base['tokens'] / 1e6:.2f}M (more than x{base['tokens'] / tokens:.2f})")
            # the other way round: the variant's tokens to the baseline's pre-cooldown loss
            base_tokens, _, own = stable_phase_match(r, base, lineage.cooldown)
            match += f" | {own / 1e6:.2f}M (x{base_tokens / own:.2f} fewer)" if own else " | –"
        where = f"resumed at {start / 1e6:.2f}M" if start else "scratch"
        label = r["variant"] + (f" (lr {r['muon_lr']:g})" if r.get("muon_lr") not in (None, DEFAULT_MUON_LR) else "")
        label += " bf16" if r.get("bf16") else ""
        label += f" L{r['n_layer']}" if r.get("n_layer", 4) != lineage.n_layer else ""
        print(f"| {label} | {where} | {r['tokens']:,} | {r['params'] / 1e6:.2f}M | {r['final_train_loss']:.3f} | "
              f"{v['py']:.3f} | {v['ts']:.3f} | {v['js']:.3f} | {v['fim_middle']:.3f} | {d} | {match} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=VARIANTS)
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    ap.add_argument("--muon_lr", type=float, default=DEFAULT_MUON_LR)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval_batches", type=int, default=16)
    ap.add_argument("--data_seed", type=int, default=42)
    ap.add_argument("--data", default=os.path.join(train.HERE, "data"))
    ap.add_argument("--out", default=os.path.join(train.HERE, "runs", "levers"))
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast for the training step (CPU)")
    ap.add_argument("--resume", help="a stable.pt to continue from (GPT-2 block only) instead of a fresh init")
    ap.add_argument("--summary", action="store_true")
    a = ap.parse_args()
    summary(a) if a.summary else run(a)


if __name__ == "__main__":
    main()
