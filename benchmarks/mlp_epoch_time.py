"""Seconds per epoch of the ``cca`` MLP (the Cambridge Coding Academy MNIST tutorial, docs/articles.md):
784-512-512-10, Adam, batch 128.

    python benchmarks/mlp_epoch_time.py            # 54000 MNIST samples, 5 epochs, median
    python benchmarks/mlp_epoch_time.py --quick    # 5000 samples, 2 epochs: checks the script runs

Data is random when MNIST is not available (speed does not depend on the pixels).
"""
import argparse
import platform
import statistics

import numpy as np

import tinynet
from tinynet import callbacks

from seed_models import cca_mlp, mnist_or_random


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    samples, epochs = (5000, 2) if args.quick else (54000, args.epochs)

    tinynet.set_random_seed(0)
    x, y, source = mnist_or_random(samples)
    x = x.reshape(len(x), 784)
    model = cca_mlp()
    timer = callbacks.EpochTimer()
    model.fit(x, y, batch_size=args.batch_size, epochs=epochs, verbose=0, callbacks=[timer])
    median = statistics.median(timer.seconds)
    print(f"cca MLP, {len(x)} samples of {source}, batch {args.batch_size}, NumPy {np.__version__}, "
          f"{platform.processor() or platform.machine()}")
    print("seconds per epoch: " + ", ".join(f"{s:.2f}" for s in timer.seconds))
    print(f"median: {median:.2f} s/epoch; a 20-epoch run takes about {20 * median:.0f} s")
    return median


if __name__ == "__main__":
    main()
