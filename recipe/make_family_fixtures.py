"""Build the engine's model-family fixtures: test/fixtures/families/<family>/.

Each folder is a tiny random-weight model in the Hugging Face / transformers.js ONNX layout of one
family, with the ONNX input/output names, shapes and dtypes of that family's optimum export, the
config.json and generation_config.json transformers writes for it, and a tokenizer carrying that
family's special tokens (the tiny-gpt fixture's byte-level BPE merges, with the family's added
tokens placed where the family puts them). reference.json holds what torch computed.

  gpt_bigcode   StarCoder: multi-query attention, fused past_key_values.{i}.key_value [B, past, 2*hd]
  qwen2         Qwen2.5-Coder: grouped-query attention, rotary, model.onnx, model_fp16.onnx and
                weight-only 4-bit model_q4.onnx / model_q4_acc4.onnx
  llama         CodeLlama tokens (<PRE> <SUF> <MID> <EOT>): grouped-query attention, rotary
  codegen       CodeGen: partial GPT-J rotary, parallel block, no FIM tokens
  gpt2-merged   GPT-2 as the older decoder_model_merged.onnx (If on use_cache_branch, no position_ids)

Deterministic (seeded weights, fixed trace inputs).
usage: /usr/bin/python3 recipe/make_family_fixtures.py [--out test/fixtures/families]
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from export_onnx import generation_config as gpt2_generation_config, hf_config as gpt2_config  # noqa: E402
from families import FamilyModel, FamilySpec  # noqa: E402
from gpt import GPT  # noqa: E402
from make_fixture import CONFIG as TINY_GPT_CONFIG  # noqa: E402
from quantize_onnx import quantize_weight_only  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(REPO, "test", "fixtures", "tiny-gpt")
TRANSFORMERS_VERSION = "4.46.0"
PROMPT = "def add(a, b):\n    return a + b\n\n\nclass Stack:\n    def push(self, item):\n        "
FIM = ("def area(r):\n    ", "\n    return a\n")
OPSET = 17


# ---------------------------------------------------------------- tokenizers

class FamilyTokenizer:
    """The tiny-gpt BPE with a family's special tokens: `front` before the byte/merge vocabulary
    (StarCoder, Llama), `back` after it (Qwen, CodeGen)."""

    def __init__(self, front, back):
        self.base = bpe.Tokenizer(os.path.join(TINY, "tokenizer.json"))
        tiny = json.load(open(os.path.join(TINY, "tokenizer.json"), encoding="utf-8"))
        self.tiny_json = tiny
        base_tokens = [s for s, i in sorted(tiny["model"]["vocab"].items(), key=lambda kv: kv[1])
                       if s not in self.base.special]
        ordered = list(front) + base_tokens + list(back)
        self.vocab = {s: i for i, s in enumerate(ordered)}
        self.special = {s: self.vocab[s] for s in list(front) + list(back)}
        self.tiny_to_family = {i: self.vocab[s] for s, i in tiny["model"]["vocab"].items() if s in self.vocab}

    def __len__(self):
        return len(self.vocab)

    def encode(self, text):
        return [self.tiny_to_family[i] for i in self.base.encode_ordinary(text)]

    def tokenizer_json(self):
        t = json.loads(json.dumps(self.tiny_json))
        t["model"]["vocab"] = self.vocab
        t["added_tokens"] = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": True} for s, i in self.special.items()]
        return t

    def added_tokens_decoder(self):
        return {str(i): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                         "single_word": False, "special": True} for s, i in self.special.items()}


# ---------------------------------------------------------------- the families

def starcoder_family():
    tok = FamilyTokenizer(["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>",
                           "<filename>"], [])
    spec = FamilySpec(vocab_size=len(tok), n_kv_head=1, fused_kv=True)
    eos = tok.special["<|endoftext|>"]
    config = {
        "activation_function": "gelu_pytorch_tanh", "architectures": ["GPTBigCodeForCausalLM"],
        "attention_softmax_in_fp32": True, "attn_pdrop": 0.0, "bos_token_id": eos, "embd_pdrop": 0.0,
        "eos_token_id": eos, "inference_runner": 0, "initializer_range": spec.init_std,
        "layer_norm_epsilon": spec.eps, "max_batch_size": None, "max_sequence_length": None,
        "model_type": "gpt_bigcode", "multi_query": True, "n_embd": spec.n_embd, "n_head": spec.n_head,
        "n_inner": spec.n_inner, "n_layer": spec.n_layer, "n_positions": spec.n_positions,
        "pad_key_length": True, "pre_allocate_kv_cache": False, "resid_pdrop": 0.0,
        "scale_attention_softmax_in_fp32": True, "scale_attn_weights": True, "summary_activation": None,
        "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index",
        "summary_use_proj": True, "torch_dtype": "float32", "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True, "validate_runner_input": True, "vocab_size": spec.vocab_size,
    }
    tok_config = {
        "add_prefix_space": False, "added_tokens_decoder": tok.added_tokens_decoder(),
        "additional_special_tokens": ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>",
                                      "<fim_pad>", "<filename>"],
        "bos_token": "<|endoftext|>", "clean_up_tokenization_spaces": True, "eos_token": "<|endoftext|>",
        "model_max_length": spec.n_positions, "tokenizer_class": "GPT2Tokenizer", "unk_token": "<|endoftext|>",
        "vocab_size": len(tok),
    }
    gen = {"_from_model_config": True, "bos_token_id": eos, "eos_token_id": eos,
           "transformers_version": TRANSFORMERS_VERSION}
    return dict(name="gpt_bigcode", tok=tok, spec=spec, config=config, tok_config=tok_config, gen=gen,
                fim=("<fim_prefix>", "<fim_suffix>", "<fim_middle>"), fp16=False)


def qwen2_family():
    tok = FamilyTokenizer([], ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_middle|>",
                               "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"])
    # Qwen pads the embedding beyond the tokenizer (151936 rows for 151665 tokens); so do we
    spec = FamilySpec(vocab_size=520, n_kv_head=2, positions="rope", rotary_dim=16, rope_theta=1e6, norm="rms",
                      mlp="swiglu", n_inner=128, eps=1e-6)
    eos = tok.special["<|endoftext|>"]
    config = {
        "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": eos, "eos_token_id": eos,
        "hidden_act": "silu", "hidden_size": spec.n_embd, "initializer_range": spec.init_std,
        "intermediate_size": spec.n_inner, "max_position_embeddings": spec.n_positions,
        "max_window_layers": spec.n_layer, "model_type": "qwen2", "num_attention_heads": spec.n_head,
        "num_hidden_layers": spec.n_layer, "num_key_value_heads": spec.n_kv_head, "rms_norm_eps": spec.eps,
        "rope_scaling": None, "rope_theta": spec.rope_theta, "sliding_window": spec.n_positions,
        "tie_word_embeddings": True, "torch_dtype": "float32", "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True, "use_sliding_window": False, "vocab_size": spec.vocab_size,
    }
    tok_config = {
        "add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": tok.added_tokens_decoder(),
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_middle|>",
                                      "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"],
        "bos_token": None, "clean_up_tokenization_spaces": False, "eos_token": "<|endoftext|>", "errors": "replace",
        "model_max_length": spec.n_positions, "pad_token": "<|endoftext|>", "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer", "unk_token": None,
    }
    gen = {"bos_token_id": eos, "eos_token_id": eos, "max_new_tokens": 2048,
           "transformers_version": TRANSFORMERS_VERSION}
    return dict(name="qwen2", tok=tok, spec=spec, config=config, tok_config=tok_config, gen=gen,
                fim=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"), fp16=True, weight_only=True)


def codellama_family():
    tok = FamilyTokenizer(["<unk>", "<s>", "</s>"], ["<PRE>", "<SUF>", "<MID>", "<EOT>"])
    spec = FamilySpec(vocab_size=len(tok), n_kv_head=2, positions="rope", rotary_dim=16, rope_theta=1e6,
                      norm="rms", mlp="swiglu", n_inner=128, qkv_bias=False, tied=False)
    config = {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
        "bos_token_id": tok.special["<s>"], "eos_token_id": tok.special["</s>"], "hidden_act": "silu",
        "hidden_size": spec.n_embd, "initializer_range": spec.init_std, "intermediate_size": spec.n_inner,
        "max_position_embeddings": spec.n_positions, "mlp_bias": False, "model_type": "llama",
        "num_attention_heads": spec.n_head, "num_hidden_layers": spec.n_layer,
        "num_key_value_heads": spec.n_kv_head, "pretraining_tp": 1, "rms_norm_eps": spec.eps,
        "rope_scaling": None, "rope_theta": spec.rope_theta, "tie_word_embeddings": False,
        "torch_dtype": "float32", "transformers_version": TRANSFORMERS_VERSION, "use_cache": True,
        "vocab_size": spec.vocab_size,
    }
    tok_config = {
        "add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": tok.added_tokens_decoder(),
        "bos_token": "<s>", "clean_up_tokenization_spaces": False, "eos_token": "</s>", "eot_token": "<EOT>",
        "fill_token": "<FILL_ME>", "middle_token": "<MID>", "model_max_length": spec.n_positions,
        "prefix_token": "<PRE>", "suffix_token": "<SUF>", "tokenizer_class": "CodeLlamaTokenizer",
        "unk_token": "<unk>",
    }
    gen = {"_from_model_config": True, "bos_token_id": tok.special["<s>"], "eos_token_id": tok.special["</s>"],
           "transformers_version": TRANSFORMERS_VERSION}
    return dict(name="llama", tok=tok, spec=spec, config=config, tok_config=tok_config, gen=gen,
                fim=("<PRE>", "<SUF>", "<MID>"), fp16=False)


def codegen_family():
    tok = FamilyTokenizer([], ["<|endoftext|>"])
    spec = FamilySpec(vocab_size=512, positions="rope_gptj", rotary_dim=8, qkv_bias=False, parallel=True,
                      tied=False, lm_bias=True)
    eos = tok.special["<|endoftext|>"]
    config = {
        "activation_function": "gelu_new", "architectures": ["CodeGenForCausalLM"], "attn_pdrop": 0.0,
        "bos_token_id": 1, "embd_pdrop": 0.0, "eos_token_id": eos, "gradient_checkpointing": False,
        "initializer_range": spec.init_std, "layer_norm_epsilon": spec.eps, "model_type": "codegen",
        "n_ctx": spec.n_positions, "n_embd": spec.n_embd, "n_head": spec.n_head, "n_inner": None,
        "n_layer": spec.n_layer, "n_positions": spec.n_positions, "resid_pdrop": 0.0,
        "rotary_dim": spec.rotary_dim, "scale_attn_weights": True, "summary_activation": None,
        "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index",
        "summary_use_proj": True, "tie_word_embeddings": False, "tokenizer_class": "GPT2Tokenizer",
        "torch_dtype": "float32", "transformers_version": TRANSFORMERS_VERSION, "use_cache": True,
        "vocab_size": spec.vocab_size,
    }
    tok_config = {
        "add_bos_token": False, "add_prefix_space": False, "added_tokens_decoder": tok.added_tokens_decoder(),
        "bos_token": "<|endoftext|>", "clean_up_tokenization_spaces": True, "eos_token": "<|endoftext|>",
        "model_max_length": spec.n_positions, "tokenizer_class": "CodeGenTokenizer", "unk_token": "<|endoftext|>",
    }
    gen = {"_from_model_config": True, "bos_token_id": 1, "eos_token_id": eos,
           "transformers_version": TRANSFORMERS_VERSION}
    return dict(name="codegen", tok=tok, spec=spec, config=config, tok_config=tok_config, gen=gen,
                fim=None, fp16=False)


# ---------------------------------------------------------------- ONNX export

def past_names(n_layer, fused):
    if fused:
        return [f"past_key_values.{i}.key_value" for i in range(n_layer)]
    return [f"past_key_values.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]


class FlatFamily(nn.Module):
    """torch.onnx.export wants flat tensors: (input_ids, attention_mask, position_ids, *past)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *flat):
        s = self.model.s
        past = list(flat) if s.fused_kv else [(flat[2 * i], flat[2 * i + 1]) for i in range(s.n_layer)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        return (logits, *(presents if s.fused_kv else [t for kv in presents for t in kv]))


def fix_vocab_axis(path, vocab_size):
    """The exporter names logits' vocab axis after an internal Reshape; HF exports state the number."""
    m = onnx.load(path)
    for o in m.graph.output:
        if o.name == "logits":
            d = o.type.tensor_type.shape.dim[2]
            d.Clear()
            d.dim_value = vocab_size
    onnx.save(m, path)
    onnx.checker.check_model(m, full_check=True)
    return m


def export_family(model, path):
    s = model.s
    ins = ["input_ids", "attention_mask", "position_ids"] + past_names(s.n_layer, s.fused_kv)
    outs = ["logits"] + [n.replace("past_key_values", "present") for n in ins[3:]]
    past_axis = 1 if s.fused_kv else 2
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for n in ins[3:]:
        dyn[n] = {0: "batch_size", past_axis: "past_sequence_length"}
    for n in outs[1:]:
        dyn[n] = {0: "batch_size", past_axis: "total_sequence_length"}
    B, P, T = 2, 3, 4  # a non-empty past, so the concat and the P-dependent mask are traced
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, s.vocab_size, (B, T), generator=g)
    mask = torch.ones(B, P + T, dtype=torch.long)
    pos = torch.arange(P, P + T).unsqueeze(0).expand(B, T).contiguous()
    shape = (B, P, 2 * s.head_dim) if s.fused_kv else (B, s.n_kv_head, P, s.head_dim)
    past = [torch.randn(*shape, generator=g) for _ in ins[3:]]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(FlatFamily(model), (ids, mask, pos, *past), path, opset_version=OPSET,
                          input_names=ins, output_names=outs, dynamic_axes=dyn, do_constant_folding=True)
    return fix_vocab_axis(path, s.vocab_size)


