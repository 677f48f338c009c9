"""Step 4: train (or keep training) the completion model with a fill-in-the-middle objective.

Training is meant to happen in many short sessions (a ~2 h CPU session now, a GPU later), so the
state that matters lives in git next to the shipped model:
  models/wisp-code-small/train_state/model.fp16.pt    weights (fp16) + model config
  models/wisp-code-small/train_state/train_state.json tokens/steps so far, sessions, loss history
  models/wisp-code-small/train_state/stable.pt         stable-phase weights + AdamW moments (bf16)
The shipped weights are the cooled ones; a session resumes from stable.pt, the weights and moments
from just before the previous session's cooldown, so the run of sessions is one uninterrupted
stable phase (warmup-stable-decay) and no session pays for a re-warm from cooled weights. Moments
are stored as bf16, not fp16: the second moments (squared gradients, ~1e-10) underflow fp16. A
state without stable.pt (older sessions) resumes from the cooled weights with a short warmup.

LR schedule: linear warmup, then constant, then a linear cooldown over the last `cooldown` fraction
of this session's time box. Constant-then-cooldown ("warmup-stable-decay") needs no total step count,
which a cosine schedule would, and a run of sessions behaves like one long stable phase; the
cooldown makes each session's final weights good enough to ship.

FIM: with probability fim_rate a sample is rewritten in PSM order,
  <fim_prefix> prefix <fim_suffix> suffix <fim_middle> middle <|endoftext|>
or, for spm_rate of them, in SPM order (Bavarian et al. 2022, "SPM mode, variant 2"),
  <fim_prefix> <fim_suffix> suffix <fim_middle> prefix middle <|endoftext|>
which the extension prefers: the prefix comes last, so a keystroke appends to the prompt and the
KV cache keeps everything before it (in PSM order every keystroke re-feeds the whole suffix).
splitting the text at character positions (not token boundaries) so that, as in the editor,
the prefix can end in the middle of a word. Half of the FIM samples use a middle that runs from a
random point in a line to the end of that line (the editor's and the single-line eval's case).

usage (CPU, time-boxed):
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread nice -n 19 /usr/bin/python3 \
      recipe/train.py --until 05:25 --run runs/session1
  throughput only: ... train.py --bench_steps 6 --n_layer 4 --n_embd 192 --fresh
  both cores: ... train.py --until 05:25 --run runs/session1 --procs 2 --threads 1 (data_parallel.py)
"""
import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field, asdict, fields

# On a shared CPU, OpenMP threads that spin while waiting for a descheduled sibling burn the little
# CPU a nice-19 job gets: passive waiting measured 253 vs 147 tokens/s with 2 threads under load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import data_parallel  # noqa: E402
from architectures import build_model  # noqa: E402
from gpt import GPTConfig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_DIR = os.path.join(os.path.dirname(HERE), "models", "wisp-code-small")
IGNORE = -100


@dataclass
class TrainConfig:
    # model (only used when starting fresh; a resumed model keeps its own config)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 192
    n_positions: int = 512
    # optimisation
    batch_size: int = 8
    lr: float = 1.5e-3
    min_lr: float = 1.5e-4
    warmup_steps: int = 50       # first session; resumed sessions use resume_warmup_steps
    resume_warmup_steps: int = 30
    cooldown: float = 0.15       # fraction of this session's time spent decaying lr -> min_lr
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    # data
    fim_rate: float = 0.5
    fim_line_rate: float = 0.5   # share of FIM samples whose middle ends at the end of a line
    spm_rate: float = 0.5        # share of FIM samples in SPM order (see the module docstring)
    # TS/JS are what most Wisp users write: 70% of batches since the corpus grew (session 3)
    lang_mix: dict = field(default_factory=lambda: {"py": 0.3, "ts": 0.4, "js": 0.3})
    # bookkeeping
    save_minutes: float = 5.0    # weights + json (cheap): an export or a crash loses at most this much
    eval_minutes: float = 15.0   # validation losses into the history (costs ~1 min on a busy CPU)
    eval_batches: int = 4
    seed: int = 0


