"""Tests of the lever comparison's pieces (llama_gpt.py, muon.py, compare_levers.py); CPU only,
no corpus needed, a few seconds. `npm test` runs it in its recipe stage, with Debian's torch.

usage: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 -m unittest recipe/test_levers.py -v
"""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_levers as L  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402
from llama_gpt import LlamaGPT, swiglu_width, to_family  # noqa: E402
from muon import Muon, make_optimisers, orthogonalise  # noqa: E402

SMALL = GPTConfig(vocab_size=300, n_positions=64, n_layer=2, n_head=4, n_embd=64)


class LlamaBlockTest(unittest.TestCase):
    def test_same_block_weights_as_gpt2(self):
        c = GPTConfig(n_embd=192, n_head=4, n_layer=4)
        llama = sum(p.numel() for p in LlamaGPT(c).h.parameters())
        gpt2 = sum(p.numel() for p in GPT(c).h.parameters() if p.dim() == 2)
        self.assertEqual(swiglu_width(192), 512)
        self.assertLess(abs(llama - gpt2) / gpt2, 0.01)

    def test_kv_cache_and_left_padding_match_a_full_pass(self):
        torch.manual_seed(0)
        m = LlamaGPT(SMALL).eval()
        x = torch.randint(0, 300, (2, 20))
        with torch.no_grad():
            full, _ = m(x)
            a, past = m(x[:, :13])
            b, _ = m(x[:, 13:], past=past)
            self.assertLess((torch.cat([a, b], 1) - full).abs().max().item(), 1e-4)
            # three pad tokens on the left, positions counted from the first real token
            padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), x[:1]], 1)
            mask = torch.cat([torch.zeros(1, 3), torch.ones(1, 20)], 1)
            pos = torch.clamp(torch.arange(23) - 3, min=0).unsqueeze(0)
            out, _ = m(padded, attention_mask=mask, position_ids=pos)
            self.assertLess((out[:, 3:] - full[:1]).abs().max().item(), 1e-4)

    def test_rotary_positions_make_attention_depend_on_relative_position_only(self):
        torch.manual_seed(0)
        m = LlamaGPT(SMALL).eval()
        x = torch.randint(0, 300, (1, 10))
        with torch.no_grad():
            a, _ = m(x, position_ids=torch.arange(10).unsqueeze(0))
            b, _ = m(x, position_ids=torch.arange(7, 17).unsqueeze(0))
        self.assertLess((a - b).abs().max().item(), 1e-3)


    def test_maps_onto_the_llama_family_that_the_engine_loads(self):
        torch.manual_seed(0)
        m = LlamaGPT(SMALL).eval()
        for p in m.parameters():  # norms away from 1, so a swapped norm would show
            p.data.add_(torch.randn_like(p) * 0.05)
        fam = to_family(m).eval()
        x = torch.randint(0, 300, (2, 16))
        with torch.no_grad():
            a, _ = m(x)
            b, presents = fam(x)
        self.assertLess((a - b).abs().max().item(), 1e-4)
        self.assertEqual(tuple(presents[0][0].shape), (2, SMALL.n_head, 16, SMALL.head_dim))


class MuonTest(unittest.TestCase):
    def test_orthogonalise_brings_singular_values_near_one(self):
        torch.manual_seed(0)
        for shape in [(96, 64), (192, 576), (576, 192), (3, 96, 64)]:
            g = torch.randn(*shape) * torch.logspace(-1, 1, shape[-1])  # singular values over 2 decades
            s = torch.linalg.svdvals(orthogonalise(g))
            self.assertGreater(s.min().item(), 0.6, shape)
            self.assertLess(s.max().item(), 1.25, shape)

    def test_fused_blocks_are_orthogonalised_one_by_one(self):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.zeros(3 * 32, 32))
        w.grad = torch.cat([torch.randn(32, 32) * s for s in (1e-3, 1.0, 1e3)])
        Muon([w], lr=1.0, momentum=0.0, chunks={w: 3}).step()
        # orthogonalised as one matrix, the 1e-3 block would come out ~1e-6 and the 1 block ~1e-3
        for block in w.detach().view(3, 32, 32):
            s = torch.linalg.svdvals(block)
            self.assertGreater(s.median().item(), 0.6)
            self.assertLess(s.max().item(), 1.25)

    def test_trains_a_small_model_down(self):
        torch.manual_seed(0)
        m = GPT(SMALL)
        x = torch.randint(0, 300, (4, 32))
        opts, peaks = make_optimisers(m, L.train.TrainConfig(), 0.02, use_muon=True)
        self.assertIsInstance(opts[0], Muon)
        self.assertEqual(len(opts[0].param_groups[0]["params"]), 4 * SMALL.n_layer)
        losses = []
        for _ in range(30):
            logits, _ = m(x[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 300), x[:, 1:].reshape(-1))
            for o in opts:
                o.zero_grad()
            loss.backward()
            for o in opts:
                o.step()
            losses.append(loss.item())
        self.assertLess(losses[-1], losses[0] - 1.0)


class ComparisonTest(unittest.TestCase):
    def test_schedule_warms_up_holds_and_cools_down(self):
        m = [L.schedule(s, 100, 10, 0.2, 0.1) for s in range(100)]
        self.assertAlmostEqual(m[0], 0.1)
        self.assertEqual(m[50], 1.0)
        self.assertAlmostEqual(m[80], 1.0)
        self.assertLess(m[99], 0.2)
        self.assertTrue(all(a >= b for a, b in zip(m[80:], m[81:])))

    def test_baseline_tokens_to_reach_a_runs_stable_phase_loss(self):
        def run(losses):
            return {"steps": 100, "curve": [{"step": 10 * (i + 1), "tokens": 1000 * (i + 1), "loss": v}
                                            for i, v in enumerate(losses)]}
        base = run([9, 8, 7, 6, 5, 4, 3, 2, 1, 0.5])
        faster = run([8, 7, 6, 5, 4, 3, 2, 1, 0.5, 0.2])
        tokens, loss, need = L.stable_phase_match(base, faster, cooldown=0.15)
        # faster's last stable record is step 80 (tokens 8000); smoothed over 5 records: mean(5,4,3,2,1)
        self.assertEqual(tokens, 8000)
        self.assertAlmostEqual(loss, 3.0)
        # base's smoothed curve reaches 3.0 only at its 9th record, in its cooldown: a lower bound
        self.assertAlmostEqual(need, 9000)
        tokens, loss, need = L.stable_phase_match(base, run([8, 6, 4, 2, 1, 0.5, 0.3, 0.2, 0.1, 0.1]), 0.15)
        self.assertIsNone(need)
        tokens, loss, need = L.stable_phase_match(faster, base, cooldown=0.15)
        self.assertAlmostEqual(loss, 4.0)
        self.assertAlmostEqual(need, 7000)


if __name__ == "__main__":
    unittest.main()
