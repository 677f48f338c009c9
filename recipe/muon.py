"""Muon: momentum SGD whose update for each weight matrix is replaced by the nearest
semi-orthogonal matrix (Keller Jordan et al., 2024). Measured against AdamW at equal tokens in
compare_levers.py; train_gpu.py uses it for fresh runs.

The orthogonalisation is a quintic Newton-Schulz iteration, which pushes every singular value of
the (normalised) momentum towards 1 in five matrix-multiply steps, so rare directions of the
gradient get as large a step as the dominant ones. Only for the 2-D weights inside the blocks:
embeddings, the tied LM head, norms and biases stay with AdamW, as in the papers.
"""
import torch

import train

# Coefficients of the quintic iteration chosen to maximise the slope at zero while keeping every
# singular value within about [0.7, 1.2] after five steps (the published values).
NS_COEFFS = (3.4445, -4.7750, 2.0315)
# fused projections: how many equal row blocks each holds (q/k/v, gate/up), orthogonalised apart
FUSED_ROWS = {"c_attn.weight": 3, "qkv.weight": 3, "gate_up.weight": 2}


def orthogonalise(g, steps=5, eps=1e-7):
    """Approximately U V^T of g = U S V^T, for a matrix or a batch of matrices (..., rows, cols)."""
    a, b, c = NS_COEFFS
    x = g.float()
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = x.transpose(-2, -1)
    x = x / (x.norm(dim=(-2, -1), keepdim=True) + eps)
    for _ in range(steps):
        gram = x @ x.transpose(-2, -1)
        x = a * x + (b * gram + c * gram @ gram) @ x
    if tall:
        x = x.transpose(-2, -1)
    return x.to(g.dtype)


class Muon(torch.optim.Optimizer):
    """params: 2-D weights. `chunks` maps a parameter to the number of equal row blocks it fuses
    (3 for a fused q/k/v projection, 2 for a fused gate/up projection); each block is
    orthogonalised on its own, as if the matrices were separate."""

    def __init__(self, params, lr=0.02, momentum=0.95, weight_decay=0.0, chunks=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.chunks = chunks or {}

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                buf = self.state[p].setdefault("momentum", torch.zeros_like(p))
                buf.mul_(group["momentum"]).add_(p.grad)
                g = p.grad.add(buf, alpha=group["momentum"])  # Nesterov
                n = self.chunks.get(p, 1)
                rows, cols = p.shape[0] // n, p.shape[1]
                u = orthogonalise(g.view(n, rows, cols)).view_as(p)
                # equal RMS update size whatever the aspect ratio
                u *= max(1.0, rows / cols) ** 0.5
                if group["weight_decay"]:
                    p.mul_(1.0 - group["lr"] * group["weight_decay"])
                p.add_(u, alpha=-group["lr"])


def make_optimisers(model, tc, muon_lr, use_muon, **adamw_extra):
    """AdamW exactly as train.py for everything, or Muon for the 2-D block weights + AdamW for the
    rest. Returns (optimisers, peak learning rates); adamw_extra goes to AdamW (fused=True on CUDA)."""
    named = list(model.named_parameters())
    if not use_muon:
        adam = torch.optim.AdamW(train.adamw_groups(model.parameters(), tc), lr=tc.lr, **train.ADAMW_ARGS, **adamw_extra)
        return [adam], [tc.lr]
    block_matrices = [(n, p) for n, p in named if p.dim() == 2 and n.startswith("h.")]
    muon_ids = {id(p) for _, p in block_matrices}
    rest = [p for _, p in named if id(p) not in muon_ids]
    chunks = {p: FUSED_ROWS.get(n.split(".", 2)[-1], 1) for n, p in block_matrices}
    muon = Muon([p for _, p in block_matrices], lr=muon_lr, chunks=chunks)
    adam = torch.optim.AdamW(train.adamw_groups(rest, tc), lr=tc.lr, **train.ADAMW_ARGS, **adamw_extra)
    return [muon, adam], [muon_lr, tc.lr]
