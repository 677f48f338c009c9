"""Pack the encoded corpus for a GPU run, and unpack it there (see README.md, "GPU run").

`recipe/data/` is git-ignored, so a device call only sees it if it is carried; the token files are
26 MB of uint16 and compress ~4x with xz. The pack holds tokens/*.bin, the tokenizer files and a
manifest with each file's size and sha256, which `unpack` verifies.

usage (here):   /usr/bin/python3 recipe/pack_tokens.py pack   [--data recipe/data] [--out recipe/gpu-pack/tokens.tar.xz]
usage (device): python3 recipe/pack_tokens.py unpack --pack recipe/gpu-pack/tokens.tar.xz --dest DIR
"""
import argparse
import datetime as dt
import glob
import hashlib
import io
import json
import os
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PACK = os.path.join(HERE, "gpu-pack", "tokens.tar.xz")
MANIFEST = "pack_manifest.json"
MAX_PACK_BYTES = 48 * 2**20  # the device call carries at most 64 MiB of ignored files in all


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


def pack(data_dir, out, preset=9):
    files = pack_files(data_dir)
    manifest = {"created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "files": {name: {"bytes": os.path.getsize(p), "sha256": sha256(p)} for name, p in files}}
    manifest["train_tokens"] = sum(v["bytes"] // 2 for k, v in manifest["files"].items()
                                   if k.startswith("tokens/train_"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w:xz", preset=preset) as tar:
        blob = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime = len(blob), int(dt.datetime.now().timestamp())
        tar.addfile(info, io.BytesIO(blob))
        for name, p in files:
            tar.add(p, arcname=name, recursive=False)
    os.replace(tmp, out)
    size = os.path.getsize(out)
    raw = sum(v["bytes"] for v in manifest["files"].values())
    if size > MAX_PACK_BYTES:
        raise SystemExit(f"{out}: {size/2**20:.1f} MiB is over the {MAX_PACK_BYTES/2**20:.0f} MiB budget")
    print(f"packed {len(files)} files, {raw/1e6:.1f} MB ({manifest['train_tokens']/1e6:.2f} M train tokens) "
          f"-> {out}: {size/1e6:.2f} MB ({size/2**20:.2f} MiB)")
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
    u = sub.add_parser("unpack")
    u.add_argument("--pack", default=DEFAULT_PACK)
    u.add_argument("--dest", required=True)
    a = ap.parse_args()
    if a.cmd == "pack":
        pack(a.data, a.out, a.preset)
    else:
        m = unpack(a.pack, a.dest)
        print(f"unpacked {len(m['files'])} files ({m['train_tokens']/1e6:.2f} M train tokens, packed {m['created']}) "
              f"-> {a.dest}, sha256 OK", file=sys.stderr)


if __name__ == "__main__":
    main()