def to_fp16_io(src_path, dst_path):
    """model_fp16.onnx from the fp32 graph: float weights stored as float16, past inputs, present
    outputs and logits in float16 (the I/O of optimum's fp16 exports); arithmetic stays float32,
    with a Cast at each boundary."""
    m = onnx.load(src_path)
    g = m.graph
    casts = []
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT:
            arr = numpy_helper.to_array(init).astype(np.float16)
            name = init.name
            init.CopyFrom(numpy_helper.from_array(arr, name + "_fp16"))
            casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=TensorProto.FLOAT))
    renamed_inputs = {}
    for inp in g.input:
        if inp.type.tensor_type.elem_type == TensorProto.FLOAT:
            inp.type.tensor_type.elem_type = TensorProto.FLOAT16
            renamed_inputs[inp.name] = inp.name + "_fp32"
            casts.append(helper.make_node("Cast", [inp.name], [inp.name + "_fp32"], to=TensorProto.FLOAT))
    renamed_outputs = {}
    for out in g.output:
        if out.type.tensor_type.elem_type == TensorProto.FLOAT:
            out.type.tensor_type.elem_type = TensorProto.FLOAT16
            renamed_outputs[out.name] = out.name + "_fp32"
    for node in g.node:
        for i, n in enumerate(node.input):
            node.input[i] = renamed_inputs.get(n, renamed_outputs.get(n, n))
        for i, n in enumerate(node.output):
            node.output[i] = renamed_outputs.get(n, n)
    tail = [helper.make_node("Cast", [f32], [name], to=TensorProto.FLOAT16) for name, f32 in renamed_outputs.items()]
    nodes = casts + list(g.node) + tail
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, dst_path)


