"""How much faster the fast ops are than their textbook references (``impl='naive'``).

The references are tinynet/core/ops/conv.py, pooling.py and normalization.py; the fast twins,
with the same signatures, are tinynet/fast/conv.py, pooling.py and normalization.py.

    python benchmarks/naive_vs_fast.py            # batch 8: 8x14x14x8 images
    python benchmarks/naive_vs_fast.py --quick    # batch 2: checks the script runs

Measured 2026-11-28 on the shared 2-core machine (``--batch-size 64``, x: (64, 14, 14, 8)):
Conv2D 10.2 ms naive vs 4.9 ms fast (2.1x), MaxPooling2D 2.6 vs 0.35 ms (7.4x),
BatchNormalization 3.3 vs 0.40 ms (8.3x); at the default batch 8: 1.6x, 4.1x, 4.4x.

Times one training-mode forward + backward, float32: the best of 10 runs of the fast layer and of
2 runs of the naive one (the best, because other work on the machine only ever adds time).
"""
import argparse
import time

import numpy as np

from tinynet.layers import BatchNormalization, Conv2D, MaxPooling2D


def seconds(layer, x, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        y = layer(x, training=True)
        layer.backward(np.ones_like(y))
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    n, repeats = (2, 1) if args.quick else (args.batch_size, 5)
    x = np.random.default_rng(0).standard_normal((n, 14, 14, 8)).astype(np.float32)
    cases = [("Conv2D(16, 3, padding='same')", lambda impl: Conv2D(16, 3, padding="same", impl=impl)),
             ("MaxPooling2D(2)", lambda impl: MaxPooling2D(2, impl=impl)),
             ("BatchNormalization()", lambda impl: BatchNormalization(impl=impl))]
    print(f"forward + backward on x: {x.shape} float32")
    for name, make in cases:
        fast, naive = seconds(make("fast"), x, 5 * repeats), seconds(make("naive"), x, repeats)
        print(f"{name:<32} naive {1e3 * naive:9.2f} ms   fast {1e3 * fast:7.3f} ms   "
              f"fast is {naive / fast:7.1f}x faster")


if __name__ == "__main__":
    main()
