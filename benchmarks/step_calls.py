"""Python calls per training step inside ``fit``, by phase: a measure of interpreter overhead the machine's load does not move.

    python benchmarks/step_calls.py                    # cca MLP, batch 32, 50 steps
    python benchmarks/step_calls.py --model tf2        # the tf2 CNN, 10 steps
    python benchmarks/step_calls.py --details          # also each function called at least once per step

``sys.setprofile`` counts every call of a Python function and of a built-in (C) function over one
``fit`` epoch after a warm-up fit (NumPy's ufuncs, ``np.add(..., out=)``, are not built-in functions
and are not counted). Each call is put in the phase of the outermost step function on its stack:
forward (the model's ``call``), loss (``compute_loss``), backward (``backpropagate``), optimizer
(``apply``), metrics, callbacks, the guard, the data (``epoch``), and ``loop`` for the rest of ``fit``.
"""
import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seed_models  # noqa: E402
import tinynet  # noqa: E402

PHASES = {"call": "forward", "compute_loss": "loss", "backpropagate": "backward", "apply": "optimizer",
          "_update_metrics": "metrics", "_batch_logs": "metrics", "epoch": "data", "on_train_batch_begin": "callbacks",
          "on_train_batch_end": "callbacks", "at": "guard", "check": "guard"}


def phase_of(frame):
    """The phase of the outermost step function between ``frame`` and ``fit``."""
    found = "loop"
    while frame is not None and frame.f_code.co_name != "fit":
        found = PHASES.get(frame.f_code.co_name, found)
        frame = frame.f_back
    return found


def count(model_name, batch_size, steps):
    """``(calls per step by phase, calls per step by (phase, kind, function))``."""
    x, y, _ = seed_models.mnist_or_random(batch_size * steps)
    if model_name == "cca":
        x = x.reshape(len(x), 784)
    tinynet.set_random_seed(0)
    model = seed_models.cca_mlp() if model_name == "cca" else seed_models.tf2_cnn()
    model.fit(x[:2 * batch_size], y[:2 * batch_size], batch_size=batch_size, epochs=1, verbose=0)
    phases, functions = collections.Counter(), collections.Counter()

    def profile(frame, event, arg):
        if event == "call":
            phase, name = phase_of(frame), frame.f_code.co_name
        elif event == "c_call":
            phase, name = phase_of(frame), getattr(arg, "__qualname__", str(arg))
        else:
            return
        phases[phase] += 1
        functions[(phase, event, name)] += 1

    sys.setprofile(profile)
    try:
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    finally:
        sys.setprofile(None)
    return ({k: v / steps for k, v in phases.items()}, {k: v / steps for k, v in functions.items()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("cca", "tf2"), default="cca")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, help="steps counted (default 50 for cca, 10 for tf2)")
    parser.add_argument("--details", action="store_true")
    args = parser.parse_args(argv)
    steps = args.steps or (50 if args.model == "cca" else 10)
    phases, functions = count(args.model, args.batch_size, steps)
    print(f"{args.model}, batch {args.batch_size}: {sum(phases.values()):.0f} calls per step ({tinynet.__file__})")
    for phase, calls in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"  {phase:10s} {calls:7.1f}")
    if args.details:
        for (phase, kind, name), calls in sorted(functions.items(), key=lambda kv: (kv[0][0], -kv[1])):
            if calls >= 0.9:
                print(f"  {calls:7.1f}  {phase:10s} {'py' if kind == 'call' else 'c '} {name}")


if __name__ == "__main__":
    main()
