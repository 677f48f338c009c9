"""Random-weight models of real shapes for `npm run bench -- --real-size`, written into a cache
outside the repository (never committed): the same weights as ONNX (what Wisp loads) and as GGUF
(what llama.cpp's llama-server loads), so both engines run exactly the same model.

  qwen2.5-coder-0.5b   the shape of Qwen2.5-Coder-0.5B: 24 layers, hidden 896, 14 query heads,
                       2 KV heads, head 64, intermediate 4,864, vocabulary 151,936, tied embeddings,
                       rotary theta 1e6, q/k/v biases (494 M parameters)

Timing does not depend on the values, so the weights are random (seeded). Written per shape into
<cache>/<shape>/:
  config.json                     Qwen2 config (what the engine reads to lay out the cache)
  onnx/model.onnx (+ .onnx_data)  fp32, the Hugging Face / optimum decoder layout (torch export)
  onnx/model_q4.onnx              weight-only 4-bit MatMulNBits, block 32 (as transformers.js model_q4)
  onnx/model_q8.onnx              weight-only 8-bit MatMulNBits, block 32
  onnx/model_q{4,8}_acc4.onnx     the same with accuracy_level 4 (int8 activations per block inside the kernel)
  onnx/model_q4_b128[_acc4].onnx  4-bit with blocks of 128 along K, with --block-128 only (3 min more)
  gguf/model-q4_0.gguf, model-q8_0.gguf, model-f16.gguf   qwen2-arch GGUFs of the same weights
The prompt is fed as token ids on both sides, so the tokenizer is only what llama.cpp needs to load:
the qwen2 family fixture's byte-level BPE (520 ids) padded with unused tokens to 151,936 ids.

usage: /usr/bin/python3 test/bench/make_real_size.py [--shape qwen2.5-coder-0.5b] [--cache DIR] [--force]
       [--block-128]
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "recipe"))
from families import FamilyModel, FamilySpec  # noqa: E402
import make_family_fixtures as fixtures  # noqa: E402
from quantize_onnx import quantize_weight_only  # noqa: E402

SHAPES = {
    "qwen2.5-coder-0.5b": FamilySpec(vocab_size=151936, n_layer=24, n_embd=896, n_head=14, n_kv_head=2,
                                     positions="rope", rotary_dim=64, rope_theta=1e6, norm="rms", mlp="swiglu",
                                     n_inner=4864, qkv_bias=True, tied=True, n_positions=32768, eps=1e-6,
                                     init_std=0.02),
}
FIXTURE = os.path.join(REPO, "test", "fixtures", "families", "qwen2")
DONE = ".wisp-bench-done"


def default_cache():
    root = os.environ.get("WISP_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                       os.path.expanduser("~/.cache"), "wisp")
    return os.path.join(root, "bench-models")


def config_for(s):
    c = json.load(open(os.path.join(FIXTURE, "config.json")))
    c.update({"hidden_size": s.n_embd, "intermediate_size": s.n_inner, "max_position_embeddings": s.n_positions,
              "max_window_layers": s.n_layer, "num_attention_heads": s.n_head, "num_hidden_layers": s.n_layer,
              "num_key_value_heads": s.n_kv_head, "rms_norm_eps": s.eps, "rope_theta": s.rope_theta,
              "sliding_window": s.n_positions, "vocab_size": s.vocab_size, "initializer_range": s.init_std,
              "eos_token_id": None, "bos_token_id": None})
    return c


def log(msg, t0):
    print(f"[make_real_size {time.time() - t0:6.1f}s] {msg}", flush=True)


def write_gguf(model, s, name, out_dir, gguf_py, t0):
    sys.path.insert(0, gguf_py)
    import gguf  # noqa: E402
    from gguf import quants  # noqa: E402
    tj = json.load(open(os.path.join(FIXTURE, "tokenizer.json"), encoding="utf-8"))
    vocab = sorted(tj["model"]["vocab"].items(), key=lambda kv: kv[1])
    added = {t["content"]: t["id"] for t in tj["added_tokens"]}
    tokens = [None] * s.vocab_size
    types = [gguf.TokenType.UNUSED] * s.vocab_size
    for t, i in list(vocab) + list(added.items()):
        tokens[i] = t
        types[i] = gguf.TokenType.CONTROL if t in added else gguf.TokenType.NORMAL
    tokens = [t if t is not None else f"[PAD{i}]" for i, t in enumerate(tokens)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tj["model"]["merges"]]
    eos = added["<|endoftext|>"]
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    names = {"wte.weight": "token_embd.weight", "ln_f.weight": "output_norm.weight"}
    for i in range(s.n_layer):
        p, b = f"h.{i}.", f"blk.{i}."
        names.update({p + "ln_1.weight": b + "attn_norm.weight", p + "ln_2.weight": b + "ffn_norm.weight",
                      p + "attn.q.weight": b + "attn_q.weight", p + "attn.q.bias": b + "attn_q.bias",
                      p + "attn.k.weight": b + "attn_k.weight", p + "attn.k.bias": b + "attn_k.bias",
                      p + "attn.v.weight": b + "attn_v.weight", p + "attn.v.bias": b + "attn_v.bias",
                      p + "attn.o.weight": b + "attn_output.weight", p + "mlp.gate.weight": b + "ffn_gate.weight",
                      p + "mlp.up.weight": b + "ffn_up.weight", p + "mlp.down.weight": b + "ffn_down.weight"})
    missing = set(sd) - set(names)
    assert not missing, missing
    for outtype, qtype, ftype in (("q4_0", gguf.GGMLQuantizationType.Q4_0, gguf.LlamaFileType.MOSTLY_Q4_0),
                                  ("q8_0", gguf.GGMLQuantizationType.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
                                  ("f16", gguf.GGMLQuantizationType.F16, gguf.LlamaFileType.MOSTLY_F16)):
        path = os.path.join(out_dir, f"model-{outtype}.gguf")
        w = gguf.GGUFWriter(path, "qwen2")
        w.add_name(name)
        w.add_file_type(ftype)
        w.add_context_length(s.n_positions)
        w.add_embedding_length(s.n_embd)
        w.add_feed_forward_length(s.n_inner)
        w.add_block_count(s.n_layer)
        w.add_head_count(s.n_head)
        w.add_head_count_kv(s.n_kv_head)
        w.add_rope_freq_base(s.rope_theta)
        w.add_layer_norm_rms_eps(s.eps)
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("qwen2")
        w.add_token_list(tokens)
        w.add_token_merges(merges)
        w.add_token_types(types)
        w.add_bos_token_id(eos)
        w.add_eos_token_id(eos)
        w.add_add_bos_token(False)
        for k, arr in sd.items():
            if arr.ndim == 2:  # matrices quantized as llama.cpp's converter does; norms and biases stay f32
                data = arr.astype(np.float16) if qtype == gguf.GGMLQuantizationType.F16 else quants.quantize(arr, qtype)
                w.add_tensor(names[k], data, raw_dtype=qtype)
            else:
                w.add_tensor(names[k], np.ascontiguousarray(arr, dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        log(f"wrote {path} ({os.path.getsize(path) / 1e6:.0f} MB)", t0)


def export_large(model, path, t0):
    """The family fixtures' export, for a model over protobuf's 2 GB: torch writes one external file
    per weight; they are gathered into model.onnx_data and the logits' vocab axis is named."""
    tmp = os.path.join(os.path.dirname(path), "export-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    orig = fixtures.fix_vocab_axis
    fixtures.fix_vocab_axis = lambda p, v: None  # it loads the whole model into one protobuf
    try:
        fixtures.export_family(model, os.path.join(tmp, "model.onnx"))
    finally:
        fixtures.fix_vocab_axis = orig
    log("torch export done", t0)
    m = onnx.load(os.path.join(tmp, "model.onnx"))
    for o in m.graph.output:
        if o.name == "logits":
            d = o.type.tensor_type.shape.dim[2]
            d.Clear()
            d.dim_value = model.s.vocab_size
    data = os.path.basename(path) + "_data"
    for f in (path, path + "_data"):
        if os.path.exists(f):
            os.remove(f)
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data,
                    size_threshold=1024)
    shutil.rmtree(tmp)
    onnx.checker.check_model(path)


