"""What the optimizer step costs inside ``fit``, and whether threads help it there.

    python benchmarks/optimizer_in_fit.py                  # cca MLP, batch 128 and 32
    python benchmarks/optimizer_in_fit.py --quick          # a few steps: checks the script runs

Times a training step of the seed ``cca`` MLP (784-512-512-10, Adam) three ways, one short
``fit`` each in turn, many rounds, so all three see the same machine state:

    serial    tinynet's Adam as it is: one thread updates every parameter
    threads   the same update rule, each large parameter cut into one piece per core,
              the pieces updated in parallel threads (NumPy releases the GIL)
    no update the optimizer step skipped: forward, loss and backward alone

Measured on its own (``optimizer.apply`` in a loop), the threaded update is the faster;
inside ``fit`` it comes right after the backward pass's matrix products, and this script
is how to find out which wins there.
"""
import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import tinynet
from tinynet import optimizers
from tinynet.fast.optimizers import adam_update

from seed_models import cca_mlp, mnist_or_random

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ThreadedAdam(optimizers.Adam):
    """Adam, with a fast twin of its own (registered in main): ``threaded_update``."""


def threaded_update(pool):
    """tinynet's Adam twin with each parameter of 65536+ values cut into CORES pieces, updated at once
    in threads (NumPy releases the GIL); ``Optimizer.take_step`` around it is unchanged."""

    def update(optimizer, w, g, lr, out=None, **state):
        if w.size < 65536 or out is None:
            return adam_update(optimizer, w, g, lr, out=out, **state)
        w_out, state_out = out
        bounds = [w.size * i // CORES for i in range(CORES + 1)]

        def piece(i):
            part = slice(bounds[i], bounds[i + 1])
            return adam_update(optimizer, w.reshape(-1)[part], g.reshape(-1)[part], lr,
                               out=(w_out.reshape(-1)[part], {k: a.reshape(-1)[part] for k, a in state_out.items()}),
                               **{k: a.reshape(-1)[part] for k, a in state.items()})[2]
        finite = all(pool.map(piece, range(CORES)))
        return w_out, state_out, finite
    return update


def make_model(variant, x, y, batch_size):
    tinynet.set_random_seed(0)
    model = cca_mlp()
    if variant == "threads":
        model.compile(ThreadedAdam(learning_rate=1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    elif variant == "no update":
        model.optimizer.apply = lambda parameters, state_updates=(): True  # "step taken"
    model.fit(x[:batch_size * 4], y[:batch_size * 4], batch_size=batch_size, epochs=1, verbose=0)  # warm up
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[128, 32])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=50, help="training steps per timed fit")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 5 steps")
    args = parser.parse_args(argv)
    rounds, steps = (2, 5) if args.quick else (args.rounds, args.steps)
    x, y, source = mnist_or_random(54000)
    x = x.reshape(len(x), 784)
    pool = ThreadPoolExecutor(CORES)
    optimizers.register_fast_rule(ThreadedAdam, threaded_update(pool))
    print(f"cca MLP on {source}, {CORES} cores; median ms per training step over {rounds} rounds of {steps} steps")
    for batch_size in args.batch_sizes:
        variants = ("serial", "threads", "no update")
        models = {v: make_model(v, x, y, batch_size) for v in variants}
        n = batch_size * steps
        times = {v: [] for v in variants}
        for _ in range(rounds):
            for v in variants:
                start = time.perf_counter()
                models[v].fit(x[:n], y[:n], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
                times[v].append((time.perf_counter() - start) / steps * 1e3)
        step = {v: statistics.median(times[v]) for v in variants}
        print(f"batch {batch_size:4d}: serial {step['serial']:.2f} ms, threads {step['threads']:.2f} ms "
              f"(x{step['threads'] / step['serial']:.2f}), no update {step['no update']:.2f} ms "
              f"-> the serial update costs {step['serial'] - step['no update']:.2f} ms per step")
    pool.shutdown()


if __name__ == "__main__":
    main()
