"""Refresh the generated parts of models/wisp-code-small/MODEL_CARD.md from train_state.json:
the training-progress line and the loss table between the <!-- progress --> / <!-- losses --> markers.
usage: /usr/bin/python3 recipe/update_model_card.py
"""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(os.path.dirname(HERE), "models", "wisp-code-small")


def main():
    state = json.load(open(os.path.join(MODEL, "train_state", "train_state.json")))
    hist = state["history"]
    rows = ["| session | time (UTC) | steps | tokens | train loss | val py | val ts | val js | val FIM middle |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    # by time, not step: a session resumed from the stable weights starts at a step below the
    # previous session's last (cooled) row
    starts = [s["start"] for s in state["sessions"]]
    for h in hist:
        sess = max(1, sum(1 for s in starts if s < h["time"]))
        v = h["val"]
        rows.append(f"| {sess} | {h['time'][:16].replace('T', ' ')} | {h['step']:,} | {h['tokens']/1e6:.2f} M | "
                    f"{h['train_loss']} | {v['py']} | {v['ts']} | {v['js']} | {v['fim_middle']} |")
    c = state["config"]
    n_params = (c["vocab_size"] + c["n_positions"]) * c["n_embd"] + c["n_layer"] * (12 * c["n_embd"] ** 2 + 13 * c["n_embd"]) + 2 * c["n_embd"]
    progress = (f"{state['tokens']:,} tokens ({state['tokens']/1e6:.1f} M) in {state['steps']:,} steps over "
                f"{len(state['sessions'])} session(s); {n_params/1e6:.2f} M parameters")
    path = os.path.join(MODEL, "MODEL_CARD.md")
    card = open(path, encoding="utf-8").read()
    card = re.sub(r"(<!-- progress -->\n).*?(\n<!-- /progress -->)", lambda m: m.group(1) + progress + m.group(2), card, flags=re.S)
    card = re.sub(r"(<!-- losses -->\n).*?(\n<!-- /losses -->)", lambda m: m.group(1) + "\n".join(rows) + m.group(2), card, flags=re.S)
    open(path, "w", encoding="utf-8").write(card)
    print(progress)


if __name__ == "__main__":
    main()
