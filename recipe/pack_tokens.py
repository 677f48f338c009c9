"""Pack the encoded corpus for a GPU run, and unpack it there (see README.md, "GPU run").

`recipe/data/` is git-ignored, so a device call only sees it if it is carried; the token files
compress ~4x with xz (48 M tokens, 97.8 MB of uint16 -> 24.3 MB in session 6). The pack holds
tokens/*.bin, the tokenizer files and a manifest with each file's size and sha256, which `unpack`
verifies.

Everything that travels to the device counts towards one 64 MiB limit: the repository's tracked
files (53 MiB in session 6, most of it the bundled model and its training state), its untracked
files that are not ignored, and the carried pack. So `pack` measures what else travels (git
ls-files) and, when the whole corpus would not fit beside it, keeps the same leading share of
every language's training tokens (the validation files stay whole) so that the pack fits, and says
how many tokens it left out.

usage (here):   /usr/bin/python3 recipe/pack_tokens.py pack   [--data recipe/data] [--out recipe/gpu-pack/tokens.tar.xz]
                                                              [--budget-mib N (default: what the device limit leaves)]
usage (device): python3 recipe/pack_tokens.py unpack --pack recipe/gpu-pack/tokens.tar.xz --dest DIR
"""
import argparse
import datetime as dt
import glob
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PACK = os.path.join(HERE, "gpu-pack", "tokens.tar.xz")
MANIFEST = "pack_manifest.json"
DEVICE_LIMIT_BYTES = 64 * 2**20  # what may travel to the device in one call, the working tree included
MARGIN_BYTES = 2**20             # the model's files change size a little between a pack and the call


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pack_files(data_dir):
    """(archive name, path) of everything a GPU run needs from data/."""
    files = [(f"tokens/{os.path.basename(p)}", p) for p in sorted(glob.glob(os.path.join(data_dir, "tokens", "*.bin")))]
    if not files:
        raise SystemExit(f"no token files under {data_dir}/tokens (run encode_corpus.py first)")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        p = os.path.join(data_dir, "tokenizer", name)
        if not os.path.exists(p):
            raise SystemExit(f"missing {p}")
        files.append((f"tokenizer/{name}", p))
    p = os.path.join(data_dir, "corpus", "manifest.json")  # provenance of the corpus, if present
    if os.path.exists(p):
        files.append(("corpus/manifest.json", p))
    return files


def travelling_bytes(repo, leave_out):
    """Bytes of the files a device call sends besides the carried ones: tracked files present in the
    working tree and untracked files git does not ignore, except `leave_out` (the pack itself)."""
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         check=True, capture_output=True).stdout
    skip = os.path.abspath(leave_out)
    total = 0
    for name in set(out.decode().split("\0")) - {""}:
        p = os.path.join(repo, name)
        if os.path.isfile(p) and os.path.abspath(p) != skip:
            total += os.path.getsize(p)
    return total


def device_budget(out):
    """What the device limit leaves for the pack next to everything else that travels."""
    return DEVICE_LIMIT_BYTES - travelling_bytes(os.path.dirname(HERE), out) - MARGIN_BYTES


