"""What data augmentation costs an epoch: the MNIST CNN of the `tf2` article trained plain and with augmentation.

    python benchmarks/augmentation_overhead.py              # 6400 images an epoch, batch 128, 5 turns
    python benchmarks/augmentation_overhead.py --quick      # 64 images, batch 32, 1 turn: checks the script runs

The same random rotation (up to 18 degrees), shift (up to 10 % each way) and zoom (up to 10 %), three
ways, each an epoch of ``fit``, against the plain epoch:

    plain        fit(x, y)
    layers       fit(x, y) of the model with RandomRotation(0.05), RandomTranslation(0.1, 0.1), RandomZoom(0.1)
                 before its first convolution: Keras 3's augmentation, on in training only
    reference    the same, the layers computing with the textbook warp (impl='naive'): what the fast twin saves
    generator    fit(ImageDataGenerator(rotation_range=18, width/height_shift_range=0.1, zoom_range=0.1)
                 .flow(x, y, batch_size)): Keras 2's augmentation, one composed move per image
    dataset      fit(tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n).batch(b)
                 .map(lambda x, y: (augment(x, training=True), y)).prefetch(AUTOTUNE)), ``augment`` a
                 Sequential of the three layers: the tf.data tutorials' pipeline

Timed in turns: each variant trains one epoch, then the next, the order rotating every turn, so all
of them see the same machine state. Printed: each variant's median seconds per epoch and the median
over turns of its ratio to the plain epoch of the same turn. Then the three layers alone on one batch
(forward only: nothing flows back into the images), fast twin and reference warp in turns.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seed_models  # noqa: E402
import tinynet  # noqa: E402
from tinynet import layers  # noqa: E402
from tinynet.keras.preprocessing.image import ImageDataGenerator  # noqa: E402


def augmentations(impl="fast"):
    front = [layers.RandomRotation(0.05), layers.RandomTranslation(0.1, 0.1), layers.RandomZoom(0.1)]
    for layer in front:
        layer.impl = impl
    return front


def variants(x, y, batch_size):
    """name -> a function training one epoch on (x, y)."""
    def cnn(front=()):
        return seed_models.tf2_cnn(front, input_shape=(28, 28, 1))

    plain, augmented, reference, by_generator, by_dataset = (
        cnn(), cnn(augmentations()), cnn(augmentations("naive")), cnn(), cnn())
    datagen = ImageDataGenerator(rotation_range=18, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1)
    augment = tinynet.Sequential(augmentations())
    dataset = (tinynet.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)
               .map(lambda images, labels: (augment(images, training=True), labels))
               .prefetch(tinynet.data.AUTOTUNE))
    return {"plain": lambda: plain.fit(x, y, batch_size=batch_size, epochs=1, verbose=0),
            "layers": lambda: augmented.fit(x, y, batch_size=batch_size, epochs=1, verbose=0),
            "reference": lambda: reference.fit(x, y, batch_size=batch_size, epochs=1, verbose=0),
            "generator": lambda: by_generator.fit(datagen.flow(x, y, batch_size=batch_size), epochs=1, verbose=0),
            "dataset": lambda: by_dataset.fit(dataset, epochs=1, verbose=0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=6400, help="images in an epoch")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="64 images, batch 32, 1 turn: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.turns, args.batch_size = 64, 1, 32
    x, y, source = seed_models.mnist_or_random(args.samples)
    x = x[..., None]
    tinynet.set_random_seed(0)
    runs = variants(x, y, args.batch_size)
    for run in runs.values():
        run()                                                   # warm up (and build)
    times = {name: [] for name in runs}
    names = list(runs)
    for turn in range(args.turns):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    print(f"tf2 CNN on {len(x)} {source} images, batch {args.batch_size}, {args.turns} turns "
          f"(median s/epoch; ratio: median over turns of variant / plain)")
    for name in names:
        ratio = statistics.median(t / p for t, p in zip(times[name], times["plain"]))
        print(f"{name:10s} {statistics.median(times[name]):8.3f} s/epoch   x{ratio:.2f}")
    batch = x[:args.batch_size]
    fronts = {impl: augmentations(impl) for impl in ("fast", "naive")}
    alone = {impl: [] for impl in fronts}
    for turn in range(3 * args.turns):
        for impl, front in fronts.items():
            start = time.perf_counter()
            images = batch
            for layer in front:
                images = layer(images).value
            alone[impl].append(time.perf_counter() - start)
    print(f"the three layers alone on a batch of {len(batch)}: "
          + ", ".join(f"{impl} {1000 * statistics.median(alone[impl]):.2f} ms" for impl in fronts))


if __name__ == "__main__":
    main()
