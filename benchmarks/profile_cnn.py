"""Seconds per epoch of the seed-001 (b) ``tf2`` MNIST CNN, and where one epoch's time goes.

    python benchmarks/profile_cnn.py                      # 60000 samples, batch 32 and 128, 3 epochs each
    python benchmarks/profile_cnn.py --epochs 5 --batch-sizes 128
    python benchmarks/profile_cnn.py --quick              # 2000 samples: checks the script runs
    python benchmarks/profile_cnn.py --memory-only        # peak memory of predict / evaluate, 10000 images
    python benchmarks/profile_cnn.py --no-fusion          # the conv blocks layer by layer, not fused
    python benchmarks/profile_cnn.py --block-only         # the fused op alone on the first block's tensor

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
backward) once im2col, dx and its activation are taken out: the matrix products and the bias.

The model runs each BatchNormalization -> ReLU -> MaxPooling2D block as one fused op
(tinynet/fast/fused.py); its rows split that op into its steps. The breakdown epoch runs twice,
fused and layer by layer (the same model code with the fusion turned off), and the block's rows
of the two are printed side by side; ``--no-fusion`` times the epochs layer by layer too.
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
from tinynet.fast import fused, fused_block

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

    def wrap(self, function, key, layer_name=None):
        def timed(*args, **kwargs):
            outer, self.current = self.current, layer_name or self.current
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[key(self.current) if callable(key) else key] += time.perf_counter() - start
                self.current = outer
        return timed


PLAN = fused_block.steps   # the model's planner: which layers run as one fused block

# The fused op's steps, as (function name in tinynet.fast.fused, row label).
FUSED_STEPS = [("_batch_statistics", "forward: batch statistics (full size)"),
               ("_pooled_extremes", "forward: pool z (max / min per channel)"),
               ("winners", "backward: each window's winner"),
               ("_batch_norm_correction", "backward: batch norm's correction (full size)"),
               ("_scatter_to_winners", "backward: scatter to the winners")]


def block_name(z):
    """The fused block a call belongs to, named by the tensor it takes: 'fused block 28x28x16'."""
    return "fused block " + "x".join(map(str, z.shape[1:]))


def install_fused(profiler):
    """Wrap the fused op (forward, backward) and its steps; a call's block is named by its input's shape."""
    forward, backward = fused.fused_forward, fused.fused_backward

    def timed_forward(z, *args, **kwargs):
        outer, profiler.current = profiler.current, block_name(z)
        try:
            start = time.perf_counter()
            return forward(z, *args, **kwargs)
        finally:
            profiler.seconds[(profiler.current, "forward")] += time.perf_counter() - start
            profiler.current = outer

    def timed_backward(dout, cache):
        outer, profiler.current = profiler.current, block_name(cache.z)
        try:
            start = time.perf_counter()
            return backward(dout, cache)
        finally:
            profiler.seconds[(profiler.current, "backward")] += time.perf_counter() - start
            profiler.current = outer

    fused.fused_forward, fused.fused_backward = timed_forward, timed_backward
    for function, label in FUSED_STEPS:
        setattr(fused, function, profiler.wrap(getattr(fused, function), lambda name, label=label: (name, label)))


def install(profiler, model):
    """Wrap the model's layers, their activations, Conv2D's helpers, the fused op, the loss and the optimizer."""
    for layer in model.layers:
        for method in ("forward", "backward"):
            setattr(layer, method, profiler.wrap(getattr(layer, method), (layer.name, method), layer.name))
        activation = getattr(layer, "activation", None)
        if activation is not None:
            for method in ("forward", "backward"):
                setattr(activation, method, profiler.wrap(getattr(activation, method), (layer.name, f"activation {method}")))
    conv_module.im2col = profiler.wrap(conv_module.im2col, lambda name: (name, "im2col"))
    conv_module.conv2d_input_gradient = profiler.wrap(
        conv_module.conv2d_input_gradient, lambda name: (name, "dx: per-offset products + scatter (col2im)"))
    install_fused(profiler)
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
    originals = fused.fused_forward, fused.fused_backward, [getattr(fused, f) for f, _ in FUSED_STEPS]
    install(profiler, model)
    try:
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        total = time.perf_counter() - start
    finally:
        fused.fused_forward, fused.fused_backward, steps = originals
        for (function, _), original in zip(FUSED_STEPS, steps):
            setattr(fused, function, original)
    s = profiler.seconds
    rows = []
    for block in sorted({name for name, _ in s if name.startswith("fused block")}, reverse=True):
        fwd, bwd = s[(block, "forward")], s[(block, "backward")]
        steps = [(label, s[(block, label)]) for _, label in FUSED_STEPS]
        for label, seconds in steps:
            rows.append((f"{block} {label}", seconds))
        rows.append((f"{block} forward: the rest (normalise + ReLU the pooled tensor)",
                     fwd - sum(t for label, t in steps if label.startswith("forward"))))
        rows.append((f"{block} backward: the rest (ReLU, dgamma, dbeta)",
                     bwd - sum(t for label, t in steps if label.startswith("backward"))))
    for layer in model.layers:
        kind = type(layer).__name__
        fwd, bwd = s[(layer.name, "forward")], s[(layer.name, "backward")]
        act_f, act_b = s[(layer.name, "activation forward")], s[(layer.name, "activation backward")]
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            im2col, dx = s[(layer.name, "im2col")], s[(layer.name, "dx: per-offset products + scatter (col2im)")]
            if im2col:
                rows.append((f"{layer.name} ({kind}) im2col", im2col))
            rows.append((f"{layer.name} ({kind}) forward product + bias", fwd - im2col - act_f))
            if dx:
                note = ""
            elif layer.needs_input_gradient:
                note = " (+ dx product)"
            else:
                note = " (dx skipped: first layer)"
            rows.append((f"{layer.name} ({kind}) backward dW, db products{note}", bwd - dx - act_b))
            if dx:
                rows.append((f"{layer.name} ({kind}) dx: per-offset products + col2im scatter", dx))
            if act_f + act_b > 1e-3:
                rows.append((f"{layer.name} activation ({type(layer.activation).__name__}) fwd + bwd", act_f + act_b))
        elif fwd + bwd > 0:
            rows.append((f"{layer.name} ({kind}) forward", fwd))
            rows.append((f"{layer.name} ({kind}) backward", bwd))
    rows.append(("loss (fused softmax + cross-entropy) fwd + bwd", s[("loss", "forward")] + s[("loss", "backward")]))
    rows.append(("optimizer (Adam, all weights)", s[("optimizer", "Adam update")]))
    rows.append(("rest of fit (batch indexing, metrics, bookkeeping)", total - sum(seconds for _, seconds in rows)))
    blocks = {}   # each conv block's batch norm + ReLU + max-pool, forward and backward, fused or not
    for step in PLAN(model.layers):
        if isinstance(step, fused_block.FusedBlock):
            name = "fused block " + "x".join(map(str, step.layers[0].input_shape))
            blocks[name] = (s[(name, "forward")] + s[(name, "backward")] +
                            sum(s[(layer.name, method)] for layer in step.layers for method in ("forward", "backward")))
    return rows, total, blocks


def block_only(shapes=((128, 28, 28, 16), (128, 14, 14, 32), (32, 28, 28, 16)), repeats=20):
    """The fused op against the fast batch norm, ReLU and max-pool one by one, on the blocks' tensors.

    Medians of ``repeats`` runs each, the two taking turns; float32, random z, gamma = 1, beta = 0.
    """
    fast = tinynet.ops.get("fast")

    def unfused_forward(z, gamma, beta):
        t, _, _, bn_cache = fast.batch_norm_forward(z, gamma, beta, 1e-3)
        r = np.maximum(t, 0)
        y, pool_cache = fast.maxpool2d_forward(r, 2)
        return y, (bn_cache, r, pool_cache)

    def unfused_backward(dout, cache):
        bn_cache, r, pool_cache = cache
        return fast.batch_norm_backward(fast.maxpool2d_backward(dout, pool_cache) * (r > 0), bn_cache)

    def timed(function, *args):
        start = time.perf_counter()
        result = function(*args)
        return time.perf_counter() - start, result

    print("batch norm -> ReLU -> max-pool, forward / backward ms (median of "
          f"{repeats}): fused vs the fast ops one by one")
    for shape in shapes:
        rng = np.random.default_rng(0)
        z = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        gamma, beta = np.ones(shape[-1], np.float32), np.zeros(shape[-1], np.float32)
        dout = rng.standard_normal((shape[0], shape[1] // 2, shape[2] // 2, shape[3])).astype(np.float32)
        times = collections.defaultdict(list)
        for _ in range(repeats):
            seconds, (_, _, _, cache) = timed(fused.fused_forward, z, gamma, beta, 1e-3)
            times["fused forward"].append(seconds)
            times["fused backward"].append(timed(fused.fused_backward, dout, cache)[0])
            seconds, (_, cache) = timed(unfused_forward, z, gamma, beta)
            times["unfused forward"].append(seconds)
            times["unfused backward"].append(timed(unfused_backward, dout, cache)[0])
        ms = {key: 1000 * statistics.median(values) for key, values in times.items()}
        print(f"  {'x'.join(map(str, shape)):>14}: forward {ms['fused forward']:6.2f} vs {ms['unfused forward']:6.2f} "
              f"({ms['fused forward'] / ms['unfused forward']:.2f}x), backward {ms['fused backward']:6.2f} vs "
              f"{ms['unfused backward']:6.2f} ({ms['fused backward'] / ms['unfused backward']:.2f}x)")


def layer_by_layer():
    """Turn the fusion off: the model walks batch norm, ReLU and max-pool one by one."""
    fused_block.steps = list


def inference_peak_memory(images):
    """Peak resident memory in MB of a child process running predict and evaluate on ``images`` images."""
    fusion = ["--child-no-fusion"] if fused_block.steps is list else []
    result = subprocess.run([sys.executable, __file__, "--inference-memory-child", str(images)] + fusion,
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
    parser.add_argument("--no-fusion", action="store_true", help="time the epochs with the blocks layer by layer")
    parser.add_argument("--block-only", action="store_true", help="only the fused op against the ops one by one")
    parser.add_argument("--inference-memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-no-fusion", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.no_fusion or args.child_no_fusion:
        layer_by_layer()
    if args.inference_memory_child:
        return inference_memory_child(args.inference_memory_child)
    if args.block_only:
        return block_only(repeats=3 if args.quick else 20)
    images = 2000 if args.quick else 10000
    memory = (f"predict + evaluate on {images} images at batch_size={images}: "
              f"peak resident memory {inference_peak_memory(images):.0f} MB")
    if args.memory_only:
        print(memory)
        return
    samples, epochs = (2000, 2) if args.quick else (args.samples, args.epochs)

    x, y, source = mnist_or_random(samples)
    print(f"tf2 CNN (seed 001 b), {len(x)} samples of {source}, NumPy {np.__version__}, "
          f"{platform.processor() or platform.machine()}")
    for batch_size in args.batch_sizes:
        seconds = seconds_per_epoch(x, y, batch_size, epochs)
        print(f"batch {batch_size:4d}: median: {statistics.median(seconds):.2f} s/epoch  "
              f"(epochs: {', '.join(f'{t:.2f}' for t in seconds)})")

    print(memory)

    steps = fused_block.steps
    rows, total, blocks = breakdown(x, y, args.profile_batch_size)
    fusion = "layer by layer" if args.no_fusion else "fused"
    print(f"\nOne epoch at batch {args.profile_batch_size}, {fusion}, by operation ({total:.2f} s in all):")
    for name, seconds in sorted(rows, key=lambda row: -row[1]):
        print(f"  {name:74s} {seconds:8.3f} s {100 * seconds / total:5.1f} %")
    if not args.no_fusion:
        layer_by_layer()
        try:
            plain_rows, plain_total, plain_blocks = breakdown(x, y, args.profile_batch_size)
        finally:
            fused_block.steps = steps
        print(f"\nThe same epoch layer by layer ({plain_total:.2f} s in all), the blocks' rows:")
        for name, seconds in sorted(plain_rows, key=lambda row: -row[1]):
            if any(kind in name for kind in ("BatchNormalization", "ReLU", "MaxPooling2D")):
                print(f"  {name:74s} {seconds:8.3f} s ({100 * seconds / plain_total:.1f} % of that epoch)")
        print("\nBatch norm + ReLU + max-pool of each conv block, forward + backward, one epoch:")
        for name in blocks:
            print(f"  {name[len('fused block '):]:>10}: fused {blocks[name]:7.3f} s, layer by layer "
                  f"{plain_blocks[name]:7.3f} s ({blocks[name] / plain_blocks[name]:.2f}x)")


if __name__ == "__main__":
    main()
