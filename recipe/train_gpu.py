"""Device side of a GPU run (started by train_gpu.sh): probe, choose a model, train, send weights back.

One run of at most 9 minutes on one GPU. Times are measured from the wrapper's start (--start):
  probe   ~30 s: tokens/s of a few fresh model sizes and of the current model, bf16 autocast, random
          batches; the data loader's workers start first and fill their queues meanwhile. Fresh
          models are --arch (default llama: rotary, RMSNorm, SwiGLU) trained with --optimizer
          (default muon for the block matrices, AdamW for the rest): at equal tokens from scratch
          that pair reached the GPT-2/AdamW recipe's loss with 1.88x fewer tokens
          (compare_levers.py). Continuing the current model keeps its own block and AdamW.
  choose  the largest fresh size whose projected tokens (tokens/s x remaining time) reach
          --tokens_per_param (20, "compute-optimal-ish") under the --max_params cap; then fresh vs
          continuing the current model by a Chinchilla-style loss estimate (Hoffmann et al. 2022:
          E + A/N^0.34 + B/D^0.28) in which repeated data counts less (Muennighoff et al. 2023:
          effective tokens U(1 + R*(1 - exp(-R/R*))), R repetitions, R* = 15.4), since the corpus
          packed for the call holds ~19 M unique training tokens (session 6: what fits the device's
          64 MiB limit beside the working tree, pack_tokens.py), which a fresh 20 M model sees 20-30 times.
  train   train.py's pieces (Batches with its FIM pipeline, loss_fn, evaluate, TrainConfig, the
          AdamW groups and the warmup-stable-decay schedule) with the loader in worker processes,
          flash attention (scaled_dot_product_attention) when it matches the model's own attention,
          and torch.compile when its first steps measure faster than eager. The loop stops at
          --train_end seconds after the start whatever happens (default 470 s).
  save    final eval, then weights as fp16 safetensors parts (gpu_result.py) + log.jsonl +
          state.json + summary.json into OUT. Weights are also saved every --save_s seconds, so a
          kill still leaves a usable (not cooled) checkpoint.

Nothing is written outside OUT; the current model is read from --state (models/.../train_state).
"""
import argparse
import datetime as dt
import json
import math
import os
import signal
import sys
import time
from dataclasses import asdict

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import gpu_result  # noqa: E402
import train as T  # noqa: E402
from architectures import build_model, count_params  # noqa: E402
from gpt import GPTConfig, Block  # noqa: E402
from llama_gpt import LlamaBlock  # noqa: E402
from muon import make_optimisers  # noqa: E402

# (n_layer, n_head, n_embd), head_dim 64 (flash attention's sweet spot), smallest first
FRESH = [(4, 4, 256), (6, 5, 320), (6, 6, 384), (8, 6, 384), (8, 7, 448)]
TINY = [(1, 2, 32), (2, 2, 64)]  # --cpu: the end-to-end test of this script on a CPU
MAX_PARAMS = 25_000_000          # ~27 MB as dynamic int8 ONNX, still fast enough on 2 CPU cores
MUON_LR = 0.02                   # the published default; it won from scratch in compare_levers.py
# What a device call brings back from OUT: at most 8 files, 16 MiB each, 64 MiB together. Four are
# the run's log.jsonl, state.json, summary.json and train_gpu.out (each well under 1 MiB).
RETURN_FILES, RETURN_BYTES, OTHER_FILES = 8, 64 * 2**20, 4
MAX_WEIGHT_FILES = RETURN_FILES - OTHER_FILES
MAX_WEIGHT_BYTES = RETURN_BYTES - OTHER_FILES * 2**20


def stable_fits(model_bytes, stable_bytes):
    """Whether the stable-phase weights can come back beside the cooled ones (they are optional;
    the cooled weights always come back: MAX_PARAMS keeps them within the limits)."""
    files = gpu_result.n_parts(model_bytes) + gpu_result.n_parts(stable_bytes)
    return files <= MAX_WEIGHT_FILES and model_bytes + stable_bytes <= MAX_WEIGHT_BYTES
