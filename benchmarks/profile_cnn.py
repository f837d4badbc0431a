"""Seconds per epoch of the ``tf2`` MNIST CNN (the TensorFlow 2 article's, docs/articles.md), and where one
epoch's time goes.

    python benchmarks/profile_cnn.py                      # 60000 samples, batch 32 and 128, 3 epochs each
    python benchmarks/profile_cnn.py --epochs 5 --batch-sizes 128
    python benchmarks/profile_cnn.py --quick              # 2000 samples: checks the script runs
    python benchmarks/profile_cnn.py --memory-only        # peak memory of predict / evaluate, 10000 images

The memory figure is the peak resident set size of a fresh process that builds the model
and runs predict and evaluate on 10000 images with batch_size=10000 (Keras would hold the
whole batch at once; tinynet splits it so no layer output exceeds 64 MB).

The model is Reshape -> [Conv2D(16, 3, same) -> BatchNormalization -> ReLU -> MaxPooling2D]
x (16, 32 filters) -> Flatten -> Dense 128 -> BatchNormalization -> ReLU -> Dense 10 softmax,
Adam, sparse labels. Data is MNIST when available, else random (speed does not depend on
the pixels). The machine may be shared: every figure is a median over epochs.

The breakdown wraps each layer's forward / backward, the im2col and dx helpers of the fast conv
op Conv2D calls (tinynet/fast/conv.py),
the loss and the optimizer in time.perf_counter timers installed by this script (nothing is
timed inside the library). A Conv2D's "product" rows are what is left of its forward (or
backward) once im2col and dx are taken out: the matrix products and the bias. (An activation
runs as its own step after its layer; its rows are its own.)
"""
import argparse
import collections
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

import tinynet
from tinynet import callbacks, layers
from tinynet.fast import conv as conv_module

from seed_models import mnist_or_random, tf2_cnn


def seconds_per_epoch(x, y, batch_size, epochs):
    tinynet.set_random_seed(0)
    model = tf2_cnn()
    timer = callbacks.EpochTimer()
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[timer])
    return timer.seconds


class Profiler:
    """Accumulates wall time per named operation; ``current`` names the layer running now."""

    def __init__(self):
        self.seconds = collections.defaultdict(float)
        self.current = None
        self.phase = None

    def wrap(self, function, key, layer_name=None, phase=None):
        """``function`` timed into ``seconds[key]``; a callable key is given the layer and the phase
        ('forward' / 'backward') of the call it happens inside."""
        def timed(*args, **kwargs):
            outer = self.current, self.phase
            self.current, self.phase = layer_name or self.current, phase or self.phase
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[key(self.current, self.phase) if callable(key) else key] += time.perf_counter() - start
                self.current, self.phase = outer
        return timed


def install(profiler, model):
    """Wrap the model's layers, their activations, Conv2D's helpers, the loss and the optimizer."""
    for layer in model.layers:
        for method in ("forward", "backward"):
            setattr(layer, method, profiler.wrap(getattr(layer, method), (layer.name, method), layer.name, method))
        activation = getattr(layer, "activation", None)
        if activation is not None:
            for method in ("forward", "backward"):
                setattr(activation, method, profiler.wrap(getattr(activation, method), (layer.name, f"activation {method}")))
    # the fast twin builds its columns in _columns (im2col checks its arguments, then calls it)
    conv_module._columns = profiler.wrap(conv_module._columns, lambda name, phase: (name, f"im2col {phase}"))
    conv_module.conv2d_input_gradient = profiler.wrap(
        conv_module.conv2d_input_gradient, lambda name, phase: (name, "dx"))
    loss = model.loss
    loss.forward = profiler.wrap(loss.forward, ("loss", "forward"))
    loss.backward = profiler.wrap(loss.backward, ("loss", "backward"))
    model.optimizer.apply = profiler.wrap(model.optimizer.apply, ("optimizer", "Adam update"))


