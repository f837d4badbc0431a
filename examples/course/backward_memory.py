"""The memory a backward pass needs: what every layer keeps from its forward until its backward.

    python examples/course/backward_memory.py                 # the README's MLP and the tf2 CNN, batch 128
    python examples/course/backward_memory.py --batch 32

Backprop cannot start until the loss is known, so every layer's cache -- its input x for a
Dense layer, im2col's cols for a convolution, the pooled windows, batch norm's x and
statistics, each activation's output -- is alive at once, at the end of the forward. This
script runs each layer's own forward once, in training mode, and adds up the bytes of the
arrays in its ``cache`` (an array shared by two caches counted once). docs/training-maths.md
quotes its output.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "benchmarks"))

import tinynet  # noqa: E402
from seed_models import cca_mlp, tf2_cnn  # noqa: E402


def arrays(value, seen):
    """The NumPy arrays inside a cache (tuples, NamedTuples, nested), each once."""
    if isinstance(value, np.ndarray):
        if id(value) not in seen:
            seen.add(id(value))
            yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from arrays(item, seen)


def cache_bytes(model, batch):
    """``[(layer name, bytes its forward keeps for backward)]`` for one training forward of ``batch`` samples."""
    tinynet.set_random_seed(0)
    x = np.random.default_rng(0).random((batch,) + tuple(model.input_shape[1:])).astype(np.float32)
    seen, kept = set(), []
    for layer in model.layers:           # each layer's own forward: no fused op, so every cache is the layer's
        x = layer.forward(x, training=True)
        parts = [layer.cache, getattr(getattr(layer, "activation", None), "cache", None)]
        kept.append((layer.name, sum(a.nbytes for part in parts for a in arrays(part, seen))))
    return kept


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args(argv)
    totals = {}
    for name, build in (("cca MLP 784-512-512-10", cca_mlp), ("tf2 CNN", tf2_cnn)):
        model = build()
        kept = cache_bytes(model, args.batch)
        weights = sum(p.data.nbytes for p in model.weights)
        total = sum(size for _, size in kept)
        totals[name] = (total, weights)
        print(f"{name}, batch {args.batch}: caches {total / 2**20:.1f} MiB, weights {weights / 2**20:.2f} MiB")
        for layer, size in kept:
            print(f"    {layer:24s} {size / 2**20:8.2f} MiB")
    return totals


if __name__ == "__main__":
    main()
