"""What one Adam step on the cca MLP's weights costs, and what the step as a transaction costs in it.

    python benchmarks/adam_step.py            # 60 turns
    python benchmarks/adam_step.py --quick    # a few turns: checks the script runs

The 669,706 float32 weights of the seed ``cca`` MLP (784-512-512-10), their gradients and Adam
state, updated five ways, in turns (each way once per turn, the order reversed every other turn),
so all five see the same machine state; printed: the median milliseconds per step of each.

    textbook        Adam.update as written: a new array for every intermediate result
    twin            tinynet's fast twin (``tinynet/fast/optimizers.py``): a block at a time, into the
                    arrays the previous step replaced, the finiteness check on each block in cache
    twin, check after   the same without the in-block check, then one pass over w and v
    in place        the twin's operations writing over w, m and v themselves: what a step that
                    could not be refused would cost (no transaction: a NaN would be kept)
    in place, 2 threads the same, the blocks shared by two threads (NumPy releases the GIL)
"""
import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tinynet import optimizers
from tinynet.core.optimizers.optimizer import all_finite
from tinynet.fast import optimizers as twins

SHAPES = [(784, 512), (512,), (512, 512), (512,), (512, 10), (10,)]


def adam_in_place(w, g, m, v, scratch, beta_1, beta_2, lr_t, epsilon):
    """The twin's operations on one block, overwriting w, m and v (the temporaries in ``scratch``)."""
    scratch = scratch[:w.size]
    m *= beta_1
    np.multiply(g, 1 - beta_1, out=scratch)
    m += scratch
    np.multiply(g, 1 - beta_2, out=scratch)
    scratch *= g
    v *= beta_2
    v += scratch
    np.sqrt(v, out=scratch)
    scratch += epsilon
    np.divide(m, scratch, out=scratch)
    scratch *= lr_t
    w -= scratch
    return bool(np.isfinite(np.dot(w, v)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="3 turns")
    args = parser.parse_args(argv)
    turns = 3 if args.quick else args.turns
    rng = np.random.default_rng(0)
    adam = optimizers.Adam(1e-3)
    adam.iterations = 10
    arrays = [[rng.standard_normal(shape).astype(np.float32) * 1e-2 for _ in range(4)] for shape in SHAPES]
    for w, g, m, v in arrays:
        np.square(v, out=v)
    spare = [[np.empty_like(w) for _ in range(3)] for w, _, _, _ in arrays]
    lr = adam.step_learning_rate()
    t = adam.iterations + 1
    constants = (adam.beta_1, adam.beta_2, lr * (1 - adam.beta_2 ** t) ** 0.5 / (1 - adam.beta_1 ** t), adam.epsilon)
    pool = ThreadPoolExecutor(2)

    def textbook():
        return all(adam.finite(*adam.update(w, g, lr, m, v)) for w, g, m, v in arrays)

    def twin():
        return all(twins.adam_update(adam, w, g, lr, m, v, out=(a, {"m": b, "v": c}))[2]
                   for (w, g, m, v), (a, b, c) in zip(arrays, spare))

    def check_after():
        finite = True
        for (w, g, m, v), (a, b, c) in zip(arrays, spare):
            twins.adam_update(adam, w, g, lr, m, v, out=(a, {"m": b, "v": c}))
            finite &= all_finite(a, c)
        return finite

    def blocks():
        for w, g, m, v in arrays:
            flat = [a.reshape(-1) for a in (w, g, m, v)]
            for start in range(0, flat[0].size, twins.BLOCK):
                yield [a[start:start + twins.BLOCK] for a in flat]

    scratches = [np.empty(twins.BLOCK, np.float32) for _ in range(2)]

    def in_place():
        return all(adam_in_place(*block, scratches[0], *constants) for block in blocks())

    def in_place_threads():
        work = list(blocks())
        return all(pool.map(lambda i: all(adam_in_place(*block, scratches[i], *constants) for block in work[i::2]),
                            (0, 1)))

    ways = {"textbook": textbook, "twin": twin, "twin, check after": check_after, "in place": in_place,
            "in place, 2 threads": in_place_threads}
    times = {name: [] for name in ways}
    for turn in range(turns):
        for name in (list(ways) if turn % 2 == 0 else list(ways)[::-1]):
            start = time.perf_counter()
            assert ways[name]()
            times[name].append((time.perf_counter() - start) * 1e3)
    print(f"Adam on the cca MLP's {sum(w.size for w, _, _, _ in arrays):,} float32 weights; "
          f"median ms per step over {turns} turns")
    for name, values in times.items():
        print(f"  {name:22s} {statistics.median(values):7.3f} ms")
    pool.shutdown()


if __name__ == "__main__":
    main()
