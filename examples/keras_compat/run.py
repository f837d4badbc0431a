"""Run one of the Keras scripts in this folder, in full or in quick mode.

    python examples/keras_compat/run.py keras2_mnist_cnn.py            # in full (minutes to hours)
    python examples/keras_compat/run.py keras2_mnist_cnn.py --quick    # a few seconds

Each script here is tinynet's own, written as a published Keras script is (the same
Keras calls, imports naming tinynet), and quick mode changes no line of it. Instead,
before running the script, it wraps
``fit`` and ``evaluate`` so that they see the first ``QUICK_TRAIN`` training
samples (and ``QUICK_EVAL`` validation / test samples) for one epoch at most.
The data sets are still loaded whole, so a script's ``reshape(60000, 784)`` works.

Scripts that go over the data themselves (a ``GradientTape`` loop over a ``tf.data`` pipeline, a
``predict`` on the whole test set that a plot then indexes) are listed in ``CUT_DATA`` with how many
training and test samples quick mode's ``load_data`` gives them (the first ones).

``run(path, quick=True)`` returns the script's global variables, which the test
(tests/test_keras_compat_examples.py) reads to check the values the script computed.
"""
import argparse
import functools
import os
import runpy
import sys

QUICK_TRAIN = 600
QUICK_EVAL = 300
QUICK_STEPS = 2    # batches of an epoch when fit is given a dataset or a generator
CUT_DATA = {"tf_quickstart_advanced.py": (64, 64),               # 5 epochs of GradientTape steps
            "kerasio_training_loop_from_scratch.py": (640, 128),
            "kerasio_denoising_autoencoder.py": (32, 32)}                  # one step of each fit


def _cut_validation_data(validation_data):
    return tuple(part[:QUICK_EVAL] for part in validation_data)


def _quick_fit(fit):
    @functools.wraps(fit)
    def quick_fit(self, x=None, y=None, *args, **kwargs):
        for name in ("epochs", "nb_epoch"):
            if name in kwargs:
                kwargs[name] = min(kwargs[name], 1)
        if len(args) >= 2:  # fit(x, y, batch_size, epochs, ...) given by position
            args = (args[0], min(args[1], 1)) + tuple(args[2:])
        if kwargs.get("validation_data") is not None and not _arrays(kwargs["validation_data"]):
            kwargs["validation_steps"] = min(kwargs.get("validation_steps") or QUICK_STEPS, QUICK_STEPS)
        elif kwargs.get("validation_data") is not None:
            kwargs["validation_data"] = _cut_validation_data(kwargs["validation_data"])
        if kwargs.get("sample_weight") is not None:
            kwargs["sample_weight"] = kwargs["sample_weight"][:QUICK_TRAIN]
        if not _arrays(x):  # a dataset, a Sequence or a generator: its first QUICK_STEPS batches
            kwargs["steps_per_epoch"] = min(kwargs.get("steps_per_epoch") or QUICK_STEPS, QUICK_STEPS)
            return fit(self, x, y, *args, **kwargs)
        return fit(self, x[:QUICK_TRAIN], None if y is None else y[:QUICK_TRAIN], *args, **kwargs)
    return quick_fit


def _arrays(x):
    return x is None or hasattr(x, "shape") or isinstance(x, (list, tuple, dict))


def _quick_evaluate(evaluate):
    @functools.wraps(evaluate)
    def quick_evaluate(self, x=None, y=None, *args, **kwargs):
        return evaluate(self, x[:QUICK_EVAL], None if y is None else y[:QUICK_EVAL], *args, **kwargs)
    return quick_evaluate


def _cut_load_data(load_data, n_train, n_test):
    @functools.wraps(load_data)
    def cut_load_data(*args, **kwargs):
        (x_train, y_train), (x_test, y_test) = load_data(*args, **kwargs)
        return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])
    return cut_load_data


def run(path, quick=False):
    """Run the script at ``path`` (as ``__main__``) and return its globals."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # plt.show() draws nothing and does not block
    if not quick:
        return runpy.run_path(path, run_name="__main__")
    from tinynet import models
    from tinynet.io.datasets import fashion_mnist, mnist
    originals = {name: getattr(models.Model, name) for name in ("fit", "evaluate")}
    loaders = {module: module.load_data for module in (mnist, fashion_mnist)}
    models.Model.fit = _quick_fit(originals["fit"])
    models.Model.evaluate = _quick_evaluate(originals["evaluate"])
    if os.path.basename(path) in CUT_DATA:
        for module, load_data in loaders.items():
            module.load_data = _cut_load_data(load_data, *CUT_DATA[os.path.basename(path)])
    try:
        return runpy.run_path(path, run_name="__main__")
    finally:
        for name, method in originals.items():
            setattr(models.Model, name, method)
        for module, load_data in loaders.items():
            module.load_data = load_data


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TRAIN} training samples, 1 epoch")
    arguments = parser.parse_args()
    script = arguments.script
    if not os.path.exists(script):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), script)
    sys.argv = [script]
    run(script, quick=arguments.quick)
