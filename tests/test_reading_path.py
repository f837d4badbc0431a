"""The reading path (docs/reading-guide.md's headings) is mostly maths, and the classifier that says so can fail."""
import sys
import textwrap

import pytest

from conftest import REPO

sys.path.insert(0, f"{REPO}/benchmarks")
import reading_path  # noqa: E402


def classes(source):
    return {text.strip(): kind for _, kind, text in reading_path.classify_file(textwrap.dedent(source))}


def test_the_classifier_sorts_a_small_layer_as_its_rules_say():
    got = classes('''
        """A docstring is not code."""
        import numpy as np


        class Scale(Layer):
            """Neither is this."""

            def forward(self, x, training=False):
                self.cache = (x,)
                return x * self.k

            def backward(self, dout):
                # a comment is not code either
                return dout * self.k

            def __init__(self, k, lr=None, **kwargs):
                super().__init__(**kwargs)
                self.k = check_float(k, "k")
                if k == 0:
                    raise ValueError("k=0")
                self.name = "scale"

            def get_config(self):
                return {"k": self.k}


        def im2row_product(x, w):
            rows = x.reshape(len(x), -1)
            return rows @ w


        def name_of(layer):
            return layer.name
        ''')
    assert got == {
        "import numpy as np": "plumbing",
        "class Scale(Layer):": "plumbing",
        "def forward(self, x, training=False):": "maths", "self.cache = (x,)": "maths",
        "return x * self.k": "maths",
        "def backward(self, dout):": "maths", "return dout * self.k": "maths",
        "def __init__(self, k, lr=None, **kwargs):": "keras", "super().__init__(**kwargs)": "keras",
        'self.k = check_float(k, "k")': "checks", "if k == 0:": "checks", 'raise ValueError("k=0")': "checks",
        'self.name = "scale"': "plumbing",
        "def get_config(self):": "keras", 'return {"k": self.k}': "keras",
        # a function outside a class that does arithmetic is the maths, every line of it
        "def im2row_product(x, w):": "maths", "rows = x.reshape(len(x), -1)": "maths", "return rows @ w": "maths",
        "def name_of(layer):": "plumbing", "return layer.name": "plumbing",
    }


def test_the_headings_name_files_and_units():
    guide = ("## 1. Dense: `tinynet/core/layers/core.py` `Dense.forward`, then `base.py` `Parameter`\n"
             "text naming `tinynet/io/formats.py` is not on the path\n## Then: `tinynet/tools/trace.py`\n")
    assert reading_path.reading_path(guide) == {"tinynet/core/layers/core.py": ["Dense.forward"],
                                                "tinynet/core/layers/base.py": ["Parameter"]}


def test_a_unit_the_guide_names_must_exist():
    with pytest.raises(SystemExit, match="Dense.nothing"):
        reading_path.classify_file("class Dense:\n    def forward(self):\n        return 1\n", ["Dense.nothing"])


def test_the_reading_path_is_the_core_and_at_least_70_percent_maths():
    counts = reading_path.measure()
    assert len(counts) >= 10
    assert all(path.startswith("tinynet/core/") for path in counts), sorted(counts)
    share = reading_path.share(counts)
    assert share >= 0.70, reading_path.print_table(counts, "this checkout") or share
