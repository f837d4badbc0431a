"""Two checkouts of tinynet side by side: is a change faster, measured on a noisy machine?

    git worktree add /tmp/before HEAD~1                          # the code before the change
    python benchmarks/compare_checkouts.py /tmp/before .         # cca MLP, batch 32
    python benchmarks/compare_checkouts.py /tmp/before . --model tf2 --batch-size 128 --steps 10
    python benchmarks/compare_checkouts.py /tmp/before . --quick # a few steps: checks the script runs

Each checkout trains in a worker process of its own (its own ``tinynet`` and
``benchmarks/seed_models.py`` first on the path), from the same seed, on the same
batches. The workers take turns of ``--steps`` training steps, A then B, then B then A,
and so on, so both see the same machine state: on a shared machine the speed drifts by
30 % or more within a minute, which swamps a 5 % change measured in two separate runs.
Printed: each checkout's median milliseconds per step and the median over turns of the
ratio B / A (below 1: B is faster); the same for the CPU time of the worker (all its threads,
``time.process_time``), which a crowded machine inflates far less than the wall clock: at a load
average of 10 on 2 cores a step waits most of its wall time for a core.
"""
import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

import numpy as np


def worker(checkout, model_name, batch_size, connection):
    """Serve ('train', indices) requests with one timed fit per turn; None ends it."""
    sys.path[:0] = [checkout, os.path.join(checkout, "benchmarks")]
    import seed_models
    import tinynet
    x, y, _ = seed_models.mnist_or_random(60000)
    if model_name == "cca":
        x, y = x.reshape(len(x), 784)[:54000], y[:54000]
    tinynet.set_random_seed(0)
    model = seed_models.cca_mlp() if model_name == "cca" else seed_models.tf2_cnn()
    model.fit(x[:2 * batch_size], y[:2 * batch_size], batch_size=batch_size, epochs=1, verbose=0)  # warm up
    connection.send((tinynet.__file__, len(x)))
    while True:
        indices = connection.recv()
        if indices is None:
            return
        xb, yb = x[indices], y[indices]
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(xb, yb, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
        connection.send((time.perf_counter() - start, time.process_time() - cpu))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout_a")
    parser.add_argument("checkout_b")
    parser.add_argument("--model", choices=("cca", "tf2"), default="cca")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--turns", type=int, default=30, help="turns per checkout")
    parser.add_argument("--steps", type=int, default=100, help="training steps per turn")
    parser.add_argument("--quick", action="store_true", help="2 turns of 3 steps")
    args = parser.parse_args(argv)
    turns, steps = (2, 3) if args.quick else (args.turns, args.steps)
    checkouts = [os.path.abspath(args.checkout_a), os.path.abspath(args.checkout_b)]
    context = mp.get_context("spawn")  # each worker imports its own checkout's tinynet
    connections = []
    for checkout in checkouts:
        parent_end, child_end = context.Pipe()
        context.Process(target=worker, args=(checkout, args.model, args.batch_size, child_end), daemon=True).start()
        connections.append(parent_end)
    sizes = []
    for name, connection in zip("AB", connections):
        module, size = connection.recv()
        sizes.append(size)
        print(f"{name}: {module}")
    orders = np.random.default_rng(0)
    per_step, cpu_per_step = [[], []], [[], []]
    for turn in range(turns):
        indices = orders.permutation(min(sizes))[:args.batch_size * steps]
        for i in (0, 1) if turn % 2 == 0 else (1, 0):
            connections[i].send(indices)
            wall, cpu = connections[i].recv()
            per_step[i].append(wall / steps * 1e3)
            cpu_per_step[i].append(cpu / steps * 1e3)
    for connection in connections:
        connection.send(None)
    for what, times in (("", per_step), ("CPU ", cpu_per_step)):
        a, b = (statistics.median(t) for t in times)
        ratio = statistics.median(tb / ta for ta, tb in zip(*times))
        print(f"{args.model}, batch {args.batch_size}, {turns} turns of {steps} steps: "
              f"A {a:.3f} {what}ms/step, B {b:.3f} {what}ms/step, B / A {ratio:.3f} (median of the turns' ratios)")
    print(f"load average at the end {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
