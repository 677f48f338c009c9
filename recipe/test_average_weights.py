"""Tests of average_weights.py: the mean is element-wise and in fp32, its file loads as a model, and
checkpoints of different shapes are refused. CPU only, a second.

usage: /usr/bin/python3 -m unittest recipe/test_average_weights.py -v
"""
import os
import subprocess
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from average_weights import average_state  # noqa: E402
from gpt import GPT, GPTConfig  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = GPTConfig(vocab_size=300, n_positions=64, n_layer=2, n_head=4, n_embd=64)


def checkpoint(seed, cfg=SMALL):
    torch.manual_seed(seed)
    return {"config": cfg.to_dict(), "model": {k: v.half() for k, v in GPT(cfg).state_dict().items()}}


class AverageWeightsTest(unittest.TestCase):
    def test_mean_is_element_wise_in_fp32(self):
        a = {"w": torch.tensor([1.0, 2.0], dtype=torch.float16)}
        b = {"w": torch.tensor([2.0, 2.001953125], dtype=torch.float16)}
        c = {"w": torch.tensor([4.0, 2.001953125], dtype=torch.float16)}
        mean = average_state([a, b, c])
        self.assertEqual(mean["w"].dtype, torch.float32)
        # 2.0013 is not an fp16 value: summing in fp16 would round it away
        self.assertTrue(torch.allclose(mean["w"], torch.tensor([7 / 3, (2.0 + 2 * 2.001953125) / 3])))

    def test_different_shapes_are_refused(self):
        wide = GPTConfig(vocab_size=300, n_positions=64, n_layer=2, n_head=4, n_embd=128)
        with self.assertRaisesRegex(ValueError, "shape"):
            average_state([checkpoint(0)["model"], checkpoint(0, wide)["model"]])
        deep = GPTConfig(vocab_size=300, n_positions=64, n_layer=3, n_head=4, n_embd=64)
        with self.assertRaisesRegex(ValueError, "different parameters"):
            average_state([checkpoint(0)["model"], checkpoint(0, deep)["model"]])

    def test_the_written_soup_loads_and_lies_between_its_parents(self):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for seed in (1, 2):
                paths.append(os.path.join(d, f"{seed}.pt"))
                torch.save(checkpoint(seed), paths[-1])
            out = os.path.join(d, "soup.pt")
            subprocess.run([sys.executable, os.path.join(HERE, "average_weights.py"), "--weights", *paths,
                            "--out", out], check=True, capture_output=True)
            soup = torch.load(out, map_location="cpu")
            self.assertEqual(soup["config"], SMALL.to_dict())
            m = GPT(GPTConfig(**soup["config"]))
            m.load_state_dict({k: v.float() for k, v in soup["model"].items()})
            a, b = (torch.load(p, map_location="cpu")["model"] for p in paths)
            for k, v in soup["model"].items():
                self.assertEqual(v.dtype, torch.float16)
                want = (a[k].float() + b[k].float()) / 2
                self.assertTrue(torch.allclose(v.float(), want, atol=1e-3), k)


if __name__ == "__main__":
    unittest.main()