def parse_args():
    ap = argparse.ArgumentParser()
    for f in fields(TrainConfig):
        if f.name != "lang_mix":
            ap.add_argument(f"--{f.name}", type=type(f.default), default=None)
    ap.add_argument("--lang_mix", help="share of batches per language, e.g. py=0.3,ts=0.4,js=0.3")
    ap.add_argument("--until", help="stop at this UTC time today, HH:MM (or an ISO datetime)")
    ap.add_argument("--minutes", type=float, help="stop after this many minutes")
    ap.add_argument("--run", default=os.path.join(HERE, "runs", "default"), help="log folder")
    ap.add_argument("--state", default=os.path.join(MODEL_DIR, "train_state"), help="weights + json folder")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--fresh", action="store_true", help="ignore saved weights, start from random init")
    ap.add_argument("--bench_steps", type=int, default=0, help="only measure throughput over N steps")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads per process (this machine has 2 cores)")
    ap.add_argument("--bf16", action="store_true", help="CPU: bf16 autocast for the training step")
    ap.add_argument("--procs", type=int, default=1,
                    help="data-parallel processes, each with --threads threads and batch_size/procs samples "
                         "(data_parallel.py); --procs 2 --threads 1 uses both of this machine's cores")
    a = ap.parse_args()
    tc = TrainConfig()
    if a.lang_mix:
        tc.lang_mix = {k: float(v) for k, v in (kv.split("=") for kv in a.lang_mix.split(","))}
    for f in fields(TrainConfig):
        v = getattr(a, f.name, None)
        if v is not None:
            setattr(tc, f.name, v)
    return a, tc


def deadline(a):
    now = dt.datetime.now(dt.timezone.utc)
    if a.minutes:
        return now + dt.timedelta(minutes=a.minutes)
    if a.until:
        if "T" in a.until:
            return dt.datetime.fromisoformat(a.until.replace("Z", "+00:00"))
        h, m = map(int, a.until.split(":"))
        end = now.replace(hour=h, minute=m, second=0, microsecond=0)
        # a session that starts before midnight and ends after it names tomorrow's time
        return end if end > now else end + dt.timedelta(days=1)
    return now + dt.timedelta(hours=2)


class Batches:
    """Random windows from the per-language token files, optionally rewritten as FIM samples."""

    def __init__(self, data_dir, split, tok, tc, n_positions, seed):
        self.tok, self.tc, self.C = tok, tc, n_positions
        self.rng = np.random.default_rng(seed)
        self.arr = {}
        for lang in tc.lang_mix:
            p = os.path.join(data_dir, "tokens", f"{split}_{lang}.bin")
            self.arr[lang] = np.memmap(p, dtype=np.uint16, mode="r")
        self.langs = list(tc.lang_mix)
        w = np.array([tc.lang_mix[k] for k in self.langs], dtype=np.float64)
        self.p = w / w.sum()

    def window(self, lang, n):
        arr = self.arr[lang]
        s = int(self.rng.integers(0, len(arr) - n))
        return arr[s:s + n].astype(np.int64)

    def plain(self, lang):
        w = self.window(lang, self.C + 1)
        return w[:-1], w[1:].copy()

    def fim(self, lang, middle_only=False):
        tok, C, rng = self.tok, self.C, self.rng
        w = self.window(lang, int(C * 0.9)).tolist()
        # keep one document: the longest piece between <|endoftext|> tokens
        pieces, cur = [], []
        for t in w:
            if t == tok.eot:
                pieces.append(cur)
                cur = []
            else:
                cur.append(t)
        pieces.append(cur)
        text = tok.decode(max(pieces, key=len))
        n = len(text)
        if rng.random() < self.tc.fim_line_rate:
            i = int(rng.integers(0, n + 1))
            j = text.find("\n", i)
            j = n if j < 0 else j + 1
        else:
            i, j = sorted(int(x) for x in rng.integers(0, n + 1, 2))
        pre, mid, suf = text[:i], text[i:j], text[j:]
        if rng.random() < self.tc.spm_rate:
            head = [tok.fim_prefix, tok.fim_suffix] + tok.encode_ordinary(suf) + [tok.fim_middle] + tok.encode_ordinary(pre)
        else:
            head = [tok.fim_prefix] + tok.encode_ordinary(pre) + [tok.fim_suffix] + tok.encode_ordinary(suf) + [tok.fim_middle]
        tail = tok.encode_ordinary(mid) + [tok.eot]
        seq = (head + tail)[:C + 1]
        x = np.full(C, tok.eot, dtype=np.int64)
        y = np.full(C, IGNORE, dtype=np.int64)
        x[:len(seq) - 1] = seq[:-1]
        y[:len(seq) - 1] = seq[1:]
        if middle_only:
            y[:min(len(head) - 1, C)] = IGNORE  # score only the middle and its <|endoftext|>
        return x, y

    def get(self, bs, lang=None, fim_rate=None, middle_only=False):
        fim_rate = self.tc.fim_rate if fim_rate is None else fim_rate
        xs, ys = [], []
        for _ in range(bs):
            l = lang or self.langs[int(self.rng.choice(len(self.langs), p=self.p))]
            x, y = self.fim(l, middle_only) if self.rng.random() < fim_rate else self.plain(l)
            xs.append(x)
            ys.append(y)
        return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


ADAMW_ARGS = dict(betas=(0.9, 0.95), eps=1e-8)


