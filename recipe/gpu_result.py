"""What a GPU run sends back, and the step that turns it into a checkpoint here.

The device writes each checkpoint as one safetensors blob (fp16 tensors, the model config in the
header's __metadata__) cut into parts of at most 15 MiB (`model.safetensors.part00`, ...), because
a device call returns files of at most 16 MiB; summary.json lists the parts with the blob's size and
sha256. safetensors is a plain format (8-byte header length, JSON header, raw little-endian data),
written and read here with numpy only, so no torch pickle crosses torch versions.

Reassemble (here, after the device call):
  /usr/bin/python3 recipe/gpu_result.py RESULT_DIR [--dest recipe/runs/gpu/train_state]
writes DEST/model.fp16.pt ({"config", "model"}, the format of train_state/model.fp16.pt, which
export_onnx.py --weights reads), DEST/train_state.json and, if the run sent it, DEST/stable_weights.fp16.pt
(the weights from just before the cooldown, same format). It refuses to write into models/.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np

PART_BYTES = 15 * 2**20
DTYPES = {"F16": np.float16, "F32": np.float32, "BF16": None}


def st_bytes(tensors, metadata=None):
    """safetensors blob of {name: torch tensor}; tensors are stored as fp16."""
    header, chunks, off = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().to("cpu").half().contiguous().numpy()
        b = a.astype("<f2", copy=False).tobytes()
        header[name] = {"dtype": "F16", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(chunks)


def st_parse(blob):
    """{name: numpy array}, metadata dict for a safetensors blob."""
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, h in header.items():
        s, e = h["data_offsets"]
        dt = DTYPES[h["dtype"]]
        if dt is None:  # bf16: the high half of an fp32
            u = np.frombuffer(blob[base + s:base + e], dtype="<u2").astype(np.uint32) << 16
            out[name] = u.view(np.float32).reshape(h["shape"])
        else:
            out[name] = np.frombuffer(blob[base + s:base + e], dtype=dt).reshape(h["shape"])
    return out, meta


def write_parts(out_dir, stem, blob, part_bytes=PART_BYTES):
    """Write blob as out_dir/stem.partNN (atomic per part) and return its summary entry."""
    files = []
    for i in range(0, max(1, len(blob)), part_bytes):
        name = f"{stem}.part{len(files):02d}"
        tmp = os.path.join(out_dir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(blob[i:i + part_bytes])
        os.replace(tmp, os.path.join(out_dir, name))
        files.append(name)
    j = len(files)
    while os.path.exists(os.path.join(out_dir, f"{stem}.part{j:02d}")):  # stale parts of an earlier save
        os.remove(os.path.join(out_dir, f"{stem}.part{j:02d}"))
        j += 1
    return {"files": files, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}


def n_parts(n_bytes, part_bytes=PART_BYTES):
    return max(1, -(-n_bytes // part_bytes))


def join_parts(result_dir, entry):
    blob = b""
    for name in entry["files"]:
        with open(os.path.join(result_dir, name), "rb") as f:
            blob += f.read()
    if len(blob) != entry["bytes"] or hashlib.sha256(blob).hexdigest() != entry["sha256"]:
        raise SystemExit(f"{entry['files']}: size or sha256 differs from summary.json (incomplete copy?)")
    return blob


def load_checkpoint(result_dir, entry):
    """{"config", "model"} with fp16 torch tensors, as train.py saves model.fp16.pt."""
    import torch
    arrays, meta = st_parse(join_parts(result_dir, entry))
    sd = {k: torch.from_numpy(np.array(v, dtype=np.float16)) for k, v in arrays.items()}
    return {"config": json.loads(meta["config"]), "model": sd}


def reassemble(result_dir, dest):
    import torch
    here = os.path.dirname(os.path.abspath(__file__))
    models = os.path.join(os.path.dirname(here), "models")
    if os.path.commonpath([os.path.abspath(dest), models]) == models:
        raise SystemExit("refusing to write into models/: reassemble elsewhere, export, evaluate, then decide")
    with open(os.path.join(result_dir, "summary.json")) as f:
        summary = json.load(f)
    weights = summary.get("weights", {})
    if "model" not in weights:
        raise SystemExit(f"{result_dir}/summary.json lists no model weights (the run saved none)")
    os.makedirs(dest, exist_ok=True)
    written = []
    for key, fname in (("model", "model.fp16.pt"), ("stable", "stable_weights.fp16.pt")):
        if key in weights:
            ck = load_checkpoint(result_dir, weights[key])
            path = os.path.join(dest, fname)
            torch.save(ck, path)
            written.append(path)
    state = os.path.join(result_dir, "state.json")
    if os.path.exists(state):
        with open(state) as f:
            st = json.load(f)
        with open(os.path.join(dest, "train_state.json"), "w") as f:
            json.dump(st, f, indent=1)
        written.append(os.path.join(dest, "train_state.json"))
    return summary, written


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result_dir", help="the folder the device call returned (its $OUT)")
    ap.add_argument("--dest", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "runs", "gpu", "train_state"))
    a = ap.parse_args()
    summary, written = reassemble(a.result_dir, a.dest)
    ck = summary.get("chosen", {})
    print(f"run: mode={summary.get('mode')} model={ck.get('name')} params={ck.get('params')} "
          f"tokens={summary.get('train', {}).get('tokens')} complete={summary.get('complete')}")
    print(f"final val: {summary.get('final_val')}  baseline val: {summary.get('baseline_val')}")
    for p in written:
        print("wrote", p)
    print(f"next: /usr/bin/python3 recipe/export_onnx.py --weights {os.path.join(a.dest, 'model.fp16.pt')} --out /tmp/wisp-gpu-model",
          file=sys.stderr)


if __name__ == "__main__":
    main()
