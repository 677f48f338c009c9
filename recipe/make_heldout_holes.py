"""Single-line infilling holes in TypeScript and JavaScript (or Python), cut from the corpus's validation split.

The validation split is held out by file (build_corpus.py), so no file a hole comes from was ever
trained on. Each hole is one whole line of code (not blank, not only a comment or a bracket), in
HumanEval-Infilling's record layout (prompt, suffix, canonical_solution = the line and its newline),
so `npm run eval` scores it like the HumanEval set; there is no test to run, so pass@1 is 0 by
construction and only exact match and edit similarity mean anything.

usage: /usr/bin/python3 recipe/make_heldout_holes.py [--per-lang 150] [--out test/eval/data/heldout-ts-js.jsonl.gz]
       /usr/bin/python3 recipe/make_heldout_holes.py --langs py --per-lang 300 --out test/eval/data/heldout-py.jsonl.gz
"""
import argparse
import gzip
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TRIVIAL = re.compile(r"^\s*([})\]>;,]*|//.*|/\*.*|\*.*|\*/)\s*$")
# Python: brackets, comments, docstring quotes alone
TRIVIAL_PY = re.compile(r"^\s*([})\]:,]*|#.*|[rbuf]?(\"\"\"|\'\'\').*)\s*$")


def inside_strings(lines):
    """Python: the lines inside (or opening or closing) a triple-quoted string, docstrings mostly: prose, not code."""
    inside, open_quote = set(), None
    for i, line in enumerate(lines):
        if open_quote:
            inside.add(i)
        for m in re.finditer(r'"""|\'\'\'', line):
            if open_quote is None:
                open_quote = m.group()
                inside.add(i)
            elif m.group() == open_quote:
                open_quote = None
    return inside


def holes_of(record, rng, per_file):
    lines = record["text"].split("\n")
    python = record["lang"] == "py"
    trivial = TRIVIAL_PY if python else TRIVIAL
    prose = inside_strings(lines) if python else set()
    candidates = [i for i, line in enumerate(lines)
                  if 8 <= len(line.strip()) <= 100 and not trivial.match(line) and i not in prose]
    for i in rng.sample(candidates, min(per_file, len(candidates))):
        prompt = "\n".join(lines[:i]) + ("\n" if i else "")
        yield {
            "task_id": f"heldout/{record['lang']}/{record['path']}/L{i}",
            "prompt": prompt[-4000:],
            "suffix": "\n".join(lines[i + 1:])[:2000],
            "canonical_solution": lines[i] + "\n",
            "test": "",
            "entry_point": "",
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus", "val.jsonl.gz"))
    ap.add_argument("--per-lang", type=int, default=150)
    ap.add_argument("--per-file", type=int, default=3)
    ap.add_argument("--langs", default="ts,js", help="comma-separated corpus languages (ts, js, py)")
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "eval", "data", "heldout-ts-js.jsonl.gz"))
    a = ap.parse_args()
    rng = random.Random(0)
    records = [json.loads(line) for line in gzip.open(a.corpus, "rt")]
    out = []
    for lang in a.langs.split(","):
        files = sorted((r for r in records if r["lang"] == lang and not r["path"].endswith(".d.ts")), key=lambda r: r["path"])
        rng.shuffle(files)
        holes = [h for r in files for h in holes_of(r, rng, a.per_file)]
        out += holes[:a.per_lang]
        print(f"{lang}: {len(files)} files, {min(len(holes), a.per_lang)} holes")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with gzip.open(a.out, "wt") as f:
        for h in out:
            f.write(json.dumps(h) + "\n")
    print(f"{len(out)} holes -> {a.out}")


if __name__ == "__main__":
    main()