def adamw_groups(params, tc):
    """Weight decay on matrices and embeddings only; this order is what a saved optimizer state expects."""
    params = list(params)
    return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": tc.weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]


def loss_fn(model, x, y):
    logits, _ = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), y.reshape(-1), ignore_index=IGNORE)


@torch.no_grad()
def evaluate(model, val, tc, device, amp):
    """Fixed validation batches (same seed every time): plain next-token loss per language, and
    loss on FIM middles only (what completion quality depends on)."""
    model.eval()
    val.rng = np.random.default_rng(1234)
    out = {}
    for lang in tc.lang_mix:
        tot = 0.0
        for _ in range(tc.eval_batches):
            x, y = val.get(8, lang=lang, fim_rate=0.0)
            with amp:
                tot += loss_fn(model, x.to(device), y.to(device)).item()
        out[lang] = round(tot / tc.eval_batches, 4)
    tot = 0.0
    for _ in range(tc.eval_batches):
        x, y = val.get(8, fim_rate=1.0, middle_only=True)
        with amp:
            tot += loss_fn(model, x.to(device), y.to(device)).item()
    out["fim_middle"] = round(tot / tc.eval_batches, 4)
    model.train()
    return out


def main():
    a, tc = parse_args()
    if a.procs > 1:
        assert not torch.cuda.is_available(), "--procs is for CPU training"
        assert tc.batch_size % a.procs == 0, "batch_size must be a multiple of --procs"
        assert not a.bench_steps, "--bench_steps measures one process"
    sys.exit(data_parallel.run(a.procs, lambda group: run_training(a, tc, group)))