def breakdown(x, y, batch_size):
    """One epoch with timers installed: [(operation, seconds)], and the epoch's wall time."""
    tinynet.set_random_seed(0)
    model = tf2_cnn()
    model.build((None, 28, 28))
    profiler = Profiler()
    install(profiler, model)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    total = time.perf_counter() - start
    s = profiler.seconds
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        fwd, bwd = s[(layer.name, "forward")], s[(layer.name, "backward")]
        act_f, act_b = s[(layer.name, "activation forward")], s[(layer.name, "activation backward")]
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            im2col, im2col_again = s[(layer.name, "im2col forward")], s[(layer.name, "im2col backward")]
            dx = s[(layer.name, "dx")]
            if im2col:
                rows.append((f"{layer.name} ({kind}) im2col", im2col))
            rows.append((f"{layer.name} ({kind}) forward product + bias", fwd - im2col))
            if im2col_again:
                rows.append((f"{layer.name} ({kind}) im2col again in backward (the columns are not kept)", im2col_again))
                bwd -= im2col_again
            if dx:
                note = ""
            elif layer.needs_input_gradient:
                note = " (+ dx product)"
            else:
                note = " (dx skipped: first layer)"
            rows.append((f"{layer.name} ({kind}) backward dW, db products{note}", bwd - dx))
            if dx:
                rows.append((f"{layer.name} ({kind}) dx: per-offset products added into dx", dx))
            if act_f + act_b > 1e-3:
                rows.append((f"{layer.name} activation ({type(layer.activation).__name__}) fwd + bwd", act_f + act_b))
        elif fwd + bwd > 0:
            rows.append((f"{layer.name} ({kind}) forward", fwd))
            rows.append((f"{layer.name} ({kind}) backward", bwd))
    rows.append(("loss (softmax + cross-entropy from the logits) fwd + bwd", s[("loss", "forward")] + s[("loss", "backward")]))
    rows.append(("optimizer (Adam, all weights)", s[("optimizer", "Adam update")]))
    rows.append(("rest of fit (batch indexing, metrics, bookkeeping)", total - sum(seconds for _, seconds in rows)))
    return rows, total


def inference_peak_memory(images):
    """Peak resident memory in MB of a child process running predict and evaluate on ``images`` images."""
    result = subprocess.run([sys.executable, __file__, "--inference-memory-child", str(images)],
                            capture_output=True, text=True, check=True)
    return float(result.stdout.split("peak_rss_mb=")[1])


def inference_memory_child(images):
    """Run in the child: one batch of ``images`` images through predict and evaluate, then report the peak."""
    x, y, _ = mnist_or_random(images)
    model = tf2_cnn()
    model.build((None, 28, 28))
    model.predict(x, batch_size=images)
    model.evaluate(x, y, batch_size=images, verbose=0)
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")  # Linux: KB


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs per batch size (the median is reported)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--profile-batch-size", type=int, default=128, help="batch size of the breakdown epoch")
    parser.add_argument("--quick", action="store_true", help="2000 samples, 2 epochs: checks the script runs")
    parser.add_argument("--memory-only", action="store_true", help="only the peak memory of predict / evaluate")
    parser.add_argument("--inference-memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inference_memory_child:
        return inference_memory_child(args.inference_memory_child)
    images = 2000 if args.quick else 10000
    memory = (f"predict + evaluate on {images} images at batch_size={images}: "
              f"peak resident memory {inference_peak_memory(images):.0f} MB")
    if args.memory_only:
        print(memory)
        return
    samples, epochs = (2000, 2) if args.quick else (args.samples, args.epochs)

    x, y, source = mnist_or_random(samples)
    print(f"tf2 CNN, {len(x)} samples of {source}, NumPy {np.__version__}, "
          f"{platform.processor() or platform.machine()}")
    for batch_size in args.batch_sizes:
        seconds = seconds_per_epoch(x, y, batch_size, epochs)
        print(f"batch {batch_size:4d}: median: {statistics.median(seconds):.2f} s/epoch  "
              f"(epochs: {', '.join(f'{t:.2f}' for t in seconds)})")

    print(memory)

    rows, total = breakdown(x, y, args.profile_batch_size)
    print(f"\nOne epoch at batch {args.profile_batch_size}, by operation ({total:.2f} s in all):")
    for name, seconds in sorted(rows, key=lambda row: -row[1]):
        print(f"  {name:74s} {seconds:8.3f} s {100 * seconds / total:5.1f} %")


if __name__ == "__main__":
    main()