# Chinchilla fit (Hoffmann et al. 2022, approach 3) and data-repetition constant (Muennighoff et al. 2023)
CH_E, CH_A, CH_B, CH_ALPHA, CH_BETA, R_STAR = 1.69, 406.4, 410.7, 0.34, 0.28, 15.4


def name_of(c):
    return f"{c.arch}-L{c.n_layer}-d{c.n_embd}-h{c.n_head}"


def effective_tokens(D, U):
    """Muennighoff et al.: tokens seen D over U unique ones are worth this many fresh tokens."""
    if not U or D <= U:
        return D
    R = D / U - 1
    return U * (1 + R_STAR * (1 - math.exp(-R / R_STAR)))


def predicted_loss(N, D, U):
    return CH_E + CH_A / N ** CH_ALPHA + CH_B / max(effective_tokens(D, U), 1.0) ** CH_BETA


def choose(probe, remaining_s, unique_tokens, prior_tokens, tokens_per_param=20.0, max_params=MAX_PARAMS, mode="auto"):
    """Pick the run. probe: [{"name","kind": fresh|continue,"params","tok_s"}] (tok_s None = not measured).
    Returns (decision dict, chosen probe entry)."""
    for c in probe:
        if c.get("tok_s"):
            c["projected_tokens"] = int(c["tok_s"] * remaining_s)
            c["tokens_per_param"] = round(c["projected_tokens"] / c["params"], 2)
    fresh = [c for c in probe if c["kind"] == "fresh" and c.get("tok_s") and c["params"] <= max_params]
    cont = next((c for c in probe if c["kind"] == "continue" and c.get("tok_s")), None)
    pick = None
    if fresh:
        ok = [c for c in fresh if c["projected_tokens"] >= tokens_per_param * c["params"]]
        pick = max(ok, key=lambda c: c["params"]) if ok else max(fresh, key=lambda c: c["tokens_per_param"])
        pick["predicted_loss"] = round(predicted_loss(pick["params"], pick["projected_tokens"], unique_tokens), 4)
    if cont:
        cont["predicted_loss"] = round(predicted_loss(cont["params"], prior_tokens + cont["projected_tokens"],
                                                      unique_tokens), 4)
    if mode == "continue" and cont:
        chosen, why = cont, "forced by --mode continue"
    elif mode == "fresh" and pick:
        chosen, why = pick, "forced by --mode fresh"
    elif pick and (not cont or pick["predicted_loss"] <= cont["predicted_loss"]):
        chosen, why = pick, ("fresh: predicted loss %.3f <= continue's %s" %
                             (pick["predicted_loss"], cont["predicted_loss"] if cont else "n/a"))
    elif cont:
        chosen, why = cont, ("continue: predicted loss %.3f < fresh %s's %.3f" %
                             (cont["predicted_loss"], pick["name"], pick["predicted_loss"]) if pick else
                             "continue: no fresh size was measured")
    else:
        raise RuntimeError("the probe measured no model")
    return {"mode": chosen["kind"], "reason": why, "remaining_s": round(remaining_s, 1),
            "tokens_per_param_target": tokens_per_param, "max_params": max_params}, chosen


class SdpaBlock(Block):
    """Block whose attention without a KV cache is F.scaled_dot_product_attention(is_causal=True):
    the same function as Block's masked softmax (the -1e4 mask gives exp() == 0 in fp32), computed by
    a fused (flash) kernel. Same parameters, so the state_dict and the ONNX export are unchanged."""

    def forward(self, x, bias, past_k=None, past_v=None):
        if past_k is not None:
            return super().forward(x, bias, past_k, past_v)
        B, Tn, C = x.shape
        H, hd = self.c.n_head, self.c.head_dim
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q = q.view(B, Tn, H, hd).transpose(1, 2)
        k = k.view(B, Tn, H, hd).transpose(1, 2)
        v = v.view(B, Tn, H, hd).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).reshape(B, Tn, C)
        x = x + self.c_proj(y)
        x = x + self.c_fc_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class SdpaLlamaBlock(LlamaBlock):
    """LlamaBlock with the same fused attention without a KV cache (see SdpaBlock)."""

    def attend(self, q, k, v, bias, cached):
        if cached:
            return super().attend(q, k, v, bias, cached)
        # under bf16 autocast the rotation (fp32 tables) promotes q and k to fp32 while v stays bf16,
        # and the fused kernel wants one dtype
        return F.scaled_dot_product_attention(q.to(v.dtype), k.to(v.dtype), v, is_causal=True)


