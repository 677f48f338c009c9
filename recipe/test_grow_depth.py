"""Tests of grow_depth.py: the grown model computes what the original did, its old parameters get
the same gradients and keep their AdamW state, and its new blocks learn. CPU only, a few seconds.

usage: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 -m unittest recipe/test_grow_depth.py -v
"""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train  # noqa: E402
from grow_depth import grow_checkpoint, grown_layout  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402

SMALL = GPTConfig(vocab_size=300, n_positions=64, n_layer=3, n_head=4, n_embd=64)


def trained_checkpoint():
    """A small model after a few AdamW steps, saved as train.py's save_stable does (bf16 moments)."""
    torch.manual_seed(0)
    m = GPT(SMALL)
    tc = train.TrainConfig()
    opt = torch.optim.AdamW(train.adamw_groups(m.parameters(), tc), lr=1e-2, **train.ADAMW_ARGS)
    for _ in range(3):
        x = torch.randint(0, 300, (2, 16))
        loss = train.loss_fn(m, x[:, :-1], x[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    osd = opt.state_dict()
    osd["state"] = {i: {k: (v.to(torch.bfloat16) if k != "step" else v) for k, v in st.items()}
                    for i, st in osd["state"].items()}
    return {"config": SMALL.to_dict(), "model": {k: v.half() for k, v in m.state_dict().items()},
            "optimizer": osd, "steps": 3, "tokens": 96}


def load(ck):
    m = GPT(GPTConfig(**ck["config"]))
    m.load_state_dict({k: v.float() for k, v in ck["model"].items()})
    return m


class GrowDepthTest(unittest.TestCase):
    def test_layout_inserts_a_copy_above_each_named_block(self):
        self.assertEqual(grown_layout(4, [1, 3]), [(0, False), (1, False), (1, True), (2, False), (3, False), (3, True)])

    def test_grown_model_computes_the_same_logits_with_and_without_the_kv_cache(self):
        ck = trained_checkpoint()
        old, grown = load(ck).eval(), grow_checkpoint(ck, [0, 2])
        self.assertEqual(grown["config"]["n_layer"], 5)
        new = load(grown).eval()
        x = torch.randint(0, 300, (2, 20))
        with torch.no_grad():
            want, _ = old(x)
            got, _ = new(x)
            a, past = new(x[:, :12])
            b, _ = new(x[:, 12:], past=past)
        self.assertLess((got - want).abs().max().item(), 1e-4)
        self.assertLess((torch.cat([a, b], 1) - want).abs().max().item(), 1e-4)
        self.assertEqual((grown["steps"], grown["tokens"]), (3, 96))

    def test_old_parameters_keep_their_gradients_and_adamw_state_and_new_blocks_learn(self):
        ck = trained_checkpoint()
        grown = grow_checkpoint(ck, [1])
        old, new = load(ck), load(grown)
        x = torch.randint(0, 300, (2, 16))
        for m in (old, new):
            train.loss_fn(m, x[:, :-1], x[:, 1:]).backward()
        g_old = dict(old.named_parameters())
        g_new = dict(new.named_parameters())
        # grown layout: h.0 <- h.0, h.1 <- h.1, h.2 = copy of h.1 (new), h.3 <- h.2
        for new_name, old_name in (("h.0.c_attn.weight", "h.0.c_attn.weight"), ("h.3.c_fc.weight", "h.2.c_fc.weight"),
                                   ("wte.weight", "wte.weight"), ("ln_f.weight", "ln_f.weight")):
            torch.testing.assert_close(g_new[new_name].grad, g_old[old_name].grad, atol=1e-6, rtol=1e-4)
        self.assertGreater(g_new["h.2.c_proj.weight"].grad.abs().max().item(), 0.0)
        self.assertGreater(g_new["h.2.c_fc_proj.weight"].grad.abs().max().item(), 0.0)

        tc = train.TrainConfig()
        opt = torch.optim.AdamW(train.adamw_groups(new.parameters(), tc), lr=1e-2, **train.ADAMW_ARGS)
        opt.load_state_dict(grown["optimizer"])
        old_opt = torch.optim.AdamW(train.adamw_groups(old.parameters(), tc), lr=1e-2, **train.ADAMW_ARGS)
        old_opt.load_state_dict(ck["optimizer"])
        for new_name, old_name in (("h.3.c_attn.bias", "h.2.c_attn.bias"), ("wpe.weight", "wpe.weight")):
            s_new, s_old = opt.state[g_new[new_name]], old_opt.state[g_old[old_name]]
            torch.testing.assert_close(s_new["exp_avg"], s_old["exp_avg"])
            torch.testing.assert_close(s_new["exp_avg_sq"], s_old["exp_avg_sq"])
            self.assertEqual(int(s_new["step"]), 3)
        self.assertNotIn(g_new["h.2.c_attn.weight"], opt.state)
        opt.step()
        self.assertGreater(g_new["h.2.c_proj.weight"].detach().abs().max().item(), 0.0)

    def test_rejects_blocks_that_do_not_exist(self):
        ck = trained_checkpoint()
        with self.assertRaises(AssertionError):
            grow_checkpoint(ck, [3])


if __name__ == "__main__":
    unittest.main()
