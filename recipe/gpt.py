"""A small GPT-2-layout decoder for code completion.

Pre-LayerNorm blocks, learned absolute positions and an LM head tied to the token embedding,
so the exported ONNX graph looks like a Hugging Face GPT-2 export (the extension loads it as
model_type "gpt2"). Written for Debian's torch 1.13: no scaled_dot_product_attention and no
torch.compile, so attention is spelled out; the same forward() serves training and the ONNX
export with a KV cache.
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 8192
    n_positions: int = 512   # the engine never feeds more positions than this
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    dropout: float = 0.0
    init_std: float = 0.02
    layer_norm_epsilon: float = 1e-5
    arch: str = "gpt2"       # the block: "gpt2" (this file) or "llama" (llama_gpt.py); architectures.py builds either

    @property
    def head_dim(self):
        return self.n_embd // self.n_head

    def to_dict(self):
        return asdict(self)


# Additive mask value. Not -inf: a row that is fully masked (left padding) must stay finite,
# and -1e4 is still representable in fp16 when training with autocast.
MASK_VALUE = -1e4


def causal_bias(T, P, attention_mask, dtype, device):
    """Additive attention mask over (T, P+T): query i sits at absolute position P+i and sees keys
    j <= P+i, except those attention_mask (B, P+T) marks 0 (left padding)."""
    qi = torch.arange(T, device=device).unsqueeze(1) + P
    kj = torch.arange(P + T, device=device).unsqueeze(0)
    allowed = (kj <= qi).unsqueeze(0).unsqueeze(0)
    if attention_mask is not None:
        allowed = allowed & attention_mask.bool()[:, None, None, :]
    return torch.zeros(allowed.shape, dtype=dtype, device=device).masked_fill(~allowed, MASK_VALUE)


class Block(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.c = c
        self.ln_1 = nn.LayerNorm(c.n_embd, eps=c.layer_norm_epsilon)
        self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd)
        self.c_proj = nn.Linear(c.n_embd, c.n_embd)
        self.ln_2 = nn.LayerNorm(c.n_embd, eps=c.layer_norm_epsilon)
        self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd)
        self.c_fc_proj = nn.Linear(4 * c.n_embd, c.n_embd)
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x, bias, past_k=None, past_v=None):
        B, T, C = x.shape
        H, hd = self.c.n_head, self.c.head_dim
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q = q.view(B, T, H, hd).transpose(1, 2)
        k = k.view(B, T, H, hd).transpose(1, 2)
        v = v.view(B, T, H, hd).transpose(1, 2)
        if past_k is not None:
            # the KV cache holds keys/values of all earlier positions; the new ones are appended
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        # On 2 CPU cores the (T x T) attention maps, not the matmuls, bound a small model's speed:
        # scale q (small) instead of the scores, add the mask in place, and skip no-op dropout.
        att = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-2, -1)
        att = F.softmax(att.add_(bias), dim=-1)
        if self.c.dropout > 0:
            att = self.drop(att)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.c_proj(y)
        # GPT-2's "gelu_new" is the tanh approximation; config.json says so
        x = x + self.c_fc_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))
        return x, k, v


class GPT(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.n_positions, c.n_embd)
        self.drop = nn.Dropout(c.dropout)
        self.h = nn.ModuleList([Block(c) for _ in range(c.n_layer)])
        self.ln_f = nn.LayerNorm(c.n_embd, eps=c.layer_norm_epsilon)
        # A zero bias for the LM head. With a bias, torch 1.13 exports F.linear on a 2-D input as
        # Gemm(transB=1) that reads the wte initializer directly; without one it folds a transposed
        # copy of the embedding into the file, doubling its largest tensor.
        self.register_buffer("lm_head_bias", torch.zeros(c.vocab_size), persistent=False)
        self.apply(self._init)
        for name, p in self.named_parameters():
            # GPT-2: scale residual projections so the residual stream variance does not grow with depth
            if name.endswith("c_proj.weight") or name.endswith("c_fc_proj.weight"):
                nn.init.normal_(p, 0.0, c.init_std / math.sqrt(2 * c.n_layer))

    def _init(self, m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, self.c.init_std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, self.c.init_std)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """input_ids (B,T); attention_mask (B, P+T) of 1/0 or None; position_ids (B,T) or None;
        past: list of (k, v), each (B, H, P, head_dim), or None.
        Returns logits (B,T,V) and presents: list of (k, v), each (B, H, P+T, head_dim)."""
        B, T = input_ids.shape
        dev = input_ids.device
        P = 0 if past is None else past[0][0].shape[2]
        if position_ids is None:
            position_ids = torch.arange(P, P + T, device=dev).unsqueeze(0).expand(B, T)
        x = self.wte(input_ids) + self.wpe(position_ids)
        if self.c.dropout > 0:
            x = self.drop(x)
        bias = causal_bias(T, P, attention_mask, x.dtype, dev)
        presents = []
        for i, block in enumerate(self.h):
            pk, pv = (None, None) if past is None else past[i]
            x, k, v = block(x, bias, pk, pv)
            presents.append((k, v))
        x = self.ln_f(x)
        # tied LM head, as a 2-D linear so the export reuses the embedding initializer (see __init__)
        logits = F.linear(x.reshape(B * T, -1), self.wte.weight, self.lm_head_bias).reshape(B, T, -1)
        return logits, presents