SDPA_CLASSES = {Block: SdpaBlock, LlamaBlock: SdpaLlamaBlock}


def use_sdpa(model):
    for b in model.h:
        b.__class__ = SDPA_CLASSES.get(type(b), type(b))
    return model


def sdpa_matches(device):
    """True if the Sdpa blocks give their own block's loss on this torch/device (checked in fp32 on
    a small model of each arch)."""
    if not hasattr(F, "scaled_dot_product_attention"):
        return False, "torch has no scaled_dot_product_attention"
    try:
        checks = []
        for arch in ("gpt2", "llama"):
            torch.manual_seed(0)
            m = build_model(GPTConfig(n_layer=2, n_head=2, n_embd=128, n_positions=64, arch=arch)).to(device)
            x = torch.randint(0, 8192, (2, 64), device=device)
            with torch.no_grad():
                a = T.loss_fn(m, x, x).item()
                b = T.loss_fn(use_sdpa(m), x, x).item()
            checks.append((arch, a, b))
        ok = all(abs(a - b) < 1e-3 for _, a, b in checks)
        return ok, "; ".join(f"{arch} loss {a:.5f} vs {b:.5f}" for arch, a, b in checks)
    except Exception as e:  # noqa: BLE001
        return False, f"{type(e).__name__}: {e}"


def make_opt(model, tc, device, optimizer="adamw", muon_lr=MUON_LR):
    """muon.make_optimisers (train.py's AdamW groups, in the same order so a stable.pt optimizer
    state loads into AdamW alone), AdamW fused on CUDA. Returns (optimisers, peak learning rates)."""
    if device == "cuda":
        try:
            return make_optimisers(model, tc, muon_lr, optimizer == "muon", fused=True)
        except (TypeError, RuntimeError):
            pass
    return make_optimisers(model, tc, muon_lr, optimizer == "muon")


class LossOf(torch.nn.Module):
    """model + train.py's loss as one module, so torch.compile fuses the head with the cross-entropy."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, y):
        return T.loss_fn(self.model, x, y)


class Stream(torch.utils.data.IterableDataset):
    """train.py's Batches (FIM pipeline included), one per loader worker with its own seed."""

    def __init__(self, data_dir, tc, C, seed, chunk):
        self.data_dir, self.tc, self.C, self.seed, self.chunk = data_dir, tc, C, seed, chunk

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info is not None else 0
        tok = bpe.Tokenizer(os.path.join(self.data_dir, "tokenizer", "tokenizer.json"))
        b = T.Batches(self.data_dir, "train", tok, self.tc, self.C, seed=self.seed * 1000 + wid)
        while True:
            yield b.get(self.chunk)


class Deadline(Exception):
    pass


def _alarm(signum, frame):
    raise Deadline()


def tload(path):
    """torch.load of a checkpoint written by train.py (plain dicts, tensors, numbers, tuples)."""
    try:
        return torch.load(path, map_location="cpu")
    except Exception:  # noqa: BLE001 (a torch whose weights_only default rejects something)
        return torch.load(path, map_location="cpu", weights_only=False)


