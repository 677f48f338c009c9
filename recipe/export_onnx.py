"""Export the recipe's weights to a Hugging Face-style ONNX model folder the extension can load.

Writes OUT/onnx/model.onnx (opset 17, checked with onnx.checker), OUT/config.json and
OUT/generation_config.json as transformers writes them for GPT-2 or Llama (the checkpoint's
config.arch), and copies the tokenizer files.
The ONNX I/O is what optimum's GPT-2 and Llama exports ("text-generation-with-past") produce:
  inputs  input_ids [batch, seq] int64, attention_mask [batch, past+seq] int64,
          position_ids [batch, seq] int64, past_key_values.{i}.key/.value [batch, heads, past, head_dim]
  outputs logits [batch, seq, vocab], present.{i}.key/.value [batch, heads, past+seq, head_dim]

usage: /usr/bin/python3 recipe/export_onnx.py [--weights models/wisp-code-small/train_state/model.fp16.pt]
                                                    [--out models/wisp-code-small]
"""
import argparse
import json
import os
import shutil
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from architectures import build_model  # noqa: E402
from gpt import GPTConfig  # noqa: E402
import bpe  # noqa: E402

TRANSFORMERS_VERSION = "4.46.0"  # the version string we imitate in the json files; nothing reads it


class FlatKV(nn.Module):
    """torch.onnx.export wants flat tensors, not a list of (k, v) pairs."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        L = self.model.c.n_layer
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(L)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        return (logits, *[t for kv in presents for t in kv])


def io_names(n_layer):
    ins = ["input_ids", "attention_mask", "position_ids"]
    outs = ["logits"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(n_layer):
        for kv in ("key", "value"):
            ins.append(f"past_key_values.{i}.{kv}")
            dyn[ins[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            outs.append(f"present.{i}.{kv}")
            dyn[outs[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    return ins, outs, dyn


def export(model, path, opset=17):
    import onnx
    model = model.float().eval()
    c = model.c
    ins, outs, dyn = io_names(c.n_layer)
    # trace with a non-empty past so the concat path and the P-dependent mask are recorded
    B, P, T = 2, 3, 4
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, c.vocab_size, (B, T), generator=g)
    mask = torch.ones(B, P + T, dtype=torch.long)
    pos = torch.arange(P, P + T).unsqueeze(0).expand(B, T).contiguous()
    past = [torch.randn(B, c.n_head, P, c.head_dim, generator=g) for _ in range(2 * c.n_layer)]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(FlatKV(model), (ids, mask, pos, *past), path, opset_version=opset,
                          input_names=ins, output_names=outs, dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(path)
    # the exporter names the vocab axis of logits after an internal Reshape; HF exports state it
    logits_dims = m.graph.output[0].type.tensor_type.shape.dim
    logits_dims[2].Clear()
    logits_dims[2].dim_value = c.vocab_size
    onnx.save(m, path)
    onnx.checker.check_model(m, full_check=True)
    # the tied embedding must be stored once: no initializer may have vocab_size * n_embd elements twice
    big = [i for i in m.graph.initializer if len(i.dims) == 2 and c.vocab_size in i.dims]
    assert len(big) == 1, f"embedding stored {len(big)} times: {[i.name for i in big]}"
    return m


def kv_consistency(model, n_prompt=7, n_steps=3, seed=0):
    """Max |logits| difference between incremental decoding with the KV cache and one full pass."""
    model = model.float().eval()
    c = model.c
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, c.vocab_size, (1, n_prompt + n_steps), generator=g)
    with torch.no_grad():
        full, _ = model(ids)
        logits, past = model(ids[:, :n_prompt])
        worst = 0.0
        for t in range(n_prompt, n_prompt + n_steps):
            mask = torch.ones(1, t + 1, dtype=torch.long)
            logits, past = model(ids[:, t:t + 1], mask, torch.tensor([[t]]), past)
            worst = max(worst, float((logits[0, -1] - full[0, t]).abs().max()))
    return worst


def hf_config(c: GPTConfig, eos_id, fim_order="psm"):
    """config.json as transformers writes it for GPT2LMHeadModel, plus "fim_order": "spm" for a model
    trained on suffix-prefix-middle samples, which Wisp then prompts in that order (its KV cache keeps
    the whole prompt but the last tokens on each keystroke). Other tools ignore the key."""
    extra = {"fim_order": "spm"} if fim_order == "spm" else {}
    return {**extra, 
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": c.dropout,
        "bos_token_id": eos_id,
        "embd_pdrop": c.dropout,
        "eos_token_id": eos_id,
        "initializer_range": c.init_std,
        "layer_norm_epsilon": c.layer_norm_epsilon,
        "model_type": "gpt2",
        "n_ctx": c.n_positions,
        "n_embd": c.n_embd,
        "n_head": c.n_head,
        "n_inner": None,
        "n_layer": c.n_layer,
        "n_positions": c.n_positions,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": c.dropout,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": c.vocab_size,
    }


def hf_llama_config(c: GPTConfig, eos_id, fim_order="psm"):
    """config.json as transformers writes it for LlamaForCausalLM (llama_gpt.py's block: rotary over
    the whole head, RMSNorm, SwiGLU, no biases, tied head), plus "fim_order" as hf_config."""
    from llama_gpt import swiglu_width
    extra = {"fim_order": "spm"} if fim_order == "spm" else {}
    return {**extra,
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": eos_id,
        "eos_token_id": eos_id,
        "head_dim": c.head_dim,
        "hidden_act": "silu",
        "hidden_size": c.n_embd,
        "initializer_range": c.init_std,
        "intermediate_size": swiglu_width(c.n_embd),
        "max_position_embeddings": c.n_positions,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": c.n_head,
        "num_hidden_layers": c.n_layer,
        "num_key_value_heads": c.n_head,
        "pretraining_tp": 1,
        "rms_norm_eps": c.layer_norm_epsilon,
        "rope_scaling": None,
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": c.vocab_size,
    }


def generation_config(eos_id):
    return {"_from_model_config": True, "bos_token_id": eos_id, "eos_token_id": eos_id,
            "transformers_version": TRANSFORMERS_VERSION}


def write_model_folder(model, out_dir, tokenizer_dir, opset=17, fim_order="psm"):
    """Everything the extension loads: onnx/model.onnx, config.json, generation_config.json, tokenizer."""
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    if os.path.abspath(tokenizer_dir) != os.path.abspath(out_dir):
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(os.path.join(tokenizer_dir, f), os.path.join(out_dir, f))
    tok = bpe.Tokenizer(os.path.join(out_dir, "tokenizer.json"))
    assert len(tok) == model.c.vocab_size, (len(tok), model.c.vocab_size)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        config_of = hf_llama_config if model.c.arch == "llama" else hf_config
        json.dump(config_of(model.c, tok.eot, fim_order), f, indent=2)
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump(generation_config(tok.eot), f, indent=2)
    m = export(model, os.path.join(out_dir, "onnx", "model.onnx"), opset)
    return m


def load_weights(path):
    """Load the committed fp16 state_dict + its config (saved together by train.py)."""
    ck = torch.load(path, map_location="cpu")
    model = build_model(GPTConfig(**ck["config"]))
    model.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    return model


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.join(os.path.dirname(here), "models")
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.path.join(root, "wisp-code-small", "train_state", "model.fp16.pt"))
    ap.add_argument("--out", default=os.path.join(root, "wisp-code-small"))
    ap.add_argument("--tokenizer", default=os.path.join(here, "data", "tokenizer"))
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--fim-order", choices=["psm", "spm"], default="spm",
                    help="the FIM order the extension prompts in; spm needs a model trained with spm_rate > 0")
    a = ap.parse_args()
    model = load_weights(a.weights)
    tok_dir = a.tokenizer if os.path.exists(os.path.join(a.tokenizer, "tokenizer.json")) else a.out
    m = write_model_folder(model, a.out, tok_dir, a.opset, a.fim_order)
    path = os.path.join(a.out, "onnx", "model.onnx")
    print(f"exported {model.c} ({model.n_params()/1e6:.2f}M params) -> {path} "
          f"{os.path.getsize(path)/1e6:.2f} MB, {len(m.graph.node)} nodes, checker OK")
    print(f"KV-cache vs full forward (torch), max |diff| = {kv_consistency(model):.2e}")


if __name__ == "__main__":
    main()
