"""Graph variants of a model folder's onnx/model.onnx, for measuring engine levers without touching
the model folder: test/bench/.models/variants/<model>/model_last_logits.onnx.

last_logits: the language-model head runs on the last position only, so a prefill of n tokens
returns logits [batch, 1, vocab] instead of [batch, n, vocab] (n × vocab × n_embd multiply-adds
and an n × vocab × 4-byte output copy saved). Plain decoding needs nothing more; prompt-lookup
speculation would need a variant that keeps k positions.

The rewrite expects the GPT-2 export of recipe/export_onnx.py: ln_f → Reshape [B*S, d] →
Gemm(wte, transB) → Reshape [B, S, V] = logits.

usage: /usr/bin/python3 test/bench/make_variants.py MODEL_DIR [--out DIR]
"""
import argparse
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def last_logits(m):
    g = m.graph
    prod = {o: n for n in g.node for o in n.output}
    final = prod["logits"]
    gemm = prod[final.input[0]]
    assert final.op_type == "Reshape" and gemm.op_type == "Gemm", (final.op_type, gemm.op_type)
    flat = prod[gemm.input[0]]
    assert flat.op_type == "Reshape"
    hidden = flat.input[0]
    vocab = g.output[0].type.tensor_type.shape.dim[2].dim_value
    consts = {
        "bench_last_starts": np.array([-1], np.int64),
        "bench_last_ends": np.array([np.iinfo(np.int64).max], np.int64),
        "bench_last_axes": np.array([1], np.int64),
        "bench_last_shape": np.array([-1, 1, vocab], np.int64),
    }
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())
    # [B, S, d] → [B, 1, d] (last position) → [B, d] for the Gemm
    sliced = helper.make_node("Slice", [hidden, "bench_last_starts", "bench_last_ends", "bench_last_axes"], ["bench_last_hidden"])
    squeezed = helper.make_node("Squeeze", ["bench_last_hidden", "bench_last_axes"], ["bench_last_2d"])
    idx = list(g.node).index(flat)
    g.node.insert(idx + 1, squeezed)
    g.node.insert(idx + 1, sliced)
    gemm.input[0] = "bench_last_2d"
    final.input[1] = "bench_last_shape"
    d = g.output[0].type.tensor_type.shape.dim[1]
    d.Clear()
    d.dim_value = 1
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("--out")
    a = ap.parse_args()
    name = os.path.basename(os.path.abspath(a.model_dir))
    out = a.out or os.path.join(HERE, ".models", "variants", name)
    os.makedirs(out, exist_ok=True)
    m = onnx.load(os.path.join(a.model_dir, "onnx", "model.onnx"))
    m = last_logits(m)
    onnx.checker.check_model(m)
    path = os.path.join(out, "model_last_logits.onnx")
    onnx.save(m, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