def int8_compute_variants(out, t0):
    """model_q{4,8}_acc4.onnx: the same MatMulNBits weights with accuracy_level 4, which lets
    onnxruntime quantize each activation row to int8 per block and use integer dot products (what
    llama.cpp does for Q4_0/Q8_0); every row is still computed on its own."""
    for bits in (4, 8):
        dst = os.path.join(out, "onnx", f"model_q{bits}_acc4.onnx")
        if os.path.exists(dst):
            continue
        m = onnx.load(os.path.join(out, "onnx", f"model_q{bits}.onnx"))
        for n in m.graph.node:
            if n.op_type == "MatMulNBits":
                n.attribute.append(onnx.helper.make_attribute("accuracy_level", 4))
        onnx.save(m, dst + ".tmp")
        os.replace(dst + ".tmp", dst)
        del m
        log(f"wrote {dst}", t0)


def block_128_variants(out, t0):
    """model_q4_b128.onnx and its accuracy_level 4 twin: does the block size change the kernel's
    speed? Quantized again from the fp32 export (the block-32 scales cannot be merged exactly)."""
    dst = os.path.join(out, "onnx", "model_q4_b128.onnx")
    if not os.path.exists(dst):
        m, n = quantize_weight_only(onnx.load(os.path.join(out, "onnx", "model.onnx")), 4, 128)
        onnx.save(m, dst + ".tmp")
        os.replace(dst + ".tmp", dst)
        del m
        log(f"wrote {dst} ({os.path.getsize(dst) / 1e6:.0f} MB, {n} weights as MatMulNBits)", t0)
    acc4 = os.path.join(out, "onnx", "model_q4_b128_acc4.onnx")
    if not os.path.exists(acc4):
        m = onnx.load(dst)
        for n in m.graph.node:
            if n.op_type == "MatMulNBits":
                n.attribute.append(onnx.helper.make_attribute("accuracy_level", 4))
        onnx.save(m, acc4 + ".tmp")
        os.replace(acc4 + ".tmp", acc4)
        del m
        log(f"wrote {acc4}", t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="qwen2.5-coder-0.5b", choices=sorted(SHAPES))
    ap.add_argument("--cache", default=default_cache())
    ap.add_argument("--gguf-py", required=True, help="llama.cpp's gguf-py (scripts/llama-server.sh --gguf-py)")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--block-128", action="store_true", help="also write the block-128 4-bit variants")
    a = ap.parse_args()
    out = os.path.join(a.cache, a.shape)
    t0 = time.time()
    if os.path.exists(os.path.join(out, DONE)) and not a.force:
        int8_compute_variants(out, t0)
        if a.block_128:
            block_128_variants(out, t0)
        print(out)
        return
    s = SHAPES[a.shape]
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    os.makedirs(os.path.join(out, "gguf"), exist_ok=True)
    torch.manual_seed(16)
    with torch.no_grad():
        model = FamilyModel(s).eval()
        for block in model.h:  # Qwen2 has biases on q, k and v only
            o = torch.nn.Linear(s.n_embd, s.n_embd, bias=False)
            o.weight.copy_(block.attn.o.weight)
            block.attn.o = o
    log(f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters", t0)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config_for(s), f, indent=2)
    write_gguf(model, s, a.shape, os.path.join(out, "gguf"), a.gguf_py, t0)
    fp32 = os.path.join(out, "onnx", "model.onnx")
    export_large(model, fp32, t0)
    del model
    log(f"wrote {fp32}", t0)
    for bits in (4, 8):
        m, n = quantize_weight_only(onnx.load(fp32), bits, 32)
        dst = os.path.join(out, "onnx", f"model_q{bits}.onnx")
        onnx.save(m, dst)
        del m
        log(f"wrote {dst} ({os.path.getsize(dst) / 1e6:.0f} MB, {n} weights as MatMulNBits)", t0)
    open(os.path.join(out, DONE), "w").close()
    int8_compute_variants(out, t0)
    if a.block_128:
        block_128_variants(out, t0)
    print(out)


if __name__ == "__main__":
    main()
