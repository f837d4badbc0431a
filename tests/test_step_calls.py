"""benchmarks/step_calls.py counts what it says: the Python calls of each phase of a fit step."""
import os
import sys

import numpy as np

from tinynet import optimizers
from tinynet.core.optimizers.optimizer import FAST_STEPS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import step_calls  # noqa: E402


def random_images(samples):
    rng = np.random.default_rng(0)
    return rng.random((samples, 28, 28), dtype=np.float32), rng.integers(0, 10, samples), "random data"


def test_the_flat_optimizer_step_takes_fewer_calls_than_the_twin_per_parameter(monkeypatch):
    monkeypatch.setattr(step_calls.seed_models, "mnist_or_random", random_images)  # no data set to read
    flat, _ = step_calls.count("cca", batch_size=8, steps=2)
    monkeypatch.delitem(FAST_STEPS, optimizers.Adam)
    per_parameter, functions = step_calls.count("cca", batch_size=8, steps=2)
    assert {"forward", "loss", "backward", "optimizer", "metrics"} <= set(flat)
    # The per-parameter path calls the rule's twin once per parameter: 3 Dense layers, kernel and bias each.
    assert functions[("optimizer", "call", "adam_update")] == 6
    assert per_parameter["optimizer"] > flat["optimizer"] + 6 * 5
    for phase in ("forward", "loss", "backward"):
        assert per_parameter[phase] == flat[phase]
