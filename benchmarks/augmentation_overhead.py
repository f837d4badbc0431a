"""What data augmentation costs an epoch: the MNIST CNN of the `tf2` article and the MLP of the `cca` article
(784-512-512-10, Adam, batch 128), each trained plain and with augmentation.

    python benchmarks/augmentation_overhead.py              # 6400 images an epoch, batch 128, 5 turns, both models
    python benchmarks/augmentation_overhead.py --model cca --turns 9
    OPENBLAS_NUM_THREADS=1 python benchmarks/augmentation_overhead.py --model cca --clock cpu --turns 9
    python benchmarks/augmentation_overhead.py --quick      # 64 images, batch 32, 1 turn: checks the script runs

The same random rotation, shift (up to 10 % each way) and zoom (up to 10 %), three ways, each an
epoch of ``fit``, against the plain epoch:

    plain        fit(x, y)
    layers       fit(x, y) of the model with RandomRotation(0.05), RandomTranslation(0.1, 0.1), RandomZoom(0.1)
                 before its first convolution (the MLP: before its Flatten): Keras 3's augmentation, on in
                 training only
    reference    (CNN) the same, the layers computing with the textbook warp (impl='naive'): what the fast
                 twin saves
    generator    fit(ImageDataGenerator(rotation_range=18 (MLP: 10), width/height_shift_range=0.1,
                 zoom_range=0.1).flow(x, y, batch_size)): Keras 2's augmentation, one composed move per image
    dataset      fit(tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n).batch(b)
                 .map(lambda x, y: (augment(x, training=True), y)).prefetch(AUTOTUNE)), ``augment`` a
                 Sequential of the three layers: the tf.data tutorials' pipeline
    plain dataset  (MLP) the same pipeline without the map, on the flat images: what feeding ``fit`` from a
                 dataset costs by itself

Timed in turns: each variant trains one epoch, then the next, the order rotating every turn, so all
of them see the same machine state. Printed: the load average, each variant's median seconds per
epoch and the median over turns of its ratio to the plain epoch of the same turn. Then the three
layers alone on one batch (forward only: nothing flows back into the images), fast twin and
reference warp in turns.
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


def cnn_variants(x, y, batch_size):
    """name -> a function training the tf2 CNN one epoch on (x, y)."""
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


def mlp_variants(x, y, batch_size):
    """name -> a function training the cca MLP one epoch: on the flat images (plain, plain dataset), on the
    (28, 28, 1) images augmented (layers, generator, dataset)."""
    flat = x.reshape(len(x), -1)
    plain, augmented, by_generator, by_dataset, by_plain_dataset = (
        seed_models.cca_mlp(), seed_models.cca_mlp(augmentations(), input_shape=(28, 28, 1)),
        seed_models.cca_mlp(input_shape=(28, 28, 1)), seed_models.cca_mlp(input_shape=(28, 28, 1)),
        seed_models.cca_mlp())
    datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1)
    augment = tinynet.Sequential(augmentations())
    dataset = (tinynet.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)
               .map(lambda images, labels: (augment(images, training=True), labels))
               .prefetch(tinynet.data.AUTOTUNE))
    plain_dataset = (tinynet.data.Dataset.from_tensor_slices((flat, y)).shuffle(len(x)).batch(batch_size)
                     .prefetch(tinynet.data.AUTOTUNE))
    return {"plain": lambda: plain.fit(flat, y, batch_size=batch_size, epochs=1, verbose=0),
            "layers": lambda: augmented.fit(x, y, batch_size=batch_size, epochs=1, verbose=0),
            "generator": lambda: by_generator.fit(datagen.flow(x, y, batch_size=batch_size), epochs=1, verbose=0),
            "dataset": lambda: by_dataset.fit(dataset, epochs=1, verbose=0),
            "plain dataset": lambda: by_plain_dataset.fit(plain_dataset, epochs=1, verbose=0)}


def in_turns(runs, turns, clock=time.perf_counter):
    """Each run's seconds, ``turns`` times, the order rotating every turn (after one warm-up run each)."""
    for run in runs.values():
        run()                                                   # warm up (and build)
    times = {name: [] for name in runs}
    names = list(runs)
    for turn in range(turns):
        for name in names[turn % len(names):] + names[:turn % len(names)]:
            start = clock()
            runs[name]()
            times[name].append(clock() - start)
    return times


def report(title, times):
    print(title)
    for name, each in times.items():
        ratio = statistics.median(t / p for t, p in zip(each, times["plain"]))
        print(f"{name:14s} {statistics.median(each):8.3f} s/epoch   x{ratio:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=6400, help="images in an epoch")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--model", choices=("tf2", "cca", "both"), default="both")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: this process's CPU time (with OPENBLAS_NUM_THREADS=1: the work done, not the "
                             "waits for a core of a crowded machine)")
    parser.add_argument("--quick", action="store_true", help="64 images, batch 32, 1 turn: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.turns, args.batch_size = 64, 1, 32
    x, y, source = seed_models.mnist_or_random(args.samples)
    x = x[..., None]
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
    how = (f"on {len(x)} {source} images, batch {args.batch_size}, {args.turns} turns "
           "(median s/epoch; ratio: median over turns of variant / plain)")
    for name, variants in (("tf2 CNN", cnn_variants), ("cca MLP", mlp_variants)):
        if args.model in (name.split()[0], "both"):
            tinynet.set_random_seed(0)
            clock = time.process_time if args.clock == "cpu" else time.perf_counter
            report(f"{name} {how}, {args.clock} clock", in_turns(variants(x, y, args.batch_size), args.turns, clock))
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
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} (1, 5, 15 min)")
    print(f"the three layers alone on a batch of {len(batch)}: "
          + ", ".join(f"{impl} {1000 * statistics.median(alone[impl]):.2f} ms" for impl in fronts))


if __name__ == "__main__":
    main()
