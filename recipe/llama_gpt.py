"""A Llama-style variant of gpt.py's model: measured against it in compare_levers.py, trained by
train_gpu.py's fresh runs, exported by export_onnx.py as a Hugging Face "llama" model.

Rotary positions instead of learned ones, RMSNorm instead of LayerNorm, a SwiGLU MLP instead of
GELU, no biases, LM head tied to the embedding. The SwiGLU hidden width is 8/3 of n_embd so its
three matrices hold as many weights as GPT-2's two (4 x n_embd wide): the comparison is at equal
block size. The model drops the 512 x n_embd position table, so it is slightly smaller overall.
Same forward() signature and return values as gpt.GPT, so train.py's loss and evaluation apply.
Its projections are fused (one q/k/v and one gate/up matmul: fewer, larger matmuls on two cores);
to_family() splits them into families.py's Llama family, the Hugging Face Llama math that the
engine's fixtures run; test_levers.py checks that both give the same logits. The ONNX export keeps
the fused matmuls, with the Hugging Face Llama inputs and outputs.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from families import FamilyModel, FamilySpec, RMSNorm, rotate_half
from gpt import GPTConfig, causal_bias


def rotary_tables(head_dim, positions, base=10000.0):
    """cos/sin of shape (B, 1, T, head_dim) for the given absolute positions (B, T), each angle
    repeated for both halves (the pairing of families.rotate_half, as Hugging Face's Llama)."""
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim))
    ang = positions.float().unsqueeze(-1) * inv
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos().unsqueeze(1), ang.sin().unsqueeze(1)


def rotate(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def swiglu_width(n_embd):
    return int(round(8 * n_embd / 3 / 32)) * 32


class LlamaBlock(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.c = c
        hidden = swiglu_width(c.n_embd)
        self.attn_norm = RMSNorm(c.n_embd, c.layer_norm_epsilon)
        self.qkv = nn.Linear(c.n_embd, 3 * c.n_embd, bias=False)
        self.o_proj = nn.Linear(c.n_embd, c.n_embd, bias=False)
        self.mlp_norm = RMSNorm(c.n_embd, c.layer_norm_epsilon)
        self.gate_up = nn.Linear(c.n_embd, 2 * hidden, bias=False)
        self.down_proj = nn.Linear(hidden, c.n_embd, bias=False)

    def forward(self, x, bias, cos, sin, past_k=None, past_v=None):
        B, T, C = x.shape
        H, hd = self.c.n_head, self.c.head_dim
        q, k, v = self.qkv(self.attn_norm(x)).split(C, dim=2)
        q = rotate(q.view(B, T, H, hd).transpose(1, 2), cos, sin)
        k = rotate(k.view(B, T, H, hd).transpose(1, 2), cos, sin)
        v = v.view(B, T, H, hd).transpose(1, 2)
        cached = past_k is not None
        if cached:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        x = x + self.o_proj(self.attend(q, k, v, bias, cached).transpose(1, 2).reshape(B, T, C))
        gate, up = self.gate_up(self.mlp_norm(x)).chunk(2, dim=-1)
        return x + self.down_proj(F.silu(gate) * up), k, v

    def attend(self, q, k, v, bias, cached):
        """q over k and v (B, H, *, head_dim) with the additive mask `bias`; `cached`: k and v hold
        earlier positions too. train_gpu.py's SdpaLlamaBlock puts a fused kernel here."""
        att = F.softmax(((q * (1.0 / math.sqrt(q.shape[-1]))) @ k.transpose(-2, -1)).add_(bias), dim=-1)
        return att @ v


class LlamaGPT(nn.Module):
    def __init__(self, c: GPTConfig):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.h = nn.ModuleList([LlamaBlock(c) for _ in range(c.n_layer)])
        self.norm = RMSNorm(c.n_embd, c.layer_norm_epsilon)
        # as gpt.GPT: a zero head bias makes torch 1.13 export the tied head as a Gemm that reads
        # the embedding initializer, not a transposed copy of it
        self.register_buffer("lm_head_bias", torch.zeros(c.vocab_size), persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = c.init_std
                if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                    std /= math.sqrt(2 * c.n_layer)
                nn.init.normal_(p, 0.0, std)

    def n_params(self):
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        B, T = input_ids.shape
        dev = input_ids.device
        P = 0 if past is None else past[0][0].shape[2]
        if position_ids is None:
            position_ids = torch.arange(P, P + T, device=dev).unsqueeze(0).expand(B, T)
        cos, sin = rotary_tables(self.c.head_dim, position_ids)
        x = self.wte(input_ids)
        bias = causal_bias(T, P, attention_mask, x.dtype, dev)
        presents = []
        for i, block in enumerate(self.h):
            pk, pv = (None, None) if past is None else past[i]
            x, k, v = block(x, bias, cos, sin, pk, pv)
            presents.append((k, v))
        x = self.norm(x)
        logits = F.linear(x.reshape(B * T, -1), self.wte.weight, self.lm_head_bias).reshape(B, T, -1)
        return logits, presents


def to_family(model: LlamaGPT) -> FamilyModel:
    """The same weights as families.py's Llama family (separate q, k, v, gate and up)."""
    c = model.c
    hidden = swiglu_width(c.n_embd)
    fam = FamilyModel(FamilySpec(vocab_size=c.vocab_size, n_layer=c.n_layer, n_embd=c.n_embd, n_head=c.n_head,
                                 n_kv_head=c.n_head, positions="rope", rotary_dim=c.head_dim, norm="rms",
                                 mlp="swiglu", n_inner=hidden, qkv_bias=False, tied=True,
                                 n_positions=c.n_positions, eps=c.layer_norm_epsilon))
    with torch.no_grad():
        fam.wte.weight.copy_(model.wte.weight)
        fam.ln_f.weight.copy_(model.norm.weight)
        for src, dst in zip(model.h, fam.h):
            q, k, v = src.qkv.weight.split(c.n_embd, dim=0)
            dst.attn.q.weight.copy_(q)
            dst.attn.k.weight.copy_(k)
            dst.attn.v.weight.copy_(v)
            dst.attn.o.weight.copy_(src.o_proj.weight)
            gate, up = src.gate_up.weight.split(hidden, dim=0)
            dst.mlp.gate.weight.copy_(gate)
            dst.mlp.up.weight.copy_(up)
            dst.mlp.down.weight.copy_(src.down_proj.weight)
            dst.ln_1.weight.copy_(src.attn_norm.weight)
            dst.ln_2.weight.copy_(src.mlp_norm.weight)
    return fam