def cut_copy(data_dir, dest, share):
    """A data folder whose train_*.bin files hold their first `share` of tokens (same share for every
    language, so the language mix is kept); everything else is linked whole."""
    for sub in ("tokens", "tokenizer", "corpus"):
        src = os.path.join(data_dir, sub)
        if not os.path.isdir(src):
            continue
        os.makedirs(os.path.join(dest, sub), exist_ok=True)
        for name in os.listdir(src):
            p, q = os.path.join(src, name), os.path.join(dest, sub, name)
            if sub == "tokens" and name.startswith("train_") and name.endswith(".bin"):
                keep = (os.path.getsize(p) // 2) * share
                with open(p, "rb") as f, open(q, "wb") as g:
                    g.write(f.read(int(keep) * 2))
            else:
                os.symlink(os.path.abspath(p), q)


def pack(data_dir, out, preset=9, budget=None):
    """Pack data_dir into out; with a budget (bytes), cut the training tokens until the pack fits."""
    manifest = write_pack(data_dir, out, preset)
    full_tokens = manifest["train_tokens"]
    tried = [(1.0, os.path.getsize(out))]  # (share of training tokens kept, pack size)
    while budget is not None and os.path.getsize(out) > budget:
        if len(tried) > 5 or budget <= 0:
            raise SystemExit(f"{out}: {os.path.getsize(out)/2**20:.1f} MiB does not fit the "
                             f"{max(budget, 0)/2**20:.1f} MiB the device limit leaves")
        # the size is close to linear in the share kept (plus the parts kept whole): aim a little
        # under the budget, proportionally at first, then along the line through the last two packs
        (s1, z1), (s2, z2) = tried[-2:] if len(tried) > 1 else ((0.0, 0.0), tried[-1])
        share = s2 + (0.98 * budget - z2) * (s1 - s2) / (z1 - z2)
        share = min(max(share, 1e-4), s2 * 0.99)
        with tempfile.TemporaryDirectory() as t:
            cut_copy(data_dir, t, share)
            manifest = write_pack(t, out, preset, cut={"share": round(share, 4), "train_tokens_full": full_tokens})
        tried.append((share, os.path.getsize(out)))
    size = os.path.getsize(out)
    raw = sum(v["bytes"] for v in manifest["files"].values())
    left = f", {full_tokens - manifest['train_tokens']:,} of {full_tokens:,} train tokens left out to fit" \
        if manifest.get("cut") else ""
    room = f" of the {budget/2**20:.2f} MiB the device limit leaves" if budget is not None else ""
    print(f"packed {len(manifest['files'])} files, {raw/1e6:.1f} MB ({manifest['train_tokens']/1e6:.2f} M train tokens) "
          f"-> {out}: {size/1e6:.2f} MB ({size/2**20:.2f} MiB{room}){left}")
    return manifest


def write_pack(data_dir, out, preset=9, cut=None):
    files = pack_files(data_dir)
    manifest = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "files": {name: {"bytes": os.path.getsize(p), "sha256": sha256(p)} for name, p in files}}
    manifest["train_tokens"] = sum(v["bytes"] // 2 for k, v in manifest["files"].items()
                                   if k.startswith("tokens/train_"))
    if cut:
        manifest["cut"] = cut
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w:xz", preset=preset) as tar:
        blob = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(blob), int(dt.datetime.now().timestamp())
        tar.addfile(info, io.BytesIO(blob))
        for name, p in files:
            tar.add(os.path.realpath(p), arcname=name, recursive=False)
    os.replace(tmp, out)
    return manifest


def unpack(pack_path, dest):
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(pack_path, "r:xz") as tar:
        for m in tar.getmembers():
            # only plain files with relative names inside dest
            if not m.isfile() or m.name.startswith("/") or ".." in m.name.split("/"):
                raise SystemExit(f"unexpected member {m.name!r} in {pack_path}")
        try:
            tar.extractall(dest, filter="data")
        except TypeError:  # a Python without extraction filters
            tar.extractall(dest)
    with open(os.path.join(dest, MANIFEST)) as f:
        manifest = json.load(f)
    for name, v in manifest["files"].items():
        p = os.path.join(dest, name)
        if os.path.getsize(p) != v["bytes"] or sha256(p) != v["sha256"]:
            raise SystemExit(f"{p}: size or sha256 differs from the pack manifest")
    return manifest


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--data", default=os.path.join(HERE, "data"))
    p.add_argument("--out", default=DEFAULT_PACK)
    p.add_argument("--preset", type=int, default=9)
    p.add_argument("--budget-mib", type=float, help="largest pack (default: what the 64 MiB device limit leaves "
                                                     "beside the working tree)")
    u = sub.add_parser("unpack")
    u.add_argument("--pack", default=DEFAULT_PACK)
    u.add_argument("--dest", required=True)
    a = ap.parse_args()
    if a.cmd == "pack":
        budget = a.budget_mib * 2**20 if a.budget_mib else device_budget(a.out)
        pack(a.data, a.out, a.preset, budget)
    else:
        m = unpack(a.pack, a.dest)
        print(f"unpacked {len(m['files'])} files ({m['train_tokens']/1e6:.2f} M train tokens, packed {m['created']}) "
              f"-> {a.dest}, sha256 OK", file=sys.stderr)


if __name__ == "__main__":
    main()
