"""Write a GGUF of a GPT-2-layout Wisp model (recipe/gpt.py) for llama.cpp's llama-server.

    /usr/bin/python3 recipe/export_gguf.py                                   # the bundled model
    /usr/bin/python3 recipe/export_gguf.py --model test/fixtures/tiny-gpt    # the test fixture
    /usr/bin/python3 recipe/export_gguf.py --weights models/wisp-code-small/train_state/model.fp16.pt

The weights come from the model folder's onnx/model.onnx (what the extension runs; read with a small
protobuf reader, no onnx package needed) or, with --weights, from a train.py state_dict (needs
torch). Both give the same numbers for the bundled model: the ONNX file was exported from
model.fp16.pt. The tokenizer comes from the folder's tokenizer.json, the hyperparameters from its
config.json. The GGUF writer is llama.cpp's gguf-py (needs only numpy); it is found on sys.path, in
$GGUF_PY, or through scripts/llama-server.sh --gguf-py (which fetches llama.cpp's source into the cache).

--outtype auto (the default) writes the 2-D weights in f16 when every value is exactly a float16
(true of the bundled model, trained and saved in fp16), otherwise in f32 (the random-weight fixture);
norms and biases are always f32, as llama.cpp wants them.

Layout (llama.cpp's LLM_ARCH_GPT2; a torch nn.Linear weight [out, in] is ggml's {in, out}):
  token_embd (tied: no output.weight, llama.cpp reuses token_embd), position_embd,
  blk.N.attn_norm{,_b}  <- h.N.ln_1        blk.N.attn_qkv     <- h.N.c_attn (q, k, v along out)
  blk.N.attn_output     <- h.N.c_proj      blk.N.ffn_norm     <- h.N.ln_2
  blk.N.ffn_up          <- h.N.c_fc        blk.N.ffn_down     <- h.N.c_fc_proj
  output_norm           <- ln_f
llama.cpp's gpt2 graph matches gpt.py: pre-LN (eps from config.json), scores scaled by
1/sqrt(head_dim), GELU with the tanh approximation ("gelu_new"), learned positions, tied head.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# token ids the tokenizer.json must hold; FIM metadata is written from these names
SPECIAL_NAMES = {"eot": "<|endoftext|>", "fim_pre": "<fim_prefix>", "fim_mid": "<fim_middle>",
                 "fim_suf": "<fim_suffix>"}


def import_gguf():
    try:
        import gguf  # noqa: F401
        return gguf
    except ImportError:
        pass
    path = os.environ.get("GGUF_PY")
    if not path:
        path = subprocess.run([os.path.join(REPO, "scripts", "llama-server.sh"), "--gguf-py"],
                              check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    sys.path.insert(0, path)
    import gguf
    return gguf


# --- weights from onnx/model.onnx ------------------------------------------------------------------
# Just enough of the protobuf wire format for ModelProto.graph.{node, initializer}.

def _varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _fields(b, start, end):
    i = start
    while i < end:
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = (i, i + 8), i + 8
        elif wt == 5:
            v, i = (i, i + 4), i + 4
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = (i, i + n), i + n
        else:
            raise ValueError(f"unsupported protobuf wire type {wt}")
        yield f, wt, v


ONNX_DTYPES = {1: np.float32, 10: np.float16, 11: np.float64}


def _tensor(b, span):
    name, dims, dtype, raw, floats = None, [], None, None, []
    for f, wt, v in _fields(b, *span):
        if f == 8:
            name = b[v[0]:v[1]].decode()
        elif f == 1:
            if wt == 0:
                dims.append(v)
            else:
                j = v[0]
                while j < v[1]:
                    d, j = _varint(b, j)
                    dims.append(d)
        elif f == 2:
            dtype = v
        elif f == 9:
            raw = b[v[0]:v[1]]
        elif f == 4:  # float_data, packed
            floats.append(np.frombuffer(b[v[0]:v[1]], dtype="<f4"))
        elif f == 13:
            raise ValueError(f"initializer {name}: external data is not supported")
    if dtype not in ONNX_DTYPES:
        raise ValueError(f"initializer {name}: unsupported ONNX data type {dtype}")
    if raw is not None:
        arr = np.frombuffer(raw, dtype=np.dtype(ONNX_DTYPES[dtype]).newbyteorder("<"))
    else:
        arr = np.concatenate(floats) if floats else np.zeros(0, np.float32)
    return name, arr.astype(np.float32).reshape(dims)


def _node(b, span):
    ins, outs, op = [], [], None
    for f, _, v in _fields(b, *span):
        if f == 1:
            ins.append(b[v[0]:v[1]].decode())
        elif f == 2:
            outs.append(b[v[0]:v[1]].decode())
        elif f == 4:
            op = b[v[0]:v[1]].decode()
    return op, ins, outs


def weights_from_onnx(path, n_layer):
    """state_dict-style {gpt.py name: float32 array} from the graph recipe/export_onnx.py writes.

    Initializer names cannot be trusted: the exporter folds each Linear weight into an anonymous
    [in, out] MatMul initializer, and stores identical tensors once (a random-init fixture's zero
    biases and unit norm weights) behind Identity nodes. So the weights are found by the graph's
    structure, in node order: the 2L+1 LayerNormalization nodes are ln_1, ln_2 of each block and ln_f;
    the 4L MatMul nodes with a constant weight are c_attn, c_proj, c_fc, c_fc_proj of each block, each
    followed by an Add of its bias; the Gemm of the tied LM head reads the token embedding, and the
    other embedding Gather reads the position embedding. Shapes are checked against config.json."""
    b = open(path, "rb").read()
    graph = next(v for f, wt, v in _fields(b, 0, len(b)) if f == 7)
    inits, nodes = {}, []
    for f, _, v in _fields(b, *graph):
        if f == 5:
            name, arr = _tensor(b, v)
            inits[name] = arr
        elif f == 1:
            nodes.append(_node(b, v))
    alias = {outs[0]: ins[0] for op, ins, outs in nodes if op == "Identity" and len(ins) == 1 and outs}

    def const(name):
        seen = 0
        while name not in inits and name in alias and seen < 100:
            name, seen = alias[name], seen + 1
        return inits.get(name)

    consumers = {}
    for node in nodes:
        for i in node[1]:
            consumers.setdefault(i, []).append(node)
    lns, mms, head, gathers = [], [], None, []
    for op, ins, outs in nodes:
        if op == "LayerNormalization":
            lns.append((const(ins[1]), const(ins[2]) if len(ins) > 2 else None))
        elif op == "MatMul" and len(ins) == 2 and const(ins[1]) is not None:
            bias = [const(i) for c_op, c_ins, _ in consumers.get(outs[0], []) if c_op == "Add"
                    for i in c_ins if const(i) is not None]
            if len(bias) != 1:
                raise ValueError(f"{path}: MatMul {ins[1]} is not followed by one Add of a constant bias")
            mms.append((np.ascontiguousarray(const(ins[1]).T), bias[0]))
        elif op == "Gemm" and const(ins[1]) is not None:
            head = ins[1]
        elif op == "Gather" and const(ins[0]) is not None and const(ins[0]).ndim == 2:
            gathers.append(ins[0])
    if len(lns) != 2 * n_layer + 1 or len(mms) != 4 * n_layer or head is None or len(gathers) != 2 \
            or any(w is None or bb is None for w, bb in lns):
        raise ValueError(f"{path}: not the graph recipe/export_onnx.py writes ({len(lns)} LayerNorms, "
                         f"{len(mms)} MatMuls with weights, LM head {'found' if head else 'missing'})")
    sd = {"wte.weight": const(head), "wpe.weight": const(next(g for g in gathers if g != head))}
    for i in range(n_layer):
        for j, ln in enumerate(("ln_1", "ln_2")):
            sd[f"h.{i}.{ln}.weight"], sd[f"h.{i}.{ln}.bias"] = lns[2 * i + j]
        for j, lin in enumerate(("c_attn", "c_proj", "c_fc", "c_fc_proj")):
            sd[f"h.{i}.{lin}.weight"], sd[f"h.{i}.{lin}.bias"] = mms[4 * i + j]
    sd["ln_f.weight"], sd["ln_f.bias"] = lns[-1]
    C = sd["wte.weight"].shape[1]
    shapes = {"c_attn": (3 * C, C), "c_proj": (C, C), "c_fc": (4 * C, C), "c_fc_proj": (C, 4 * C)}
    for k, v in sd.items():
        lin = k.split(".")[-2]
        want = shapes.get(lin, (C,)) if k.startswith("h.") or k.startswith("ln_f") else v.shape
        if k.endswith(".bias") and lin in shapes:
            want = (shapes[lin][0],)
        if v.shape != want or v.shape[-1 if v.ndim == 1 else 1] == 0:
            raise ValueError(f"{path}: {k} has shape {v.shape}, expected {want}")
    return sd


def weights_from_torch(path):
    import torch
    ck = torch.load(path, map_location="cpu")
    return {k: v.float().numpy() for k, v in ck["model"].items()}, ck.get("config", {})


# --- GGUF -------------------------------------------------------------------------------------------

def is_f16_exact(a):
    with np.errstate(over="ignore"):
        return bool(np.array_equal(a.astype(np.float16).astype(np.float32), a))


def load_tokenizer(model_dir):
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    m = tj["model"]
    if m.get("type") != "BPE":
        raise ValueError("tokenizer.json: not a BPE model")
    pre = tj.get("pre_tokenizer") or {}
    if pre.get("type") != "ByteLevel" or pre.get("add_prefix_space") or not pre.get("use_regex", True):
        raise ValueError(f"tokenizer.json: expected a GPT-2 ByteLevel pre-tokenizer, got {pre}")
    vocab = dict(m["vocab"])
    for t in tj.get("added_tokens", []):
        vocab[t["content"]] = t["id"]
    n = max(vocab.values()) + 1
    tokens = [None] * n
    for s, i in vocab.items():
        tokens[i] = s
    holes = [i for i, s in enumerate(tokens) if s is None]
    if holes:
        raise ValueError(f"tokenizer.json: ids without a token: {holes[:8]}")
    merges = [mg if isinstance(mg, str) else " ".join(mg) for mg in m["merges"]]
    special = {t["content"]: t["id"] for t in tj.get("added_tokens", []) if t.get("special")}
    return tokens, merges, special


def write_gguf(gguf, out, cfg, sd, tokens, merges, special, outtype, name):
    L, C = cfg["n_layer"], cfg["n_embd"]
    V, P = sd["wte.weight"].shape[0], sd["wpe.weight"].shape[0]
    if len(tokens) != V:
        raise ValueError(f"tokenizer has {len(tokens)} tokens, the embedding {V} rows")
    ids = {}
    for key, text in SPECIAL_NAMES.items():
        if text not in special:
            raise ValueError(f"tokenizer.json has no special token {text}")
        ids[key] = special[text]

    w = gguf.GGUFWriter(out, "gpt2")
    w.add_name(name)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if outtype == "f16" else gguf.LlamaFileType.ALL_F32)
    w.add_context_length(P)
    w.add_embedding_length(C)
    w.add_feed_forward_length(sd["h.0.c_fc.weight"].shape[0])
    w.add_block_count(L)
    w.add_head_count(cfg["n_head"])
    w.add_head_count_kv(cfg["n_head"])
    w.add_layer_norm_eps(float(cfg.get("layer_norm_epsilon", 1e-5)))

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")  # the GPT-2 pre-tokenizer regex, as tokenizer.json's ByteLevel(use_regex)
    w.add_token_list(tokens)
    w.add_token_merges(merges)
    types = [gguf.TokenType.NORMAL] * len(tokens)
    for i in special.values():
        types[i] = gguf.TokenType.CONTROL
    w.add_token_types(types)
    w.add_bos_token_id(ids["eot"])
    w.add_eos_token_id(ids["eot"])
    w.add_eot_token_id(ids["eot"])
    w.add_add_bos_token(False)  # tokenizer_config.json: add_bos_token false; prompts start as the engine builds them
    w.add_add_eos_token(False)
    w.add_uint32(gguf.Keys.Tokenizer.FIM_PRE_ID, ids["fim_pre"])
    w.add_uint32(gguf.Keys.Tokenizer.FIM_SUF_ID, ids["fim_suf"])
    w.add_uint32(gguf.Keys.Tokenizer.FIM_MID_ID, ids["fim_mid"])

    wdt = np.float16 if outtype == "f16" else np.float32

    def put(gname, arr, mat):
        w.add_tensor(gname, np.ascontiguousarray(arr.astype(wdt if mat else np.float32)))

    put("token_embd.weight", sd["wte.weight"], True)
    put("position_embd.weight", sd["wpe.weight"], True)
    for i in range(L):
        h = f"h.{i}."
        for gname, tname in (("attn_norm", "ln_1"), ("attn_qkv", "c_attn"), ("attn_output", "c_proj"),
                             ("ffn_norm", "ln_2"), ("ffn_up", "c_fc"), ("ffn_down", "c_fc_proj")):
            put(f"blk.{i}.{gname}.weight", sd[h + tname + ".weight"], gname not in ("attn_norm", "ffn_norm"))
            put(f"blk.{i}.{gname}.bias", sd[h + tname + ".bias"], False)
    put("output_norm.weight", sd["ln_f.weight"], False)
    put("output_norm.bias", sd["ln_f.bias"], False)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(REPO, "models", "wisp-code-small"),
                    help="model folder (config.json, tokenizer.json, onnx/model.onnx)")
    ap.add_argument("--weights", help="read the weights from this train.py state_dict (.pt, needs torch) "
                                      "instead of the folder's onnx/model.onnx")
    ap.add_argument("--out", help="output .gguf (default: ${WISP_CACHE:-~/.cache/wisp}/gguf/<model>-<outtype>.gguf)")
    ap.add_argument("--outtype", choices=["auto", "f16", "f32"], default="auto")
    ap.add_argument("--check-sources", action="store_true",
                    help="with --weights: also read onnx/model.onnx and require identical tensors")
    a = ap.parse_args()

    with open(os.path.join(a.model, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "gpt2" or not cfg.get("tie_word_embeddings", True):
        raise SystemExit(f"{a.model}: expected a tied GPT-2-layout model (model_type gpt2)")
    if cfg.get("activation_function", "gelu_new") != "gelu_new":
        raise SystemExit("llama.cpp's gpt2 graph uses the tanh GELU (gelu_new); this model does not")
    onnx_path = os.path.join(a.model, "onnx", "model.onnx")
    if a.weights:
        sd, tcfg = weights_from_torch(a.weights)
        for k in ("n_layer", "n_head", "n_embd"):
            if k in tcfg and tcfg[k] != cfg[k]:
                raise SystemExit(f"{a.weights}: {k}={tcfg[k]}, config.json says {cfg[k]}")
        if a.check_sources:
            so = weights_from_onnx(onnx_path, cfg["n_layer"])
            worst = max(float(np.abs(so[k] - sd[k]).max()) for k in so)
            print(f"onnx vs {os.path.basename(a.weights)}: max |diff| over {len(so)} tensors = {worst:.3g}")
            if worst != 0.0:
                raise SystemExit("the ONNX file and the state_dict differ")
    else:
        sd = weights_from_onnx(onnx_path, cfg["n_layer"])
    tokens, merges, special = load_tokenizer(a.model)
    name = os.path.basename(os.path.normpath(a.model))
    outtype = a.outtype
    if outtype == "auto":
        outtype = "f16" if all(is_f16_exact(v) for v in sd.values() if v.ndim == 2) else "f32"
    out = a.out or os.path.join(os.environ.get("WISP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "wisp"), "gguf", f"{name}-{outtype}.gguf")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    gguf = import_gguf()
    tmp = out + ".tmp"
    write_gguf(gguf, tmp, cfg, sd, tokens, merges, special, outtype, name)
    os.replace(tmp, out)
    n_params = sum(v.size for v in sd.values())
    print(f"wrote {out}: {outtype}, {n_params/1e6:.3f}M params, {len(tokens)} tokens, {len(merges)} merges, "
          f"{os.path.getsize(out)/1e6:.2f} MB")


if __name__ == "__main__":
    main()
