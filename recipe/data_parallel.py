"""Data-parallel CPU training for train.py: N processes of one thread each, in lockstep.

On this machine two one-thread training processes side by side each ran at about the speed of one
alone (1,875 and 2,066 tokens/s, session 6). So train.py --procs 2 forks two processes; each
computes the gradient of its half of the batch, the gradients are averaged (one all_reduce of one
flat buffer per step, over gloo on loopback), and both apply the same update, so their weights stay
identical. Rank 0's clock decides the schedule's position, the saves and the stop (broadcast every
step: each process has its own clock); rank 0 does all logging, evaluation and saving, and the
other ranks wait in the next all_reduce meanwhile.

A rank that dies takes the others down (gloo raises in the peers' next collective), the parent
exits non-zero and train_until.sh restarts training from the last checkpoint.
"""
import multiprocessing
import multiprocessing.connection
import os
import socket
import sys

import torch
import torch.distributed as dist


class Group:
    """This process's place in the group; every method is a no-op (or the identity) for one process."""

    def __init__(self, rank, world):
        self.rank, self.world = rank, world

    @property
    def leader(self):
        return self.rank == 0

    def broadcast_params(self, model):
        """Rank 0's weights everywhere (a fresh model's random init differs per process)."""
        if self.world > 1:
            for p in model.parameters():
                dist.broadcast(p.data, 0)

    def average_grads(self, model, loss):
        """Average the gradients over the ranks, in place; returns the mean of the ranks' losses."""
        if self.world == 1:
            return loss
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1).to(grads[0].dtype)])
        dist.all_reduce(flat)
        flat /= self.world
        i = 0
        for g in grads:
            g.copy_(flat[i:i + g.numel()].view_as(g))
            i += g.numel()
        return flat[-1]

    def agree(self, *values):
        """Rank 0's values (floats) on every rank."""
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        dist.broadcast(t, 0)
        return tuple(t.tolist())

    def in_sync(self, model):
        """True if every rank holds the same weights (compared by their sum and sum of squares)."""
        if self.world == 1:
            return True
        with torch.no_grad():
            s = torch.stack([sum(p.double().sum() for p in model.parameters()),
                             sum(p.double().pow(2).sum() for p in model.parameters())])
        hi, lo = s.clone(), s.clone()
        dist.all_reduce(hi, op=dist.ReduceOp.MAX)
        dist.all_reduce(lo, op=dist.ReduceOp.MIN)
        return bool(torch.equal(hi, lo))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child(rank, world, port, fn):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        fn(Group(rank, world))
    finally:
        dist.destroy_process_group()


def run(procs, fn):
    """fn(group) in this process (procs == 1) or in `procs` forked processes. Returns the exit status:
    0 if every process finished, else the first failure's."""
    if procs <= 1:
        fn(Group(0, 1))
        return 0
    port = _free_port()
    # fork: the children share the parent's imports and command line (so `pgrep -f train.py` finds
    # them); no torch op has run yet, so no thread pool is forked half-initialised
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_child, args=(r, procs, port, fn)) for r in range(procs)]
    for c in children:
        c.start()
    status, running = 0, list(children)
    while running:
        # whichever ends first: a failed rank must not leave the others waiting in a collective
        for sentinel in multiprocessing.connection.wait([c.sentinel for c in running]):
            c = next(c for c in running if c.sentinel == sentinel)
            c.join()
            running.remove(c)
            if c.exitcode != 0 and status == 0:
                status = c.exitcode or 1
                for other in running:
                    other.terminate()
    sys.stdout.flush()
    return status
