"""The two blocks the recipe trains, chosen by GPTConfig.arch: "gpt2" (gpt.py, the shipped lineage)
and "llama" (llama_gpt.py: rotary positions, RMSNorm, SwiGLU; issue 15's measured lever).
Checkpoints carry the config, so whatever loads one (train.py, train_gpu.py, export_onnx.py)
builds the right model from it; configs saved before the field existed are GPT-2.
"""
from gpt import GPT, GPTConfig
from llama_gpt import LlamaGPT, swiglu_width

MODELS = {"gpt2": GPT, "llama": LlamaGPT}


def build_model(cfg: GPTConfig):
    if cfg.arch not in MODELS:
        raise ValueError(f"unknown arch {cfg.arch!r}; the recipe builds {sorted(MODELS)}")
    return MODELS[cfg.arch](cfg)


def count_params(cfg: GPTConfig):
    """build_model(cfg).n_params() without building it (the LM head is tied in both)."""
    d = cfg.n_embd
    if cfg.arch == "llama":
        # embedding, per block q/k/v/o + gate/up/down + two RMSNorm weights, final RMSNorm
        return cfg.vocab_size * d + cfg.n_layer * (4 * d * d + 3 * d * swiglu_width(d) + 2 * d) + d
    # embeddings, per block (12 d^2 + 13 d), final LayerNorm
    return cfg.vocab_size * d + cfg.n_positions * d + cfg.n_layer * (12 * d * d + 13 * d) + 2 * d
