"""The time budget of one training step of the ``tf2`` CNN (docs/articles.md), layer by layer: tinynet against PyTorch.

    python benchmarks/op_budget.py                         # batch 32 and 128, 30 rounds each
    python benchmarks/op_budget.py --batch-sizes 128 --rounds 50
    python benchmarks/op_budget.py --impl naive            # the textbook ops instead of the fast ring's
    python benchmarks/op_budget.py --quick                 # 3 rounds at batch 8: checks the script runs

Each layer's forward (``training=True``) and backward are timed alone, on the inputs a real step
gives them, for tinynet's layer (which calls the registered ops) and PyTorch's module on the same
shapes (its backward through ``torch.autograd.grad`` with the same upstream gradient). Then the
loss (softmax + cross-entropy from the logits, forward and backward), the Adam update of every
weight, and a whole training step of each (``model.train_step``; ``loss.backward(); opt.step()``).
In every round each op runs once in tinynet and once in PyTorch, the order alternating from round
to round, so both see the same machine; the table prints medians over rounds and the ratio.
Timing ops one by one flatters neither side exactly (caches are warm, nothing runs around the op):
read it as a map of where the time goes, not as a verdict.

The "1 thread" column runs tinynet's op with BLAS limited to one thread (threadpoolctl, when it is
installed): where the two columns agree, the op ran on one core anyway.
"""
import argparse
import contextlib
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tinynet  # noqa: E402
from seed_models import tf2_cnn  # noqa: E402

PAUSE = 0.15  # seconds between the two libraries' rounds


def torch_modules(model):
    """PyTorch modules with the shapes of each of the model's layers, keyed by layer name."""
    import torch
    from torch import nn
    bn = dict(momentum=0.01, eps=1e-3)
    mods = {}
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            kh, kw, c, f = layer.kernel.shape
            mods[layer.name] = nn.Conv2d(c, f, (kh, kw), padding=kh // 2)
        elif kind == "BatchNormalization":
            c = layer.gamma.shape[0]
            mods[layer.name] = nn.BatchNorm2d(c, **bn) if len(layer.input_shape) == 3 else nn.BatchNorm1d(c, **bn)
        elif kind == "ReLU":
            mods[layer.name] = nn.ReLU()
        elif kind == "MaxPooling2D":
            mods[layer.name] = nn.MaxPool2d(2)
        elif kind == "Dense":
            n_in, n_out = layer.kernel.shape
            mods[layer.name] = nn.Linear(n_in, n_out)
        else:                                   # Reshape, Flatten: views on both sides
            mods[layer.name] = None
    for module in mods.values():
        if module is not None:
            module.train()
    return mods, torch


def nchw(shape):
    """tinynet's (N, H, W, C) shape as PyTorch's (N, C, H, W); other shapes unchanged."""
    return (shape[0], shape[3], shape[1], shape[2]) if len(shape) == 4 else shape


class Timer:
    def __init__(self):
        self.seconds = {}

    def run(self, key, function):
        start = time.perf_counter()
        function()
        self.seconds.setdefault(key, []).append(time.perf_counter() - start)


def records_of(model, x):
    """(layer, its input, its output) for each layer of one training forward, in order."""
    seen, records = set(), []

    def record(layer, x_in, y_out):
        # The walk may report the layers of a fused block; keep each layer's own values once.
        if id(layer) not in seen:
            seen.add(id(layer))
            records.append((layer, x_in, y_out))
    model.forward(x, training=True, on_layer=record)
    return records


def build(batch_size, impl):
    tinynet.set_random_seed(0)
    model = tf2_cnn()
    if impl == "naive":
        for layer in model.layers:
            if hasattr(layer, "impl"):
                layer.impl = impl
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch_size)
    records = records_of(model, x)
    first_trainable = next(i for i, (layer, _, _) in enumerate(records) if layer.trainable_weights)
    return model, x, y, records, first_trainable