# ---------------------------------------------------------------- GPT-2 as a merged decoder

class GPT2NoPast(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        logits, presents = self.model(input_ids, attention_mask)
        return (logits, *[t for kv in presents for t in kv])


class GPT2WithPast(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, *flat):
        L = self.model.c.n_layer
        logits, presents = self.model(input_ids, attention_mask, None, [(flat[2 * i], flat[2 * i + 1]) for i in range(L)])
        return (logits, *[t for kv in presents for t in kv])


def export_merged_gpt2(model, path, tmp_dir):
    """decoder_model_merged.onnx as optimum's merge_decoders builds it: the graphs without and with
    a past side by side in an If on `use_cache_branch`, weights shared in the outer graph. Inputs
    input_ids, attention_mask, past_key_values.{i}.key/value, use_cache_branch bool [1]; the older
    GPT-2 export has no position_ids."""
    c = model.c
    names = past_names(c.n_layer, False)
    presents = [n.replace("past_key_values", "present") for n in names]
    dyn_io = {"input_ids": {0: "batch_size", 1: "sequence_length"},
              "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
              "logits": {0: "batch_size", 1: "sequence_length"}}
    g = torch.Generator().manual_seed(0)
    B, P, T = 2, 3, 4
    ids = torch.randint(0, c.vocab_size, (B, T), generator=g)
    no_past_path, with_past_path = os.path.join(tmp_dir, "no_past.onnx"), os.path.join(tmp_dir, "with_past.onnx")
    with torch.no_grad():
        torch.onnx.export(GPT2NoPast(model), (ids, torch.ones(B, T, dtype=torch.long)), no_past_path,
                          opset_version=OPSET, input_names=["input_ids", "attention_mask"],
                          output_names=["logits"] + presents, do_constant_folding=True,
                          dynamic_axes={**dyn_io, **{n: {0: "batch_size", 2: "sequence_length"} for n in presents}})
        past = [torch.randn(B, c.n_head, P, c.head_dim, generator=g) for _ in names]
        torch.onnx.export(GPT2WithPast(model), (ids, torch.ones(B, P + T, dtype=torch.long), *past), with_past_path,
                          opset_version=OPSET, input_names=["input_ids", "attention_mask"] + names,
                          output_names=["logits"] + presents, do_constant_folding=True,
                          dynamic_axes={**dyn_io, **{n: {0: "batch_size", 2: "past_sequence_length"} for n in names},
                                        **{n: {0: "batch_size", 2: "total_sequence_length"} for n in presents}})
    with_past, no_past = onnx.load(with_past_path), onnx.load(no_past_path)
    outer_inputs = list(with_past.graph.input)
    outer_outputs = [onnx.ValueInfoProto() for _ in with_past.graph.output]
    for dst, src in zip(outer_outputs, with_past.graph.output):
        dst.CopyFrom(src)
    weights = {}  # outer-graph initializers, read by both branches
    branches = []
    for branch, prefix in ((with_past, "with_past/"), (no_past, "no_past/")):
        rename = {}
        for init in branch.graph.initializer:
            arr = numpy_helper.to_array(init)
            known = weights.get(init.name)
            if known is None:
                weights[init.name] = arr
            elif not (known.shape == arr.shape and np.array_equal(known, arr)):
                rename[init.name] = prefix + init.name
                weights[prefix + init.name] = arr
        for node in branch.graph.node:  # inner values get the branch's prefix: names are unique model-wide
            node.name = prefix + node.name
            for i, n in enumerate(node.output):
                rename[n] = prefix + n
                node.output[i] = rename[n]
        for node in branch.graph.node:
            for i, n in enumerate(node.input):
                node.input[i] = rename.get(n, n)
        for out in branch.graph.output:
            out.name = rename.get(out.name, out.name)
        branches.append(helper.make_graph(list(branch.graph.node), prefix.rstrip("/"), [], list(branch.graph.output)))
    use_cache = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
    if_node = helper.make_node("If", ["use_cache_branch"], [o.name for o in outer_outputs], name="optimum::if",
                               then_branch=branches[0], else_branch=branches[1])
    graph = helper.make_graph([if_node], "merged_decoder", outer_inputs + [use_cache], outer_outputs,
                              [numpy_helper.from_array(a, n) for n, a in weights.items()])
    merged = helper.make_model(graph, opset_imports=with_past.opset_import, producer_name="wisp-fixtures")
    merged.ir_version = with_past.ir_version
    onnx.checker.check_model(merged, full_check=True)
    onnx.save(merged, path)
    return fix_vocab_axis(path, c.vocab_size)


# ---------------------------------------------------------------- references

def greedy(model, ids, n=8):
    seq, out = list(ids), []
    with torch.no_grad():
        for _ in range(n):
            nxt = int(model(torch.tensor([seq]))[0][0, -1].argmax())
            out.append(nxt)
            seq.append(nxt)
    return out


def half_round(x):
    return x.half().float()


def greedy_fp16_cache(model, ids, n=8):
    """Greedy decoding as model_fp16.onnx runs it: KV cache and logits rounded to float16 between calls."""
    out = []
    with torch.no_grad():
        logits, past = model(torch.tensor([ids]))
        for _ in range(n):
            nxt = int(half_round(logits[0, -1]).argmax())
            out.append(nxt)
            past = [tuple(half_round(t) for t in kv) if isinstance(kv, tuple) else half_round(kv) for kv in past]
            P = len(ids) + len(out) - 1
            logits, past = model(torch.tensor([[nxt]]), torch.ones(1, P + 1, dtype=torch.long), torch.tensor([[P]]), past)
    return out


def kv_consistency(model, n_prompt=7, n_steps=3):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 500, (1, n_prompt + n_steps), generator=g)
    with torch.no_grad():
        full, _ = model(ids)
        _, past = model(ids[:, :n_prompt])
        worst = 0.0
        for t in range(n_prompt, n_prompt + n_steps):
            logits, past = model(ids[:, t:t + 1], torch.ones(1, t + 1, dtype=torch.long), torch.tensor([[t]]), past)
            worst = max(worst, float((logits[0, -1] - full[0, t]).abs().max()))
    return worst


