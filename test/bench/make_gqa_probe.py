"""A probe for the "attention glue" and "fixed-size KV buffer" levers (NOTES.md, session 12): the
recipe's GPT-2 weights written as an ONNX graph whose attention is onnxruntime's contrib
GroupQueryAttention (one op per layer instead of ~25 glue ops), with the KV cache either fed as
today (past of P positions, presents of P+S) or kept in one fixed buffer of n_positions that the op
updates in place (past and present bound to the same memory). Not a model folder: it has no
attention_mask (seqlens_k and total_sequence_length instead), which transformers.js and optimum's
layout do not know; gqa-probe.mjs checks it against the folder's model.onnx and times both.

usage: /usr/bin/python3 test/bench/make_gqa_probe.py WEIGHTS.pt OUT.onnx
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "recipe"))
from export_onnx import load_weights  # noqa: E402


def gqa_graph(model):
    c = model.c
    sd = {k: v.float().numpy() for k, v in model.state_dict().items()}
    heads, head_dim, width = c.n_head, c.head_dim, c.n_embd
    inits, nodes = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def linear(x, prefix, out):
        w = const(prefix + ".weight.T", sd[prefix + ".weight"].T)
        nodes.append(helper.make_node("MatMul", [x, w], [out + ".mm"]))
        nodes.append(helper.make_node("Add", [out + ".mm", const(prefix + ".bias", sd[prefix + ".bias"])], [out]))

    def layer_norm(x, prefix, out):
        w, b = const(prefix + ".weight", sd[prefix + ".weight"]), const(prefix + ".bias", sd[prefix + ".bias"])
        nodes.append(helper.make_node("LayerNormalization", [x, w, b], [out], epsilon=c.layer_norm_epsilon, axis=-1))

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "S"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, [1, "S"]),
        helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, [1]),
        helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, []),
    ]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1, c.vocab_size])]
    nodes.append(helper.make_node("Gather", [const("wte", sd["wte.weight"]), "input_ids"], ["tok"]))
    nodes.append(helper.make_node("Gather", [const("wpe", sd["wpe.weight"]), "position_ids"], ["pos"]))
    nodes.append(helper.make_node("Add", ["tok", "pos"], ["x.0"]))
    x = "x.0"
    for i in range(c.n_layer):
        p = f"h.{i}"
        layer_norm(x, p + ".ln_1", p + ".a")
        linear(p + ".a", p + ".c_attn", p + ".qkv")
        nodes.append(helper.make_node("Split", [p + ".qkv"], [p + ".q", p + ".k", p + ".v"], axis=2))
        past = [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        present = [f"present.{i}.key", f"present.{i}.value"]
        inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, heads, "P", head_dim]) for n in past]
        outputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, heads, "T", head_dim]) for n in present]
        nodes.append(helper.make_node(
            "GroupQueryAttention", [p + ".q", p + ".k", p + ".v", *past, "seqlens_k", "total_sequence_length"],
            [p + ".y", *present], domain="com.microsoft", num_heads=heads, kv_num_heads=heads))
        linear(p + ".y", p + ".c_proj", p + ".o")
        nodes.append(helper.make_node("Add", [x, p + ".o"], [p + ".x1"]))
        layer_norm(p + ".x1", p + ".ln_2", p + ".b")
        linear(p + ".b", p + ".c_fc", p + ".f")
        nodes.append(helper.make_node("FastGelu", [p + ".f"], [p + ".g"], domain="com.microsoft"))
        linear(p + ".g", p + ".c_fc_proj", p + ".m")
        nodes.append(helper.make_node("Add", [p + ".x1", p + ".m"], [p + ".x2"]))
        x = p + ".x2"
    layer_norm(x, "ln_f", "xf")
    last = [const("last.starts", np.array([-1], np.int64)), const("last.ends", np.array([2**62], np.int64)),
            const("last.axes", np.array([1], np.int64))]
    nodes.append(helper.make_node("Slice", ["xf", *last], ["x.last"]))
    nodes.append(helper.make_node("MatMul", ["x.last", const("wte.T", sd["wte.weight"].T)], ["logits"]))
    graph = helper.make_graph(nodes, "wisp-gqa-probe", inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    return m


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    m = gqa_graph(load_weights(sys.argv[1]))
    onnx.save(m, sys.argv[2])
    print(f"{sys.argv[2]}: {len(m.graph.node)} nodes")


if __name__ == "__main__":
    main()
