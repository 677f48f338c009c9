"""Tests of make_heldout_holes.py's choice of lines: a hole is a line of code, never a comment, a
bracket alone, or a line of a docstring (Python), and its record puts the text around it as
HumanEval-Infilling does.

usage: /usr/bin/python3 -m unittest recipe/test_heldout_holes.py -v
"""
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_heldout_holes as holes  # noqa: E402

PY = '''"""Module docstring
spanning lines = not code
"""
import os


def area(width, height):
    """Return the area.

    width * height, as documented
    """
    # the product
    result = width * height
    return result
'''

TS = """// a comment
export function area(width: number, height: number): number {
  /* block */
  const result = width * height;
  return result;
}
"""


def lines_chosen(text, lang):
    record = {"text": text, "lang": lang, "path": "f"}
    return sorted(h["canonical_solution"] for h in holes.holes_of(record, random.Random(0), per_file=100))


class HoleLinesTest(unittest.TestCase):
    def test_python_code_lines_only(self):
        self.assertEqual(
            lines_chosen(PY, "py"),
            ["    result = width * height\n", "    return result\n", "def area(width, height):\n", "import os\n"],
        )

    def test_typescript_code_lines_only(self):
        self.assertEqual(
            lines_chosen(TS, "ts"),
            [
                "  const result = width * height;\n",
                "  return result;\n",
                "export function area(width: number, height: number): number {\n",
            ],
        )

    def test_a_record_is_the_text_around_the_line(self):
        record = {"text": PY, "lang": "py", "path": "m.py"}
        for hole in holes.holes_of(record, random.Random(1), per_file=3):
            self.assertEqual(hole["prompt"] + hole["canonical_solution"] + hole["suffix"], PY)
            self.assertTrue(hole["task_id"].startswith("heldout/py/m.py/L"))


if __name__ == "__main__":
    unittest.main()