def reference(model, prompt_ids, fim_ids, special_ids, fp16):
    with torch.no_grad():
        last = model(torch.tensor([prompt_ids]))[0][0, -1]
    top = torch.topk(last, 5)
    ref = {
        "prompt": PROMPT,
        "prompt_ids": prompt_ids,
        "last_logits_top5": {"ids": top.indices.tolist(), "values": [round(v, 5) for v in top.values.tolist()]},
        "last_logits_first8": [round(v, 5) for v in last[:8].tolist()],
        "greedy_next_8": greedy(model, prompt_ids),
        "fim_prefix": FIM[0],
        "fim_suffix": FIM[1],
        "fim_prompt_ids": fim_ids,
        "special_ids": special_ids,
    }
    if fp16:
        ref["greedy_next_8_fp16"] = greedy_fp16_cache(model, prompt_ids)
    return ref


def weight_only_variants(out):
    """model_q4.onnx (MatMulNBits 4-bit, fp32 compute, as transformers.js' model_q4) and
    model_q4_acc4.onnx (int8 compute inside the kernel), for the exact-reuse tests of quantized weights."""
    for name, level in (("model_q4.onnx", 0), ("model_q4_acc4.onnx", 4)):
        m, _ = quantize_weight_only(onnx.load(os.path.join(out, "onnx", "model.onnx")), 4, 32, level)
        onnx.save(m, os.path.join(out, "onnx", name))


