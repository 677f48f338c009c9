"""Step 6: dynamic int8 quantization of the exported model, with onnx + numpy only.

This is what onnxruntime.quantization.quantize_dynamic does (that package is not installable here):
every MatMul with a 2-D constant weight W[K,N] becomes
    DynamicQuantizeLinear(x) -> MatMulInteger(x_u8, W_s8, x_zero_point, 0) -> Cast -> * (x_scale * w_scale[N])
with symmetric per-output-column int8 weights; onnxruntime fuses the pattern into one kernel.
The tied embedding is shared by a Gather (token lookup) and a Gemm(transB=1) (LM head). With
--embed (default) both get int8 copies: a [V,d] table with per-row scales for the lookup and a
[d,V] matrix for the head, 2 bytes per parameter instead of 4 shared ones.

Dynamic quantization computes the activation scale per call, so logits for a token depend a little
on the other tokens in the same call: decoding with a KV cache is not bit-identical to a full pass.

--weight-only BITS writes the alternative: MatMulNBits (com.microsoft, onnxruntime >= 1.20) with
BITS = 8 or 4 per-block weights dequantized inside the kernel and fp32 activations, so every row is
computed independently and the KV cache stays exact; the embedding lookup stays fp32, the LM head
gets its own quantized copy.

usage: /usr/bin/python3 recipe/quantize_onnx.py [IN.onnx] [OUT.onnx] [--no-embed] [--weight-only 8|4]
       [--accuracy-level 4]
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ONNX_DIR = os.path.join(os.path.dirname(HERE), "models", "wisp-code-small", "onnx")


class Rewriter:
    def __init__(self, graph):
        self.g = graph
        self.inits = {i.name: i for i in graph.initializer}
        self.nodes, self.new_inits, self.n = [], [], 0

    def install(self, replaced):
        """Puts the rewritten nodes in the graph, dropping replaced weights nothing reads any more."""
        used = {i for n in self.nodes for i in n.input}
        keep = [i for i in self.g.initializer if i.name not in replaced or i.name in used]
        del self.g.initializer[:]
        self.g.initializer.extend(keep + self.new_inits)
        del self.g.node[:]
        self.g.node.extend(self.nodes)

    def name(self, base):
        self.n += 1
        return f"{base}_q{self.n}"

    def const(self, base, array):
        n = self.name(base)
        self.new_inits.append(numpy_helper.from_array(array, n))
        return n

    def weight(self, name):
        return numpy_helper.to_array(self.inits[name]).astype(np.float32)

    def int8_matmul(self, x, W, out, tag):
        """nodes computing out = x @ W with W int8 per output column and x quantized per call."""
        scale = np.abs(W).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        Wq = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
        wq, ws = self.const(tag + "_W", Wq), self.const(tag + "_Wscale", scale.astype(np.float32))
        wzp = self.const(tag + "_Wzp", np.zeros((), np.int8))
        xq, xs, xzp, acc, accf, s = (self.name(tag + t) for t in ("_xq", "_xs", "_xzp", "_acc", "_accf", "_s"))
        self.nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [xq, xs, xzp], name=self.name(tag + "_dql")),
            helper.make_node("MatMulInteger", [xq, wq, xzp, wzp], [acc], name=self.name(tag + "_mmi")),
            helper.make_node("Cast", [acc], [accf], to=TensorProto.FLOAT, name=self.name(tag + "_cast")),
            helper.make_node("Mul", [xs, ws], [s], name=self.name(tag + "_scale")),
            helper.make_node("Mul", [accf, s], [out], name=self.name(tag + "_mul")),
        ]

    def int8_gather(self, E, ids, out):
        """token lookup from an int8 [V,d] table with one scale per row (per token)."""
        scale = np.abs(E).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        Eq = np.clip(np.round(E / scale[:, None]), -127, 127).astype(np.int8)
        eq, es = self.const("wte_int8", Eq), self.const("wte_scale", scale.astype(np.float32))
        axis = self.const("wte_axis", np.array([-1], np.int64))
        g, gf, gs, gs1 = (self.name("wte" + t) for t in ("_g", "_gf", "_gs", "_gs1"))
        self.nodes += [
            helper.make_node("Gather", [eq, ids], [g], name=self.name("wte_gather")),
            helper.make_node("Cast", [g], [gf], to=TensorProto.FLOAT, name=self.name("wte_cast")),
            helper.make_node("Gather", [es, ids], [gs], name=self.name("wte_gather_scale")),
            helper.make_node("Unsqueeze", [gs, axis], [gs1], name=self.name("wte_unsqueeze")),
            helper.make_node("Mul", [gf, gs1], [out], name=self.name("wte_mul")),
        ]


def nbits_matmul(rw, x, Wt, out, tag, bits, block, accuracy_level=0):
    """out = x @ Wt.T with Wt [N,K] quantized per block of `block` along K (MatMulNBits layout)."""
    N, K = Wt.shape
    assert K % block == 0, (K, block)
    nb = K // block
    qmax = 2 ** (bits - 1) - 1            # symmetric: the default zero point 2^(bits-1) is exact
    blocks = Wt.reshape(N, nb, block)
    scale = np.abs(blocks).max(axis=2) / qmax
    scale[scale == 0] = 1.0
    q = (np.clip(np.round(blocks / scale[:, :, None]), -qmax, qmax) + 2 ** (bits - 1)).astype(np.uint8)
    if bits == 4:  # two values per byte, the first in the low nibble
        q = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)
    qn, sn = rw.const(tag + "_Wnbits", q), rw.const(tag + "_Wscale", scale.astype(np.float32).reshape(-1))
    rw.nodes.append(helper.make_node("MatMulNBits", [x, qn, sn], [out], name=rw.name(tag + "_nbits"),
                                     domain="com.microsoft", K=K, N=N, bits=bits, block_size=block,
                                     **({"accuracy_level": accuracy_level} if accuracy_level else {})))


def quantize_weight_only(model, bits=8, block=32, accuracy_level=0):
    """accuracy_level 4 lets onnxruntime quantize each activation row to int8 per block and use
    integer dot products (as llama.cpp does for Q4_0/Q8_0); rows stay independent of each other."""
    g = model.graph
    rw = Rewriter(g)
    replaced = set()
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in rw.inits and len(rw.inits[n.input[1]].dims) == 2:
            nbits_matmul(rw, n.input[0], rw.weight(n.input[1]).T.copy(), n.output[0], "mm", bits, block,
                         accuracy_level)
            replaced.add(n.input[1])
        elif n.op_type == "Gemm" and n.input[1] in rw.inits:
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            assert attrs.get("transB") == 1 and not attrs.get("transA", 0)
            head = rw.name("lm_head")
            nbits_matmul(rw, n.input[0], rw.weight(n.input[1]), head, "lm_head", bits, block,  # wte is [N,K]
                         accuracy_level)
            bias = n.input[2] if len(n.input) > 2 else ""
            rw.nodes.append(helper.make_node("Add", [head, bias], [n.output[0]]) if bias
                            else helper.make_node("Identity", [head], [n.output[0]]))
            replaced.add(n.input[1])
        else:
            rw.nodes.append(n)
    rw.install(replaced)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    # onnx's checker does not know contrib ops; check the standard parts only
    onnx.checker.check_model(model, full_check=False)
    return model, len(replaced)


def quantize(model, embed=True):
    g = model.graph
    rw = Rewriter(g)
    tied = None
    if embed:
        gathered = {n.input[0] for n in g.node if n.op_type == "Gather" and n.input[0] in rw.inits}
        gemm_b = {n.input[1] for n in g.node if n.op_type == "Gemm" and n.input[1] in rw.inits}
        tied = next(iter(gathered & gemm_b), None)
    replaced = set()
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in rw.inits and len(rw.inits[n.input[1]].dims) == 2:
            rw.int8_matmul(n.input[0], rw.weight(n.input[1]), n.output[0], "mm")
            replaced.add(n.input[1])
        elif tied and n.op_type == "Gather" and n.input[0] == tied:
            rw.int8_gather(rw.weight(tied), n.input[1], n.output[0])
            replaced.add(tied)
        elif tied and n.op_type == "Gemm" and n.input[1] == tied:
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            assert attrs.get("transB") == 1 and not attrs.get("transA", 0)
            head = rw.name("lm_head")
            rw.int8_matmul(n.input[0], rw.weight(tied).T.copy(), head, "lm_head")
            bias = n.input[2] if len(n.input) > 2 else ""
            rw.nodes.append(helper.make_node("Add", [head, bias], [n.output[0]]) if bias
                            else helper.make_node("Identity", [head], [n.output[0]]))
            replaced.add(tied)
        else:
            rw.nodes.append(n)
    rw.install(replaced)
    onnx.checker.check_model(model, full_check=True)
    return model, len(replaced)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src", nargs="?", default=os.path.join(ONNX_DIR, "model.onnx"))
    ap.add_argument("dst", nargs="?", default=os.path.join(ONNX_DIR, "model_quantized.onnx"))
    ap.add_argument("--no-embed", dest="embed", action="store_false", help="keep the embedding fp32")
    ap.add_argument("--weight-only", type=int, choices=(4, 8), help="MatMulNBits with this many bits instead")
    ap.add_argument("--block", type=int, default=32, help="MatMulNBits block size along K")
    ap.add_argument("--accuracy-level", type=int, default=0, choices=(0, 1, 2, 3, 4),
                    help="MatMulNBits accuracy_level (4: int8 activations inside the kernel)")
    a = ap.parse_args()
    if a.weight_only:
        m, n = quantize_weight_only(onnx.load(a.src), a.weight_only, a.block, a.accuracy_level)
    else:
        m, n = quantize(onnx.load(a.src), a.embed)
    onnx.save(m, a.dst)
    print(f"quantized {n} weights{' (tied embedding included)' if a.embed or a.weight_only else ''}: "
          f"{os.path.getsize(a.src)/1e6:.2f} MB -> {os.path.getsize(a.dst)/1e6:.2f} MB, checker OK")


if __name__ == "__main__":
    main()