def tinynet_round(parts, timer, suffix):
    model, x, y, records, first_trainable = parts
    for i, (layer, x_in, y_out) in enumerate(records):
        dout = np.full_like(y_out, 0.01)
        layer.needs_input_gradient = i > first_trainable
        timer.run((layer.name, "forward", suffix), lambda: layer.forward(x_in, training=True))
        timer.run((layer.name, "backward", suffix), lambda: layer.backward(dout))
    z = model.forward(x, training=True, logits=True)
    # the public step API (tinynet.tools.gradcheck.loss_gradient): compute_loss, then the loss object's backward
    timer.run(("loss", "forward+backward", suffix), lambda: (model.compute_loss(y, z), model.loss.backward()))
    model.compute_loss(y, z)
    model.backward(model.loss.backward())
    params = list(model.trainable_weights)
    timer.run(("Adam", "update", suffix), lambda: model.optimizer.apply(params, []))
    timer.run(("whole step", "train_step", suffix), lambda: model.train_step(x, y))


def torch_round(parts, timer):
    torch, mods, t_inputs, records, torch_model, torch_opt, torch_loss, xt_step, yt_step = parts
    for layer, _, _ in records:
        module = mods[layer.name]
        if module is None:
            continue
        xt, dyt = t_inputs[layer.name]
        timer.run((layer.name, "forward", "torch"), lambda: module(xt))
        out = module(xt)
        wants = [t for t in [xt, *module.parameters()] if t.requires_grad]
        timer.run((layer.name, "backward", "torch"), lambda: torch.autograd.grad(out, wants, dyt))
    logits = torch.randn(len(yt_step), 10, requires_grad=True)
    timer.run(("loss", "forward+backward", "torch"), lambda: torch.autograd.grad(torch_loss(logits, yt_step), [logits]))
    for p in torch_model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    timer.run(("Adam", "update", "torch"), torch_opt.step)

    def step():
        torch_opt.zero_grad(set_to_none=True)
        torch_loss(torch_model(xt_step), yt_step).backward()
        torch_opt.step()
    timer.run(("whole step", "train_step", "torch"), step)


def build_torch_parts(batch_size, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model, x, y, records, first_trainable = build(batch_size, "fast")
    mods, _ = torch_modules(model)
    rng = np.random.default_rng(1)
    t_inputs = {}
    for i, (layer, x_in, y_out) in enumerate(records):
        if mods[layer.name] is None:
            continue
        xt = torch.from_numpy(rng.standard_normal(nchw(x_in.shape)).astype(np.float32))
        xt.requires_grad_(i > first_trainable)
        dyt = torch.from_numpy(rng.standard_normal(nchw(y_out.shape)).astype(np.float32))
        t_inputs[layer.name] = (xt, dyt)
    torch_model, torch_opt, torch_loss = torch_step_parts(model, torch)
    return (torch, mods, t_inputs, records, torch_model, torch_opt, torch_loss,
            torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y))


