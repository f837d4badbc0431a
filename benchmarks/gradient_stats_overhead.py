"""What ``GradientStats`` costs: seconds per epoch of the cca MLP (784-512-512-10, Adam, batch 128)
with and without it, and the time spent inside its hooks.

    python benchmarks/gradient_stats_overhead.py            # 25600 random samples, 3 rounds
    python benchmarks/gradient_stats_overhead.py --quick    # 2560 samples, 1 round: checks the script runs

Random data: the cost does not depend on the pixels. Rounds alternate with / without, and the
medians are compared, so a busy machine slows both alike.
"""
import argparse
import statistics
import time

import numpy as np

import tinynet
from tinynet import layers
from tinynet.callbacks import GradientStats
from tinynet.models import Sequential


class TimedStats(GradientStats):
    """GradientStats that also adds up the seconds spent in its per-batch hooks."""

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.seconds = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        start = time.perf_counter()
        super().on_train_batch_begin(batch, logs)
        self.seconds += time.perf_counter() - start

    def on_train_batch_end(self, batch, logs=None):
        start = time.perf_counter()
        super().on_train_batch_end(batch, logs)
        self.seconds += time.perf_counter() - start


def cca_mlp():
    model = Sequential([layers.Dense(512, activation="relu", input_shape=(784,)), layers.Dropout(0.2),
                        layers.Dense(512, activation="relu"), layers.Dropout(0.2),
                        layers.Dense(10, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    samples, rounds = (2560, 1) if args.quick else (25600, 3)
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = tinynet.to_categorical(rng.integers(0, 10, samples), 10)
    plain, with_stats, hooks = [], [], []
    for _ in range(rounds):
        for use_stats in (False, True):
            tinynet.set_random_seed(0)
            model = cca_mlp()
            stats = TimedStats(every=args.every)
            start = time.perf_counter()
            model.fit(x, y, batch_size=128, epochs=1, verbose=0, callbacks=[stats] if use_stats else [])
            seconds = time.perf_counter() - start
            (with_stats if use_stats else plain).append(seconds)
            if use_stats:
                hooks.append(stats.seconds)
    base, stat, hook = (statistics.median(v) for v in (plain, with_stats, hooks))
    print(f"cca MLP, {samples} samples, batch 128, every={args.every}: without {base:.3f} s/epoch, "
          f"with GradientStats {stat:.3f} s/epoch")
    print(f"time inside GradientStats' hooks: {hook:.3f} s = {100 * hook / base:.1f}% of an epoch")


if __name__ == "__main__":
    main()
