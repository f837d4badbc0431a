"""The graph examples run in --quick mode and learn; the GradientTape loop is fit's step, bit for bit."""
import importlib.util
import os

import numpy as np
import pytest

import tinynet
from conftest import REPO
from test_examples import result_line, run_example


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "examples", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_residual_cnn_quick(has_mnist, tmp_path):
    output = run_example("examples/residual_cnn.py", "--quick", "--plot", str(tmp_path / "trace.png"))
    result = result_line(output)
    assert float(result["test_accuracy"]) > 0.2                            # chance is 0.1
    assert "fork_sum (Add)" in output and (tmp_path / "trace.png").stat().st_size > 0


def test_autoencoder_quick(has_mnist, tmp_path):
    output = run_example("examples/autoencoder.py", "--quick", "--plot", str(tmp_path / "recon.png"))
    result = result_line(output)
    (_, _), (x_test, _) = tinynet.datasets.mnist.load_data()
    half_grey = np.mean((0.5 - x_test[:256] / 255) ** 2)                   # the untrained sigmoid's guess
    assert float(result["reconstruction_mse"]) < 0.6 * half_grey
    assert (tmp_path / "recon.png").stat().st_size > 0


def test_custom_training_loop_quick(has_mnist):
    result = result_line(run_example("examples/custom_training_loop.py", "--quick"))
    assert float(result["test_accuracy"]) > 0.4


def test_the_tape_loop_gives_fit_s_weights_bit_for_bit():
    """The example's train_step over the same batches as fit(shuffle=False), from the same seed."""
    example = load_example("custom_training_loop")
    rng = np.random.default_rng(0)
    x, y = rng.random((48, 8, 8, 1)).astype("float32"), rng.integers(0, 10, 48)

    def build():
        tinynet.set_random_seed(5)
        model = example.MyModel()
        model.compile(optimizer=tinynet.optimizers.Adam(),
                      loss=tinynet.losses.SparseCategoricalCrossentropy(from_logits=True))
        model(x[:1])                                                       # build the weights from the seed
        return model

    fitted = build()
    fitted.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    looped = build()
    loss_object = tinynet.losses.SparseCategoricalCrossentropy(from_logits=True)
    for _ in range(2):
        for start in range(0, 48, 16):
            example.train_step(looped, looped.optimizer, loss_object, x[start:start + 16], y[start:start + 16])
    assert len(fitted.get_weights()) == 6
    for a, b in zip(fitted.get_weights(), looped.get_weights()):
        np.testing.assert_array_equal(a, b)