def write_json(path, value, indent=2):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=indent, ensure_ascii=False)
        f.write("\n")


def build_family(fam, out_root, seed):
    out = os.path.join(out_root, fam["name"])
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "onnx"))
    tok, spec = fam["tok"], fam["spec"]
    torch.manual_seed(seed)
    model = FamilyModel(spec).eval()
    if fam["fp16"]:
        # weights exactly representable in float16, so model.onnx and model_fp16.onnx hold the same model
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(half_round(p))
    export_family(model, os.path.join(out, "onnx", "model.onnx"))
    if fam["fp16"]:
        to_fp16_io(os.path.join(out, "onnx", "model.onnx"), os.path.join(out, "onnx", "model_fp16.onnx"))
    if fam.get("weight_only"):
        weight_only_variants(out)
    write_json(os.path.join(out, "config.json"), fam["config"])
    write_json(os.path.join(out, "generation_config.json"), fam["gen"])
    write_json(os.path.join(out, "tokenizer_config.json"), fam["tok_config"])
    write_json(os.path.join(out, "tokenizer.json"), tok.tokenizer_json(), indent=None)
    ids = tok.encode(PROMPT)
    fim_ids = None
    if fam["fim"]:
        p, s, m = (tok.special[t] for t in fam["fim"])
        fim_ids = [p] + tok.encode(FIM[0]) + [s] + tok.encode(FIM[1]) + [m]
    write_json(os.path.join(out, "reference.json"), reference(model, ids, fim_ids, tok.special, fam["fp16"]), None)
    print(f"{fam['name']}: {sum(p.numel() for p in model.parameters())} params, kv-cache vs full (torch) "
          f"max |diff| {kv_consistency(model):.2e}")