def worker(framework, batch_size, impl, threads, one_thread, connection):
    """Serve 'round' requests: one run of every op, returning the seconds of each; None ends it."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if framework == "torch":
        parts = build_torch_parts(batch_size, threads)
    else:
        parts = build(batch_size, impl)
        limiter = one_thread_limiter() if one_thread else None
    connection.send([(layer.name, type(layer).__name__) for layer, _, _ in
                     parts[3]])
    while connection.recv() is not None:
        timer = Timer()
        if framework == "torch":
            torch_round(parts, timer)
        else:
            tinynet_round(parts, timer, "tinynet")
            if limiter is not None:
                limited(limiter, lambda: tinynet_round(parts, timer, "1 thread"))
        connection.send(timer.seconds)


def budget(batch_size, rounds, impl, one_thread, threads):
    """Run the two workers in alternating rounds; {(name, direction, who): [seconds per round]}."""
    context = mp.get_context("spawn")
    connections = []
    for framework in ("tinynet", "torch"):
        parent_end, child_end = context.Pipe()
        context.Process(target=worker, args=(framework, batch_size, impl, threads, one_thread, child_end),
                        daemon=True).start()
        connections.append(parent_end)
    layers = [connection.recv() for connection in connections][0]
    seconds = {}
    for r in range(rounds + 1):                   # round 0 warms up (allocations, thread pools)
        for connection in (connections if r % 2 == 0 else connections[::-1]):
            connection.send("round")
            timings = connection.recv()
            # NOTE: each library's worker threads spin for a while after their last task; a pause
            # lets them sleep so that they do not steal the other library's second core.
            time.sleep(PAUSE)
            if r:
                for key, values in timings.items():
                    seconds.setdefault(key, []).extend(values)
    for connection in connections:
        connection.send(None)
    return layers, seconds


def torch_step_parts(model, torch):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from compare_torch import build_torch
    torch_model = build_torch("tf2", model.get_weights())[1:]      # without AddChannel: we pass NCHW
    opt = torch.optim.Adam(torch_model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    return torch_model, opt, torch.nn.CrossEntropyLoss()


def one_thread_limiter():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        print("(threadpoolctl is not installed: no 1-thread column; pip install threadpoolctl)")
        return None
    return ThreadpoolController()


def limited(controller, function):
    with controller.limit(limits=1, user_api="blas"):
        function()


def report(batch_size, layers, seconds, impl):
    ms = {key: 1e3 * statistics.median(values) for key, values in seconds.items()}
    spread = {key: (1e3 * min(values), 1e3 * max(values)) for key, values in seconds.items()}
    one = any(key[2] == "1 thread" for key in ms)
    rows = [(name, kind, "forward") for name, kind in layers]
    rows += [(name, kind, "backward") for name, kind in reversed(layers)]
    rows += [("loss", "softmax+CE", "forward+backward"), ("Adam", "all weights", "update")]
    header = f"{'op':38} {'tinynet ms':>10} {'torch ms':>9} {'ratio':>6}" + (f" {'1 thread':>9}" if one else "")
    print(f"\nbatch {batch_size}, impl={impl!r}: medians of {len(next(iter(seconds.values())))} rounds in turns")
    print(header)
    print("-" * len(header))
    totals = {"tinynet": 0.0, "torch": 0.0, "1 thread": 0.0}
    for name, kind, direction in rows:
        t = ms.get((name, direction, "tinynet"), 0.0)
        p = ms.get((name, direction, "torch"))
        u = ms.get((name, direction, "1 thread"))
        totals["tinynet"] += t
        totals["torch"] += p or 0.0
        totals["1 thread"] += u or 0.0
        torch_text = f"{p:9.2f} {t / p:6.2f}" if p else f"{'-':>9} {'-':>6}"
        print(f"{name + ' ' + direction:38} {t:10.2f} {torch_text}" +
              (f" {u:9.2f}" if one else ""))
    print("-" * len(header))
    print(f"{'sum of the rows':38} {totals['tinynet']:10.2f} {totals['torch']:9.2f} "
          f"{totals['tinynet'] / totals['torch']:6.2f}" + (f" {totals['1 thread']:9.2f}" if one else ""))
    t, p = ms[("whole step", "train_step", "tinynet")], ms[("whole step", "train_step", "torch")]
    lo, hi = spread[("whole step", "train_step", "tinynet")]
    plo, phi = spread[("whole step", "train_step", "torch")]
    u = ms.get(("whole step", "train_step", "1 thread"))
    print(f"{'whole step (train_step; torch loop)':38} {t:10.2f} {p:9.2f} {t / p:6.2f}" + (f" {u:9.2f}" if one else "") +
          f"   (min-max tinynet {lo:.1f}-{hi:.1f}, torch {plo:.1f}-{phi:.1f})")
    if one and u:
        # Amdahl with BLAS's share made twice as fast by the second core: the share of the 2-thread
        # step that runs on one core is (2*T2 - T1) / T2.
        print(f"whole step with BLAS on 1 thread: {u:.2f} ms; share of the 2-thread step on one core "
              f"(assuming the BLAS part runs 2x faster on 2 cores): {(2 * t - u) / t:.0%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 128])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--impl", choices=("fast", "naive"), default="fast")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch's threads (NumPy's BLAS uses its own)")
    parser.add_argument("--no-one-thread", action="store_true", help="skip the 1-thread column")
    parser.add_argument("--quick", action="store_true", help="batch 8, 3 rounds")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch==2.13.0 (the CPU build)")
        return
    batch_sizes, rounds = ([8], 3) if args.quick else (args.batch_sizes, args.rounds)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; NumPy {np.__version__}, PyTorch {torch.__version__}; load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for batch_size in batch_sizes:
        layers, seconds = budget(batch_size, rounds, args.impl, not args.no_one_thread, args.threads)
        report(batch_size, layers, seconds, args.impl)
    with contextlib.suppress(Exception):
        print(f"load average at the end {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