def run_training(a, tc, group):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(a.threads)
    fp32 = torch.autocast("cpu", enabled=False)
    if device == "cuda":
        amp = eval_amp = torch.autocast("cuda", dtype=torch.bfloat16)
    else:
        # --bf16: the training step's matmuls in bf16 (avx512_bf16 here); evaluation stays fp32 so
        # the history's validation losses stay comparable across sessions
        amp, eval_amp = (torch.autocast("cpu", dtype=torch.bfloat16) if a.bf16 else fp32), fp32
    torch.manual_seed(tc.seed + int(time.time()) % 100000)
    tok = bpe.Tokenizer(os.path.join(a.data, "tokenizer", "tokenizer.json"))

    weights = os.path.join(a.state, "model.fp16.pt")
    stable = os.path.join(a.state, "stable.pt")
    state_json = os.path.join(a.state, "train_state.json")
    resumed = os.path.exists(weights) and not a.fresh and not a.bench_steps
    stable_ck = torch.load(stable, map_location="cpu") if resumed and os.path.exists(stable) else None
    if resumed:
        ck = stable_ck or torch.load(weights, map_location="cpu")
        cfg = GPTConfig(**ck["config"])
        model = build_model(cfg)
        model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
        state = json.load(open(state_json))
        if stable_ck:
            # the cooldown's steps are a side branch: the lineage goes on from the stable weights
            state["steps"], state["tokens"] = stable_ck["steps"], stable_ck["tokens"]
    else:
        cfg = GPTConfig(vocab_size=len(tok), n_positions=tc.n_positions, n_layer=tc.n_layer,
                        n_head=tc.n_head, n_embd=tc.n_embd)
        model = build_model(cfg)
        state = {"config": cfg.to_dict(), "steps": 0, "tokens": 0, "sessions": [], "history": []}
    assert cfg.vocab_size == len(tok)
    model.to(device).train()
    group.broadcast_params(model)
    C = cfg.n_positions
    batch = tc.batch_size // group.world  # per process: the step's batch stays tc.batch_size
    train = Batches(a.data, "train", tok, tc, C, seed=int(time.time()) + 1000 * group.rank)
    val = Batches(a.data, "val", tok, tc, C, seed=0)

    opt = torch.optim.AdamW(adamw_groups(model.parameters(), tc), lr=tc.lr, **ADAMW_ARGS)
    if stable_ck:
        opt.load_state_dict(stable_ck["optimizer"])  # casts the bf16 moments back to the params' dtype
    n_params = model.n_params()
    if group.leader:
        print(f"{device} | {cfg} | {n_params/1e6:.2f}M params ({(n_params - cfg.vocab_size*cfg.n_embd)/1e6:.2f}M "
              f"non-embedding) | resumed={resumed} at {state['tokens']:,} tokens | {group.world} process(es) x "
              f"{a.threads} thread(s), {batch} samples each", flush=True)

    if a.bench_steps:
        x, y = train.get(tc.batch_size)
        for i in range(a.bench_steps + 1):
            if i == 1:
                t0 = time.time()  # first step is warm-up (allocations)
            with amp:
                loss = loss_fn(model, x.to(device), y.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        dt_s = (time.time() - t0) / a.bench_steps
        print(json.dumps({"bench": f"L{cfg.n_layer}-d{cfg.n_embd}-h{cfg.n_head}-ctx{C}", "params": n_params,
                          "batch": tc.batch_size, "s_per_step": round(dt_s, 2),
                          "tokens_per_s": round(tc.batch_size * C / dt_s)}), flush=True)
        return

    os.makedirs(a.run, exist_ok=True)
    os.makedirs(a.state, exist_ok=True)
    log = open(os.path.join(a.run, "log.jsonl"), "a") if group.leader else None
    end = deadline(a)
    t_start = time.time()
    budget = max(1.0, (end - dt.datetime.now(dt.timezone.utc)).total_seconds())
    session = {"start": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "device": device,
               "start_tokens": state["tokens"], "start_step": state["steps"], "train_config": asdict(tc),
               "procs": group.world, "threads": a.threads, "cpu_bf16": device == "cpu" and a.bf16}
    state["sessions"].append(session)
    session["resumed_from"] = "stable" if stable_ck else ("cooled" if resumed else "fresh")
    warmup = 1 if stable_ck else (tc.resume_warmup_steps if resumed else tc.warmup_steps)

    def record(kind, **kw):
        if not group.leader:
            return None
        rec = {"kind": kind, "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "step": state["steps"], "tokens": state["tokens"], **kw}
        print(json.dumps(rec), flush=True)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        return rec

    def save(train_loss, with_eval=True):
        if not group.leader:
            return
        if with_eval:
            v = evaluate(model, val, tc, device, eval_amp)
            state["history"].append(record("eval", train_loss=train_loss, val=v))
        session.update(end=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                       steps=state["steps"] - session["start_step"], tokens=state["tokens"] - session["start_tokens"])
        sd = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
        tmp = weights + ".tmp"
        torch.save({"config": cfg.to_dict(), "model": sd}, tmp)
        os.replace(tmp, weights)  # atomic: an export running meanwhile never sees half a file
        with open(state_json + ".tmp", "w") as f:
            json.dump(state, f, indent=1)
        os.replace(state_json + ".tmp", state_json)

    def save_stable():
        if not group.leader:
            return
        osd = opt.state_dict()
        osd["state"] = {i: {k: (v.to("cpu", torch.bfloat16) if k != "step" else v) for k, v in st.items()}
                        for i, st in osd["state"].items()}
        sd = {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()}
        torch.save({"config": cfg.to_dict(), "model": sd, "optimizer": osd,
                    "steps": state["steps"], "tokens": state["tokens"]}, stable + ".tmp")
        os.replace(stable + ".tmp", stable)

    losses, step0, tokens0 = [], state["steps"], state["tokens"]
    last_save = last_eval = time.time()
    stable_saved = False
    while True:
        # rank 0's clock decides for all: the ranks must take the same steps at the same rates
        frac, = group.agree((time.time() - t_start) / budget)
        if frac >= 1.0:
            break
        s = state["steps"] - step0
        lr = tc.lr * min(1.0, (s + 1) / warmup)
        in_cooldown = frac > 1.0 - tc.cooldown
        if in_cooldown and not stable_saved:
            save_stable()
            record("stable_saved")
            stable_saved = True
        if in_cooldown:
            lr = tc.min_lr + (lr - tc.min_lr) * (1.0 - frac) / tc.cooldown
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = train.get(batch)
        with amp:
            loss = loss_fn(model, x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        loss = group.average_grads(model, loss)
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        opt.step()
        state["steps"] += 1
        state["tokens"] += x.numel() * group.world
        losses.append(loss.item())
        if state["steps"] % 20 == 0:
            el = time.time() - t_start
            record("train", lr=round(lr, 6), loss=round(float(np.mean(losses[-20:])), 4),
                   tok_s=round((state["tokens"] - tokens0) / el))
        due_eval, due_save = group.agree(float(time.time() - last_eval > tc.eval_minutes * 60),
                                         float(time.time() - last_save > tc.save_minutes * 60))
        if due_eval:
            save(round(float(np.mean(losses[-50:])), 4))
            last_eval = last_save = time.time()
        elif due_save:
            save(None, with_eval=False)
            if not in_cooldown:
                save_stable()  # a restart after a kill resumes without a re-warm
            if group.world > 1:
                record("ranks_in_sync", value=group.in_sync(model))
            last_save = time.time()
    synced = group.in_sync(model)
    save(round(float(np.mean(losses[-50:])), 4) if losses else None)
    record("done", minutes=round((time.time() - t_start) / 60, 1), procs=group.world, ranks_in_sync=synced)


if __name__ == "__main__":
    main()