def load_current(state_dir):
    """The current model as train.py would resume it: stable.pt (weights + AdamW moments) if there,
    else the cooled weights. Returns (checkpoint, state json, which)."""
    weights = os.path.join(state_dir, "model.fp16.pt")
    stable = os.path.join(state_dir, "stable.pt")
    sj = os.path.join(state_dir, "train_state.json")
    if not os.path.exists(weights):
        return None, None, None
    state = json.load(open(sj)) if os.path.exists(sj) else {"steps": 0, "tokens": 0, "sessions": [], "history": []}
    if os.path.exists(stable):
        ck = tload(stable)
        state["steps"], state["tokens"] = ck["steps"], ck["tokens"]
        return ck, state, "stable"
    return tload(weights), state, "cooled"


def build(cfg, sd, device, sdpa):
    model = build_model(cfg)
    if sd is not None:
        model.load_state_dict({k: v.float() for k, v in sd.items()})
    model.to(device).train()
    return use_sdpa(model) if sdpa else model


def bench(model, opts, B, C, device, amp, steps, warm=2):
    V = model.c.vocab_size
    x = torch.randint(0, V, (B, C), device=device)
    y = torch.randint(0, V, (B, C), device=device)
    for i in range(warm + steps):
        if i == warm:
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.time()
        with amp:
            loss = T.loss_fn(model, x, y)
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # as in training
        for opt in opts:
            opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return B * C * steps / (time.time() - t0)


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", required=True, help="unpacked pack: tokens/, tokenizer/")
    ap.add_argument("--state", default=os.path.join(T.MODEL_DIR, "train_state"), help="current model (read only)")
    ap.add_argument("--start", type=float, default=None, help="epoch seconds the run started (wrapper)")
    ap.add_argument("--train_end", type=float, default=470, help="training stops this many s after --start")
    ap.add_argument("--max_steps", type=int, default=0,
                    help="also stop after this many steps (0: none); the CPU test's run ends by steps, whatever the load")
    ap.add_argument("--probe_s", type=float, default=30)
    ap.add_argument("--save_s", type=float, default=120)
    ap.add_argument("--eval_s", type=float, default=120)
    ap.add_argument("--batch_size", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=16, help="samples per loader item")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--lr", type=float, default=1.5e-3, help="AdamW's peak learning rate")
    ap.add_argument("--arch", choices=["llama", "gpt2"], default="llama", help="block of a fresh model")
    ap.add_argument("--optimizer", choices=["muon", "adamw"], default="muon",
                    help="a fresh model's optimiser for its block matrices (the rest is always AdamW)")
    ap.add_argument("--muon_lr", type=float, default=MUON_LR)
    ap.add_argument("--cooldown", type=float, default=0.2, help="share of the training time decaying lr")
    ap.add_argument("--warmup_frac", type=float, default=0.02, help="fresh runs: warmup steps / projected steps")
    ap.add_argument("--eval_batches", type=int, default=16)
    ap.add_argument("--tokens_per_param", type=float, default=20.0)
    ap.add_argument("--max_params", type=int, default=MAX_PARAMS)
    ap.add_argument("--mode", choices=["auto", "fresh", "continue"], default="auto")
    ap.add_argument("--compile", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--compile_budget_s", type=float, default=120, help="give up compiling after this long")
    ap.add_argument("--cpu", action="store_true", help="test on a CPU: tiny sizes, short times, no baseline eval")
    return ap.parse_args(argv)


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def main(argv=None):
    a = parse_args(argv)
    start = a.start or time.time()
    t_main = time.time()
    os.makedirs(a.out, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() and not a.cpu else "cpu"
    if device == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1) if not a.cpu else 2)
    sizes = TINY if a.cpu else FRESH
    log = open(os.path.join(a.out, "log.jsonl"), "a")
    summary = {"complete": False, "start": dt.datetime.fromtimestamp(start, dt.timezone.utc).isoformat(timespec="seconds"),
               "device": device, "torch": torch.__version__, "timeline_s": {"python_start": round(t_main - start, 1)},
               "weights": {}}

    def now():
        return round(time.time() - start, 1)

    def record(ev, **kw):
        # train.py's fields (kind, time, step, tokens, ...) so evals can go into train_state.json's history
        rec = {"kind": ev, "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "t": now(), **kw}
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        return rec

    def write_summary():
        summary["timeline_s"]["summary_written"] = now()
        with open(os.path.join(a.out, "summary.json.tmp"), "w") as f:
            json.dump(summary, f, indent=1)
        os.replace(os.path.join(a.out, "summary.json.tmp"), os.path.join(a.out, "summary.json"))

    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(Deadline()))

    tok = bpe.Tokenizer(os.path.join(a.data, "tokenizer", "tokenizer.json"))
    tc = T.TrainConfig()
    tc.batch_size, tc.lr, tc.cooldown, tc.eval_batches = a.batch_size, a.lr, a.cooldown, a.eval_batches
    C = tc.n_positions
    unique = sum(os.path.getsize(os.path.join(a.data, "tokens", f"train_{l}.bin")) // 2 for l in tc.lang_mix)
    summary["unique_train_tokens"] = unique

    # loader workers first: fork before CUDA is initialised; they fill their queues during the probe
    workers = a.workers if a.workers is not None else (1 if a.cpu else max(1, min(14, (os.cpu_count() or 4) - 3)))
    chunk = min(a.chunk, a.batch_size)
    assert a.batch_size % chunk == 0, "batch_size must be a multiple of chunk"
    lkw = {"num_workers": workers, "pin_memory": device == "cuda"}
    if workers:
        lkw.update(prefetch_factor=8, persistent_workers=True)
    loader = torch.utils.data.DataLoader(Stream(a.data, tc, C, int(start) % 100000, chunk), batch_size=None, **lkw)
    batches = iter(loader)
    summary["loader"] = {"workers": workers, "chunk": chunk}

    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        summary["gpu"] = torch.cuda.get_device_name(0)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)
    sdpa, why = sdpa_matches(device) if device == "cuda" else (False, "cpu")
    summary["sdpa"] = {"used": sdpa, "check": why}
    record("setup", device=device, gpu=summary.get("gpu"), torch=torch.__version__, sdpa=sdpa, sdpa_check=why,
           workers=workers, unique_train_tokens=unique)

    cur_ck, cur_state, cur_kind = load_current(a.state)
    val = T.Batches(a.data, "val", tok, tc, C, seed=0)

    # ---- probe -------------------------------------------------------------------------------------
    t_probe = time.time()
    probe_end = t_probe + a.probe_s
    steps, warm = (1, 1) if a.cpu else (10, 2)
    cands = []  # smallest first, the current model last: what the probe's time leaves out goes unmeasured
    for L, H, D in (sizes if a.mode != "continue" else []):
        cfg = GPTConfig(vocab_size=len(tok), n_positions=C, n_layer=L, n_head=H, n_embd=D, arch=a.arch)
        cands.append({"name": name_of(cfg), "kind": "fresh", "config": cfg.to_dict(), "params": count_params(cfg),
                      "optimizer": a.optimizer})
    if cur_ck is not None and a.mode != "fresh":
        cfg = GPTConfig(**cur_ck["config"])
        cands.append({"name": name_of(cfg), "kind": "continue", "config": cfg.to_dict(), "params": count_params(cfg),
                      "optimizer": "adamw"})
    for c in cands:
        if time.time() > probe_end:
            c["tok_s"] = None
            c["skipped"] = "probe time used up"
            continue
        try:
            m = build(GPTConfig(**c["config"]), None, device, sdpa)
            opts, _ = make_opt(m, tc, device, c["optimizer"], a.muon_lr)
            c["tok_s"] = round(bench(m, opts, a.batch_size, C, device, amp, steps, warm))
            del opts
            del m
        except Exception as e:  # noqa: BLE001 (out of memory, ...): not a candidate
            c["tok_s"], c["error"] = None, f"{type(e).__name__}: {e}"[:300]
        if device == "cuda":
            torch.cuda.empty_cache()
        record("probe", **{("model_kind" if k == "kind" else k): v for k, v in c.items() if k != "config"})
    summary["timeline_s"]["probe_done"] = now()

    train_end = start + a.train_end
    # auto: on CUDA only; on: wherever torch has it (the unit test fakes it on a CPU)
    can_compile = hasattr(torch, "compile") and (a.compile == "on" or (a.compile == "auto" and device == "cuda"))
    # what the chosen run will have for training: minus a compile's warm-up, the evals and the saves
    overhead = (45 if can_compile else 0) + 10 + 2 * (a.train_end / a.eval_s)
    remaining = max(1.0, train_end - time.time() - overhead)
    prior = cur_state["tokens"] if cur_state else 0
    decision, chosen = choose(cands, remaining, unique, prior, a.tokens_per_param, a.max_params, a.mode)
    summary["probe"] = cands
    summary.update(mode=decision["mode"], decision=decision,
                   chosen={k: chosen.get(k) for k in ("name", "params", "config", "optimizer", "tok_s",
                                                       "projected_tokens", "tokens_per_param", "predicted_loss")})
    record("decision", **decision, chosen=chosen["name"], params=chosen["params"])
    write_summary()

    # ---- model, optimizer, state -----------------------------------------------------------------------
    cfg = GPTConfig(**chosen["config"])
    if decision["mode"] == "continue":
        model = build(cfg, cur_ck["model"], device, sdpa)
        opts, peaks = make_opt(model, tc, device)
        resumed_from = cur_kind
        if cur_kind == "stable":
            try:
                opts[0].load_state_dict(cur_ck["optimizer"])
            except Exception as e:  # noqa: BLE001: keep the stable weights, re-warm fresh moments
                opts, peaks = make_opt(model, tc, device)
                resumed_from = f"stable weights, new optimizer ({type(e).__name__})"
        state = cur_state
        warmup = 1 if resumed_from == "stable" else tc.resume_warmup_steps
    else:
        torch.manual_seed(int(start) % 100000)
        model = build(cfg, None, device, sdpa)
        opts, peaks = make_opt(model, tc, device, chosen["optimizer"], a.muon_lr)
        state = {"config": cfg.to_dict(), "steps": 0, "tokens": 0, "sessions": [], "history": []}
        proj_steps = (chosen.get("projected_tokens") or 0) / (a.batch_size * C)
        warmup = max(20, int(a.warmup_frac * proj_steps))
        resumed_from = "fresh"
    del cur_ck
    session = {"start": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "device": summary.get("gpu", device), "start_tokens": state["tokens"], "start_step": state["steps"],
               "train_config": asdict(tc), "resumed_from": resumed_from, "gpu_run": True}
    state["sessions"].append(session)
    summary["train"] = {"arch": cfg.arch, "optimizer": chosen["optimizer"], "peak_lrs": peaks,
                        "warmup_steps": warmup, "batch_size": a.batch_size, "lr": tc.lr, "min_lr": tc.min_lr,
                        "cooldown": tc.cooldown, "resumed_from": resumed_from}

    if device == "cuda" and not a.cpu and os.path.exists(os.path.join(a.state, "model.fp16.pt")):
        # the shipped (cooled) model on the same validation batches, for comparison
        try:
            base = tload(os.path.join(a.state, "model.fp16.pt"))
            bm = build(GPTConfig(**base["config"]), base["model"], device, sdpa)
            summary["baseline_val"] = T.evaluate(bm, val, tc, device, amp)
            summary["baseline_tokens"] = prior
            del bm, base
        except Exception as e:  # noqa: BLE001
            summary["baseline_val"] = f"{type(e).__name__}: {e}"[:300]

    def weights_sd():
        return {k: v.detach() for k, v in model.state_dict().items()}

    def save(final=False, stable_sd=None):
        meta = {"config": cfg.to_dict(), "steps": state["steps"], "tokens": state["tokens"],
                "cooled": final, "mode": decision["mode"]}
        blob = gpu_result.st_bytes(weights_sd(), meta)
        summary["weights"]["model"] = gpu_result.write_parts(a.out, "model.safetensors", blob)
        if stable_sd is not None:
            sblob = gpu_result.st_bytes(stable_sd, {**meta, "cooled": False, "stable": True})
            if stable_fits(len(blob), len(sblob)):
                summary["weights"]["stable"] = gpu_result.write_parts(a.out, "stable.safetensors", sblob)
            else:
                summary["weights"]["stable_skipped"] = (f"the device returns at most {RETURN_FILES} files and "
                                                        f"{RETURN_BYTES / 2**20:.0f} MiB in all")
        session.update(end=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                       steps=state["steps"] - session["start_step"], tokens=state["tokens"] - session["start_tokens"])
        with open(os.path.join(a.out, "state.json"), "w") as f:
            json.dump(state, f, indent=1)
        write_summary()

    # ---- train ---------------------------------------------------------------------------------------------
    step_fn = LossOf(model)
    comp = {"available": can_compile, "used": False}
    summary["compile"] = comp
    want_compile = can_compile
    eager_tok_s = chosen.get("tok_s")
    n_chunks = a.batch_size // chunk
    losses, t_train = [], time.time()
    budget = max(1.0, train_end - t_train)
    step0, tokens0 = state["steps"], state["tokens"]
    wait_s, last_eval, last_save = 0.0, time.time(), time.time()
    stable_sd, measure = None, None
    log_every = 20 if a.cpu else 50
    summary["timeline_s"]["train_start"] = now()
    record("train_start", mode=decision["mode"], model=chosen["name"], params=chosen["params"], warmup=warmup,
           budget_s=round(budget, 1))

    def next_batch():
        nonlocal wait_s
        t = time.time()
        parts = [next(batches) for _ in range(n_chunks)]
        x = torch.cat([p[0] for p in parts]) if n_chunks > 1 else parts[0][0]
        y = torch.cat([p[1] for p in parts]) if n_chunks > 1 else parts[0][1]
        wait_s += time.time() - t
        return x.to(device, non_blocking=True), y.to(device, non_blocking=True)

    def one_step(fn, lr_mult, batch=None):
        for opt, peak in zip(opts, peaks):
            for g in opt.param_groups:
                g["lr"] = peak * lr_mult
        x, y = batch if batch is not None else next_batch()
        with amp:
            loss = fn(x, y)
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        for opt in opts:
            opt.step()
        state["steps"] += 1
        state["tokens"] += x.numel()
        losses.append(loss.detach())

    min_mult = tc.min_lr / tc.lr

    def lr_mult_at(frac):
        """The share of each optimiser's peak rate: warmup, stable, then a cooldown to min_lr/lr."""
        s = state["steps"] - step0
        m = min(1.0, (s + 1) / warmup)
        if frac > 1.0 - tc.cooldown:
            m = min_mult + (m - min_mult) * max(0.0, 1.0 - frac) / tc.cooldown
        return m

    try:
        if want_compile:
            t = time.time()
            try:
                cfn = torch.compile(step_fn)
                # the batch first: an alarm inside the loader would leave it broken for the eager steps
                batch = next_batch()
                signal.signal(signal.SIGALRM, _alarm)
                signal.setitimer(signal.ITIMER_REAL, min(a.compile_budget_s, max(1.0, (train_end - t) * 0.3)))
                try:
                    one_step(cfn, lr_mult_at(0.0), batch)
                    sync(device)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                comp.update(used=True, compile_s=round(time.time() - t, 1))
                step_fn_used = cfn
                measure = {"from": state["steps"] + 5, "to": state["steps"] + 35}
            except Exception as e:  # noqa: BLE001 (Deadline included): train eagerly
                comp.update(used=False, error=f"{type(e).__name__}: {e}"[:500], compile_s=round(time.time() - t, 1))
                step_fn_used = step_fn
            record("compile", **comp)
        else:
            step_fn_used = step_fn
        while True:
            tnow = time.time()
            done_steps = state["steps"] - step0
            if tnow >= train_end or (a.max_steps and done_steps >= a.max_steps):
                break
            # the share of the run behind us, by the clock or, with --max_steps, by steps if further
            frac = max((tnow - t_train) / budget, done_steps / a.max_steps if a.max_steps else 0.0)
            if frac > 1.0 - tc.cooldown and stable_sd is None:
                stable_sd = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
                record("stable_saved", step=state["steps"], tokens=state["tokens"])
            lr_mult = lr_mult_at(frac)
            if measure and state["steps"] in (measure["from"], measure["to"]):
                sync(device)
                if state["steps"] == measure["from"]:
                    measure.update(t0=time.time(), w0=wait_s)
                else:
                    dt_s = time.time() - measure["t0"] - (wait_s - measure["w0"])
                    comp["compiled_tok_s"] = round((measure["to"] - measure["from"]) * a.batch_size * C / max(dt_s, 1e-6))
                    comp["eager_tok_s"] = eager_tok_s
                    if a.compile == "auto" and eager_tok_s and comp["compiled_tok_s"] < 1.02 * eager_tok_s:
                        step_fn_used, comp["used"] = step_fn, False
                        comp["switched_to_eager_at_step"] = state["steps"]
                    record("compile_measured", **comp)
                    measure = None
            one_step(step_fn_used, lr_mult)
            if state["steps"] % log_every == 0:
                el = time.time() - t_train
                record("train", step=state["steps"], tokens=state["tokens"], lr=round(tc.lr * lr_mult, 6),
                       loss=round(torch.stack(losses[-log_every:]).float().mean().item(), 4),
                       tok_s=round((state["tokens"] - tokens0) / el), data_wait_s=round(wait_s, 1))
                losses[:] = losses[-200:]
            if time.time() - last_eval > a.eval_s and time.time() + 15 < train_end:
                v = T.evaluate(model, val, tc, device, amp)
                tl = round(torch.stack(losses[-50:]).float().mean().item(), 4)
                state["history"].append(record("eval", step=state["steps"], tokens=state["tokens"], train_loss=tl, val=v))
                last_eval = time.time()
            if time.time() - last_save > a.save_s and time.time() + 15 < train_end:
                save()
                last_save = time.time()
    except Deadline:
        record("interrupted", step=state["steps"])
    if stable_sd is None:
        # the run ended before its cooldown began (a slow machine, an interrupt): its last weights
        # never saw a decayed learning rate, so they are the stable-phase weights to resume from
        stable_sd = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
        record("stable_saved", step=state["steps"], tokens=state["tokens"], at="end")
    summary["timeline_s"]["train_end"] = now()
    el = max(1e-6, time.time() - t_train)
    n_tok = state["tokens"] - tokens0
    tl = round(torch.stack(losses[-50:]).float().mean().item(), 4) if losses else None
    summary["train"].update(steps=state["steps"] - step0, tokens=n_tok, seconds=round(el, 1),
                            tok_s=round(n_tok / el), data_wait_s=round(wait_s, 1), train_loss=tl,
                            total_tokens=state["tokens"], tokens_per_param=round(state["tokens"] / chosen["params"], 2),
                            epochs_over_unique=round(n_tok / unique, 2) if unique else None)
    if device == "cuda":
        summary["train"]["max_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    v = T.evaluate(model, val, tc, device, amp)
    state["history"].append(record("eval", step=state["steps"], tokens=state["tokens"], train_loss=tl, val=v))
    summary["final_val"] = v
    summary["complete"] = True
    summary["after"] = ("here: /usr/bin/python3 recipe/gpu_result.py RESULT_DIR --dest recipe/runs/gpu/train_state; "
                        "then export_onnx.py --weights recipe/runs/gpu/train_state/model.fp16.pt --out /tmp/wisp-gpu-model, "
                        "quantize_onnx.py, check_model.mjs, eval")
    save(final=True, stable_sd=stable_sd)
    record("done", **summary["train"], final_val=v, weights={k: w["files"] for k, w in summary["weights"].items()
                                                            if isinstance(w, dict)})
    log.close()


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # the loader's workers stream forever: do not wait for their shutdown
