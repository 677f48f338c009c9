"""Tiny decoders shaped like the model families Wisp loads, for the engine's family fixtures.

One small module covers GPTBigCode (multi-query attention, fused key/value cache), Llama / Qwen2
(grouped-query attention, rotary positions, RMSNorm, SwiGLU) and CodeGen (partial GPT-J rotary,
parallel attention and MLP). The weights are random: what must be right is the attention math
(causal mask over past + new positions, the GQA repeat, rotary from position_ids) and the shapes
of the cache tensors, which are those of the Hugging Face / optimum ONNX exports:
  split KV  past_key_values.{i}.key/.value  [batch, kv_heads, past, head_dim]
  fused KV  past_key_values.{i}.key_value   [batch, past, 2 * head_dim]   (GPTBigCode, multi_query)
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_VALUE = -1e4  # finite, as in gpt.py


@dataclass
class FamilySpec:
    vocab_size: int
    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 4
    n_kv_head: int = 4          # 1 = multi-query; < n_head = grouped-query
    fused_kv: bool = False      # GPTBigCode's key_value cache
    positions: str = "learned"  # learned | rope (Llama halves) | rope_gptj (CodeGen interleaved pairs)
    rotary_dim: int = 16
    rope_theta: float = 10000.0
    norm: str = "layer"         # layer | rms
    mlp: str = "gelu"           # gelu | swiglu
    n_inner: int = 256
    qkv_bias: bool = True
    parallel: bool = False      # CodeGen: attention and MLP both read the block's normed input
    tied: bool = True
    lm_bias: bool = False
    n_positions: int = 256
    eps: float = 1e-5
    init_std: float = 0.08      # as the tiny-gpt fixture: random logits spread enough for stable argmaxes

    @property
    def head_dim(self):
        return self.n_embd // self.n_head


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def rotate_every_two(x):
    return torch.stack([-x[..., 1::2], x[..., ::2]], dim=-1).reshape(x.shape)


class Attention(nn.Module):
    def __init__(self, s: FamilySpec):
        super().__init__()
        self.s = s
        hd = s.head_dim
        self.q = nn.Linear(s.n_embd, s.n_head * hd, bias=s.qkv_bias)
        self.k = nn.Linear(s.n_embd, s.n_kv_head * hd, bias=s.qkv_bias)
        self.v = nn.Linear(s.n_embd, s.n_kv_head * hd, bias=s.qkv_bias)
        self.o = nn.Linear(s.n_head * hd, s.n_embd, bias=s.qkv_bias)
        if s.positions != "learned":
            rd = s.rotary_dim
            self.register_buffer("inv_freq", 1.0 / (s.rope_theta ** (torch.arange(0, rd, 2).float() / rd)),
                                 persistent=False)

    def rotate(self, x, position_ids):
        """Rotary embedding of x [B, heads, T, hd] at absolute positions position_ids [B, T]."""
        s = self.s
        rd = s.rotary_dim
        freqs = position_ids[:, None, :, None].float() * self.inv_freq  # B, 1, T, rd/2
        if s.positions == "rope":
            angles, rot = torch.cat([freqs, freqs], dim=-1), rotate_half
        else:
            # each angle serves a pair of adjacent dims (repeat_interleave, spelled so it exports exactly)
            angles = torch.stack([freqs, freqs], dim=-1).reshape(freqs.shape[0], 1, freqs.shape[2], rd)
            rot = rotate_every_two
        xr, rest = x[..., :rd], x[..., rd:]
        xr = xr * torch.cos(angles) + rot(xr) * torch.sin(angles)
        return torch.cat([xr, rest], dim=-1)

    def forward(self, h, bias, position_ids, past):
        s = self.s
        B, T, _ = h.shape
        H, KV, hd = s.n_head, s.n_kv_head, s.head_dim
        q = self.q(h).view(B, T, H, hd).transpose(1, 2)
        k = self.k(h).view(B, T, KV, hd).transpose(1, 2)
        v = self.v(h).view(B, T, KV, hd).transpose(1, 2)
        if s.positions != "learned":
            q, k = self.rotate(q, position_ids), self.rotate(k, position_ids)
        if s.fused_kv:
            # GPTBigCode keeps keys and values of its single KV head side by side: [B, P, 2*hd]
            if past is not None:
                k = torch.cat([past[:, None, :, :hd], k], dim=2)
                v = torch.cat([past[:, None, :, hd:], v], dim=2)
            present = torch.cat([k, v], dim=-1)[:, 0]
        else:
            if past is not None:
                k = torch.cat([past[0], k], dim=2)
                v = torch.cat([past[1], v], dim=2)
            present = (k, v)
        S = k.shape[2]
        if KV != H:  # each KV head serves H/KV query heads
            k = k[:, :, None].expand(B, KV, H // KV, S, hd).reshape(B, H, S, hd)
            v = v[:, :, None].expand(B, KV, H // KV, S, hd).reshape(B, H, S, hd)
        att = F.softmax((q * (1.0 / math.sqrt(hd))) @ k.transpose(-2, -1) + bias, dim=-1)
        return self.o((att @ v).transpose(1, 2).reshape(B, T, H * hd)), present


class MLP(nn.Module):
    def __init__(self, s: FamilySpec):
        super().__init__()
        self.swiglu = s.mlp == "swiglu"
        self.up = nn.Linear(s.n_embd, s.n_inner, bias=not self.swiglu)
        if self.swiglu:
            self.gate = nn.Linear(s.n_embd, s.n_inner, bias=False)
        self.down = nn.Linear(s.n_inner, s.n_embd, bias=not self.swiglu)

    def forward(self, x):
        if self.swiglu:
            return self.down(F.silu(self.gate(x)) * self.up(x))
        return self.down(F.gelu(self.up(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, s: FamilySpec):
        super().__init__()
        self.s = s
        norm = (lambda: RMSNorm(s.n_embd, s.eps)) if s.norm == "rms" else (lambda: nn.LayerNorm(s.n_embd, eps=s.eps))
        self.ln_1 = norm()
        self.attn = Attention(s)
        if not s.parallel:
            self.ln_2 = norm()
        self.mlp = MLP(s)

    def forward(self, x, bias, position_ids, past):
        h = self.ln_1(x)
        a, present = self.attn(h, bias, position_ids, past)
        if self.s.parallel:
            return x + a + self.mlp(h), present
        x = x + a
        return x + self.mlp(self.ln_2(x)), present


class FamilyModel(nn.Module):
    def __init__(self, s: FamilySpec):
        super().__init__()
        self.s = s
        self.wte = nn.Embedding(s.vocab_size, s.n_embd)
        if s.positions == "learned":
            self.wpe = nn.Embedding(s.n_positions, s.n_embd)
        self.h = nn.ModuleList([Block(s) for _ in range(s.n_layer)])
        self.ln_f = RMSNorm(s.n_embd, s.eps) if s.norm == "rms" else nn.LayerNorm(s.n_embd, eps=s.eps)
        if not s.tied:
            self.lm_head = nn.Linear(s.n_embd, s.vocab_size, bias=s.lm_bias)
        for m in self.modules():  # norms keep their ones/zeros
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, s.init_std)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.normal_(m.bias, 0.0, s.init_std / 4)

    def past_length(self, past):
        if past is None:
            return 0
        return past[0].shape[1] if self.s.fused_kv else past[0][0].shape[2]

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """past: per layer a fused [B, P, 2*hd] tensor or a (k, v) pair of [B, KV, P, hd]; None = empty.
        Returns logits [B, T, V] and the presents in the same form as past."""
        B, T = input_ids.shape
        P = self.past_length(past)
        if position_ids is None:
            position_ids = torch.arange(P, P + T).unsqueeze(0).expand(B, T)
        x = self.wte(input_ids)
        if self.s.positions == "learned":
            x = x + self.wpe(position_ids)
        qi = torch.arange(T).unsqueeze(1) + P
        kj = torch.arange(P + T).unsqueeze(0)
        allowed = (kj <= qi)[None, None]
        if attention_mask is not None:
            allowed = allowed & attention_mask.bool()[:, None, None, :]
        bias = torch.zeros(allowed.shape).masked_fill(~allowed, MASK_VALUE)
        presents = []
        for i, block in enumerate(self.h):
            x, present = block(x, bias, position_ids, None if past is None else past[i])
            presents.append(present)
        x = self.ln_f(x)
        logits = self.lm_head(x) if not self.s.tied else x @ self.wte.weight.t()
        return logits, presents