def build_gpt2_merged(out_root):
    out = os.path.join(out_root, "gpt2-merged")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "onnx"))
    c = TINY_GPT_CONFIG
    torch.manual_seed(1234)  # the tiny-gpt fixture's seed: the same weights, in the merged layout
    model = GPT(c).eval()
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(TINY, f), os.path.join(out, f))
    tok = bpe.Tokenizer(os.path.join(out, "tokenizer.json"))
    write_json(os.path.join(out, "config.json"), gpt2_config(c, tok.eot))
    write_json(os.path.join(out, "generation_config.json"), gpt2_generation_config(tok.eot))
    export_merged_gpt2(model, os.path.join(out, "onnx", "decoder_model_merged.onnx"), os.path.join(out, "onnx"))
    for f in ("no_past.onnx", "with_past.onnx"):
        os.remove(os.path.join(out, "onnx", f))
    ids = tok.encode(PROMPT)
    fim_ids = [tok.fim_prefix] + tok.encode(FIM[0]) + [tok.fim_suffix] + tok.encode(FIM[1]) + [tok.fim_middle]

    class Adapter(nn.Module):  # gpt.py's forward takes past as its 4th argument, as FamilyModel does
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
            return self.m(input_ids, attention_mask, position_ids, past)

    write_json(os.path.join(out, "reference.json"),
               reference(Adapter(model), ids, fim_ids, dict(tok.special), False), None)
    print(f"gpt2-merged: {model.n_params()} params")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures", "families"))
    a = ap.parse_args()
    for seed, fam in enumerate([starcoder_family(), qwen2_family(), codellama_family(), codegen_family()]):
        build_family(fam, a.out, 2000 + seed)
    build_gpt2_merged(a.out)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(a.out) for f in fs)
    print(f"wrote {a.out}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
