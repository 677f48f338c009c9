"""Build the tiny random-weight model the engine's tests load: test/fixtures/tiny-gpt/.

Deterministic: a 512-token byte-level BPE trained on the first ~1 MB of the Python standard
library (sorted file order), and a 2-layer GPT with seeded random weights, exported exactly like
the real model (same ONNX I/O, same json files), plus reference.json with expected outputs.
The weights are random, so its completions are gibberish; it exists to exercise the plumbing
(tokenizer, FIM ids, KV cache, n_positions limits) fast.

usage: /usr/bin/python3 recipe/make_fixture.py [--out test/fixtures/tiny-gpt]
"""
import argparse
import json
import os
import sys
import sysconfig

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402
from export_onnx import write_model_folder, kv_consistency  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = GPTConfig(vocab_size=512, n_positions=256, n_layer=2, n_head=4, n_embd=64,
                   init_std=0.08)  # > 0.02 so random logits differ enough to give stable argmaxes
PROMPT = "def add(a, b):\n    return a + b\n\n\nclass Stack:\n    def push(self, item):\n        "
FIM = ("def area(r):\n    ", "\n    return a\n")  # prefix, suffix


def stdlib_sample(max_chars=1_000_000):
    root = sysconfig.get_paths()["stdlib"]
    files = sorted(f for f in os.listdir(root) if f.endswith(".py"))
    out, n = [], 0
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            out.append(fh.read())
        n += len(out[-1])
        if n >= max_chars:
            break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures", "tiny-gpt"))
    a = ap.parse_args()

    merges = bpe.train(stdlib_sample(), CONFIG.vocab_size)
    bpe.save(a.out, merges, CONFIG.n_positions)
    tok = bpe.Tokenizer(os.path.join(a.out, "tokenizer.json"))
    assert len(tok) == CONFIG.vocab_size

    torch.manual_seed(1234)
    model = GPT(CONFIG).eval()
    write_model_folder(model, a.out, a.out)
    print(f"kv-cache vs full forward (torch): max |diff| = {kv_consistency(model):.2e}")

    # reference outputs so tests can check the ONNX runtime path against torch
    ids = tok.encode(PROMPT)
    greedy = []
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]))
        last = logits[0, -1]
        seq = list(ids)
        for _ in range(8):
            nxt = int(model(torch.tensor([seq]))[0][0, -1].argmax())
            greedy.append(nxt)
            seq.append(nxt)
    top = torch.topk(last, 5)
    fim_ids = [tok.fim_prefix] + tok.encode(FIM[0]) + [tok.fim_suffix] + tok.encode(FIM[1]) + [tok.fim_middle]
    ref = {
        "prompt": PROMPT,
        "prompt_ids": ids,
        "last_logits_top5": {"ids": top.indices.tolist(), "values": [round(v, 5) for v in top.values.tolist()]},
        "last_logits_first8": [round(v, 5) for v in last[:8].tolist()],
        "greedy_next_8": greedy,
        "fim_prefix": FIM[0],
        "fim_suffix": FIM[1],
        "fim_prompt_ids": fim_ids,
        "special_ids": {s: tok.special[s] for s in bpe.SPECIALS},
    }
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump(ref, f)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(a.out) for f in fs)
    print(f"wrote {a.out}: {model.n_params()} params, {total/1e3:.0f} KB total; prompt {len(ids)} tokens, "
          f"greedy {greedy}")


if __name__ == "__main__":
    main()
