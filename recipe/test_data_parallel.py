"""Tests of data_parallel.py: two forked processes, each with half of a batch, take exactly the
step one process takes with the whole batch, stay in sync, and a failing rank ends the group.
CPU only, a few seconds; `npm test` runs it in its recipe stage, with Debian's torch.

usage: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 -m unittest recipe/test_data_parallel.py -v
"""
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data_parallel  # noqa: E402
import train  # noqa: E402
from architectures import build_model  # noqa: E402
from gpt import GPTConfig  # noqa: E402

CFG = GPTConfig(vocab_size=300, n_positions=32, n_layer=2, n_head=2, n_embd=32)


def batch():
    g = torch.Generator().manual_seed(7)
    x = torch.randint(0, 300, (4, 32), generator=g)
    return x, torch.roll(x, -1, dims=1)


def steps(model, group, n=3):
    """n AdamW steps as train.py takes them; each rank trains on its half of the same batch."""
    opt = torch.optim.AdamW(train.adamw_groups(model.parameters(), train.TrainConfig()), lr=1e-2, **train.ADAMW_ARGS)
    x, y = batch()
    half = x.shape[0] // group.world
    x, y = x[group.rank * half:(group.rank + 1) * half], y[group.rank * half:(group.rank + 1) * half]
    for _ in range(n):
        loss = train.loss_fn(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        group.average_grads(model, loss)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()


class DataParallelTest(unittest.TestCase):
    def test_two_halves_take_the_whole_batch_step(self):
        torch.set_num_threads(1)
        torch.manual_seed(0)
        one = build_model(CFG)
        init = {k: v.clone() for k, v in one.state_dict().items()}
        steps(one, data_parallel.Group(0, 1))
        with tempfile.TemporaryDirectory() as t:
            def worker(group):
                torch.set_num_threads(1)
                torch.manual_seed(100 + group.rank)  # different random inits: broadcast must fix that
                m = build_model(CFG)
                if group.leader:
                    m.load_state_dict(init)
                group.broadcast_params(m)
                steps(m, group)
                assert group.in_sync(m)
                torch.save(m.state_dict(), os.path.join(t, f"rank{group.rank}.pt"))

            self.assertEqual(data_parallel.run(2, worker), 0)
            r0 = torch.load(os.path.join(t, "rank0.pt"))
            r1 = torch.load(os.path.join(t, "rank1.pt"))
        for k, v in one.state_dict().items():
            self.assertTrue(torch.equal(r0[k], r1[k]), k)
            self.assertLess(float((r0[k] - v).abs().max()), 1e-5, k)

    def test_a_failing_rank_ends_the_group(self):
        def worker(group):
            if group.rank == 1:
                raise RuntimeError("rank 1 fails")
            t = torch.zeros(1)
            torch.distributed.all_reduce(t)  # would wait forever for rank 1

        self.assertNotEqual(data_parallel.run(2, worker), 0)


if __name__ == "__main__":
    unittest.main()
