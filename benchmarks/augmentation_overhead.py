"""What data augmentation costs a training step: the cca MLP (784-512-512-10) on MNIST, plain and augmented.

    python benchmarks/augmentation_overhead.py              # batch 128, 20 steps a turn, 7 turns
    python benchmarks/augmentation_overhead.py --quick      # a few steps: checks the script runs

Four ways to train the same MLP on 28x28 images, timed in turns (each variant runs ``--steps`` steps,
then the next, the order rotating every turn) so all of them see the same machine state:

    plain        fit on the arrays (a Flatten, then the MLP)
    layers       fit with RandomRotation(0.05), RandomTranslation(0.1, 0.1), RandomZoom(0.1) before the
                 Flatten: Keras 3's augmentation, on in training only
    generator    ImageDataGenerator(rotation_range=18, width/height_shift_range=0.1, zoom_range=0.1).flow,
                 read by tinynet.core.data_adapter.EpochIterator, one train_on_batch per batch
    dataset      tf.data.Dataset.from_tensor_slices(...).shuffle(...).batch(...), read the same way (the
                 per-batch loop without augmentation: what 'generator' costs beyond the augmentation itself)

Printed: each variant's median milliseconds per step and the median over turns of its ratio to 'plain'.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seed_models  # noqa: E402
import tinynet  # noqa: E402
from tinynet import layers  # noqa: E402
from tinynet.core.data_adapter import EpochIterator  # noqa: E402
from tinynet.keras.preprocessing.image import ImageDataGenerator  # noqa: E402


def mlp(front):
    """The cca MLP after ``front`` (a list of layers on (28, 28, 1) images ending in Flatten)."""
    model = tinynet.Sequential([layers.Input(shape=(28, 28, 1)), *front,
                                layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
                                layers.Dense(10, activation="softmax")])
    model.compile(tinynet.optimizers.Adam(learning_rate=1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def variants(x, y, batch_size):
    """name -> a function training ``steps`` steps on the next batches."""
    plain = mlp([layers.Flatten()])
    augmented = mlp([layers.RandomRotation(0.05), layers.RandomTranslation(0.1, 0.1), layers.RandomZoom(0.1),
                     layers.Flatten()])
    by_generator, by_dataset = mlp([layers.Flatten()]), mlp([layers.Flatten()])
    datagen = ImageDataGenerator(rotation_range=18, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1)
    flow = EpochIterator(datagen.flow(x, y, batch_size=batch_size))
    dataset = EpochIterator(tinynet.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)
                            .repeat(), steps_per_epoch=10 ** 9)
    streams = {"generator": iter(()), "dataset": iter(())}

    def fit(model):
        def run(steps):
            start = int(tinynet.utils.rng().integers(len(x) - steps * batch_size + 1))
            rows = slice(start, start + steps * batch_size)
            model.fit(x[rows], y[rows], batch_size=batch_size, epochs=1, verbose=0)
        return run

    def loop(model, name, iterator):
        def run(steps):
            for _ in range(steps):
                batch = next(streams[name], None)
                if batch is None:                               # a new epoch of the Sequence
                    streams[name] = iterator.epoch()
                    batch = next(streams[name])
                _, (xb, yb, _) = batch
                model.train_on_batch(xb, yb)
        return run

    return {"plain": fit(plain), "layers": fit(augmented), "generator": loop(by_generator, "generator", flow),
            "dataset": loop(by_dataset, "dataset", dataset)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="training steps per variant per turn")
    parser.add_argument("--turns", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2 steps, 2 turns, 2000 images: checks the script runs")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.turns = 2, 2
    x, y, source = seed_models.mnist_or_random(2000 if args.quick else 60000)
    x = x[..., None]
    tinynet.set_random_seed(0)
    runs = variants(x, y, args.batch_size)
    for run in runs.values():
        run(1)                                                  # warm up
    times = {name: [] for name in runs}
    names = list(runs)
    for turn in range(args.turns):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            start = time.perf_counter()
            runs[name](args.steps)
            times[name].append((time.perf_counter() - start) / args.steps)
    print(f"cca MLP on {source}, batch {args.batch_size}, {args.steps} steps x {args.turns} turns "
          f"(median ms/step; ratio: median over turns of variant / plain)")
    for name in names:
        ratio = statistics.median(t / p for t, p in zip(times[name], times["plain"]))
        print(f"{name:10s} {1000 * statistics.median(times[name]):8.1f} ms/step   x{ratio:.2f}")


if __name__ == "__main__":
    main()
