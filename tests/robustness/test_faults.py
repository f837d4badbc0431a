"""Training that goes wrong keeps the model usable; files and caches survive failures.

Divergence (NaN / inf loss or weights), Ctrl-C at every point of a step, numerics
at the edges (huge logits, batches of one, ties, float64 data), a save that fails
half-way, and two processes filling the data set cache at once.
"""
import multiprocessing
import os
import re
import signal
import sys
import time


import numpy as np
import pytest

import tinynet
from tinynet import callbacks, layers, optimizers
from tinynet.datasets import mnist
from tinynet.fast import optimizer_step
from tinynet.io import cache, download
from tinynet.models import Sequential

RNG = np.random.default_rng(0)
X = RNG.random((64, 4), dtype=np.float32)
Y = (X.sum(axis=1) > 2).astype(np.int64)


def mlp(optimizer="sgd"):
    model = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                        layers.Dense(2, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Recorder(callbacks.Callback):
    """Keeps the weights after every completed batch, and whether on_train_end ran."""

    def __init__(self):
        super().__init__()
        self.after_batch = []
        self.ended = False

    def on_train_batch_end(self, batch, logs=None):
        self.after_batch.append(self.model.get_weights())

    def on_train_end(self, logs=None):
        self.ended = True


def assert_weights_equal(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert np.all(np.isfinite(a))
        np.testing.assert_array_equal(a, b)


# ----- divergence ----------------------------------------------------------------
class RaiseLearningRate(callbacks.Callback):
    def __init__(self, at_epoch, learning_rate):
        super().__init__()
        self.at_epoch, self.learning_rate = at_epoch, learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            self.model.optimizer.learning_rate = self.learning_rate


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_nan_loss_stops_at_that_batch_with_the_last_finite_weights():
    model = Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizers.SGD(0.01), "mse")
    recorder = Recorder()
    x, y = RNG.random((32, 4), dtype=np.float32), RNG.random(32, dtype=np.float32)
    with pytest.raises(tinynet.TrainingDivergedError) as info:
        model.fit(x, y, batch_size=4, epochs=50, shuffle=False, verbose=0,
                  callbacks=[RaiseLearningRate(2, 1000.0), recorder])
    error = info.value
    assert error.epoch == 2 and error.batch is not None and not np.isfinite(error.loss)
    assert f"at epoch 3, batch {error.batch + 1}" in str(error)
    assert "lower learning rate" in str(error) and "SGD(learning_rate=100) instead of 1000" in str(error)
    assert_weights_equal(model.get_weights(), recorder.after_batch[-1])
    assert recorder.ended
    assert model.history.epoch == [0, 1] and error.history is model.history  # completed epochs only
    assert np.all(np.isfinite(model.predict(x)))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_terminate_on_nan_makes_fit_stop_quietly_as_in_keras(capsys):
    model = Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizers.SGD(0.01), "mse")
    recorder = Recorder()
    x, y = RNG.random((32, 4), dtype=np.float32), RNG.random(32, dtype=np.float32)
    history = model.fit(x, y, batch_size=4, epochs=50, shuffle=False, verbose=0,
                        callbacks=[RaiseLearningRate(2, 1000.0), recorder, callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 2  # the two completed epochs; no exception
    assert re.search(r"Batch \d+: Invalid loss, terminating training", capsys.readouterr().out)
    assert_weights_equal(model.get_weights(), recorder.after_batch[-1])
    assert recorder.ended
    assert np.all(np.isfinite(model.predict(x)))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_an_update_that_overflows_the_weights_is_rolled_back():
    model = Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizers.SGD(1e37), "mse")
    before = model.get_weights()
    with pytest.raises(tinynet.TrainingDivergedError, match=r"epoch 1, batch 1: the update made some weights NaN"):
        model.fit(X, X.sum(axis=1) * 1e3, batch_size=8, verbose=0)
    assert_weights_equal(model.get_weights(), before)
    assert model.optimizer.iterations == 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_train_on_batch_refuses_a_non_finite_loss_without_updating():
    model = mlp()
    model.set_weights([w * 1e30 for w in model.get_weights()])  # logits ~1e32: inf in float32
    before = model.get_weights()
    with pytest.raises(tinynet.TrainingDivergedError, match=r"Training diverged: the loss became nan"):
        model.train_on_batch(X * 1e10, Y)
    assert_weights_equal(model.get_weights(), before)


# ----- Ctrl-C ----------------------------------------------------------------------
def fit_interrupted(model, recorder, **kwargs):
    with pytest.raises(KeyboardInterrupt) as info:
        model.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[recorder], **kwargs)
    assert recorder.ended
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # fit put Python's handler back
    return info.value


def reference_weights(steps):
    """The weights after ``steps`` uninterrupted steps from the same start."""
    tinynet.set_random_seed(0)
    model = mlp("adam")
    recorder = Recorder()
    model.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[recorder])
    return recorder.after_batch[steps - 1]


def test_interrupt_from_a_callback_keeps_the_completed_batch_and_epochs():
    class CtrlC(Recorder):
        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, logs)
            if len(self.after_batch) == 6:  # epoch 2 (0-based 1), batch 2
                raise KeyboardInterrupt

    tinynet.set_random_seed(0)
    model, recorder = mlp("adam"), CtrlC()
    fit_interrupted(model, recorder)
    assert model.history.epoch == [0] and len(model.history.history["loss"]) == 1
    assert_weights_equal(model.get_weights(), reference_weights(6))


def test_interrupt_inside_a_layer_forward_leaves_the_previous_step(monkeypatch):
    tinynet.set_random_seed(0)
    model, recorder = mlp("adam"), Recorder()
    forward, calls = model.layers[1].forward, []

    def forward_then_ctrl_c(x, training=False):
        calls.append(training)
        if training and len(calls) == 7:  # batch 7: steps 1-6 completed
            raise KeyboardInterrupt
        return forward(x, training)

    monkeypatch.setattr(model.layers[1], "forward", forward_then_ctrl_c)
    fit_interrupted(model, recorder)
    assert model.history.epoch == [0]
    assert_weights_equal(model.get_weights(), reference_weights(6))
    assert model.optimizer.iterations == 6


def patch_update(monkeypatch, optimizer, at_call, action=None):
    """Run ``action`` just before the ``at_call``-th run of the update rule (1-based, counted over all steps);
    returns the list that counts the runs.

    The rule runs on blocks of the flat buffers that hold every parameter (tinynet/fast/optimizer_step.py).
    The blocks are made small here, so that one step is several runs and an action in the middle of a step
    finds some weights computed and others not."""
    kernel_of, calls = optimizer_step.KERNELS[type(optimizer)], []

    def with_action(opt, lr):
        kernel, constants = kernel_of(opt, lr)

        def kernel_after_action(*arrays):
            calls.append(1)
            if len(calls) == at_call:
                action()
            return kernel(*arrays)
        return kernel_after_action, constants

    monkeypatch.setattr(optimizer_step, "BLOCK", 16)
    monkeypatch.setitem(optimizer_step.KERNELS, type(optimizer), with_action)
    return calls


def updates_per_step():
    counter = mlp("adam")
    with pytest.MonkeyPatch.context() as patch:
        calls = patch_update(patch, counter.optimizer, None)
        counter.train_on_batch(X[:16], Y[:16])
    assert len(calls) > 3  # the steps below are cut after their second and third runs
    return len(calls)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to itself")
def test_ctrl_c_inside_the_update_finishes_the_step_then_stops(monkeypatch):
    tinynet.set_random_seed(0)
    model, recorder = mlp("adam"), Recorder()
    per_step = updates_per_step()
    # A real Ctrl-C (SIGINT) arriving half-way through the optimizer step of batch 5.
    patch_update(monkeypatch, model.optimizer, 4 * per_step + 2, lambda: os.kill(os.getpid(), signal.SIGINT))
    error = fit_interrupted(model, recorder)
    assert "fit stopped by Ctrl-C after epoch 2, batch 1" in str(error)
    assert len(recorder.after_batch) == 5  # the step finished, and nothing after it ran
    assert_weights_equal(model.get_weights(), reference_weights(5))


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to itself")
def test_second_ctrl_c_stops_at_once_and_the_cut_step_is_rolled_back(monkeypatch):
    tinynet.set_random_seed(0)
    model, recorder = mlp("adam"), Recorder()
    per_step = updates_per_step()

    def ctrl_c_twice():
        os.kill(os.getpid(), signal.SIGINT)
        # Pending signals of one kind coalesce: let fit's handler see the first press.
        handler = signal.getsignal(signal.SIGINT).__self__
        while not handler.requested:
            time.sleep(0.001)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # the second press interrupts this

    patch_update(monkeypatch, model.optimizer, 4 * per_step + 2, ctrl_c_twice)
    fit_interrupted(model, recorder)
    assert len(recorder.after_batch) == 4
    assert_weights_equal(model.get_weights(), reference_weights(4))
    assert model.optimizer.iterations == 4


def test_interrupt_raised_inside_the_update_rolls_the_step_back(monkeypatch):
    """A KeyboardInterrupt with some weights computed and others not: none is committed."""
    tinynet.set_random_seed(0)
    model, recorder = mlp("adam"), Recorder()
    per_step = updates_per_step()

    def ctrl_c():
        raise KeyboardInterrupt

    patch_update(monkeypatch, model.optimizer, 4 * per_step + 3, ctrl_c)
    fit_interrupted(model, recorder)
    assert_weights_equal(model.get_weights(), reference_weights(4))
    # The model is usable: training resumes and predictions are finite.
    monkeypatch.undo()
    model.fit(X, Y, epochs=1, verbose=0)
    assert np.all(np.isfinite(model.predict(X)))


# ----- numerics ---------------------------------------------------------------------
def test_sigmoid_with_binary_crossentropy_is_finite_for_huge_logits():
    # (softmax + cross-entropy at +-1e4: tests/test_losses.py)
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(1,))])
    model.compile("sgd", "binary_crossentropy")
    model.set_weights([np.array([[1e4]], np.float32), np.zeros(1, np.float32)])
    x, y = np.array([[1.0], [-1.0]], np.float32), np.array([0.0, 1.0])  # both confidently wrong
    assert model.test_on_batch(x, y) == pytest.approx(1e4, rel=1e-4)
    model.train_on_batch(x, y)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_batch_normalization_with_a_batch_of_one():
    # One sample: the batch variance is exactly 0, so y = beta (xhat = 0 / sqrt(0 + epsilon)).
    model = Sequential([layers.Dense(3, input_shape=(4,)), layers.BatchNormalization(),
                        layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    bn = model.layers[1]
    y = bn.forward(np.array([[1.0, -2.0, 3.0]], np.float32), training=True)
    np.testing.assert_array_equal(y, np.zeros((1, 3)))
    assert np.all(np.isfinite(bn.backward(np.ones((1, 3), np.float32))))
    model.fit(X, Y, batch_size=1, epochs=1, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert np.all(np.isfinite(model.predict(X)))


def test_relu_at_zero_uses_the_zero_subgradient():
    relu = layers.ReLU()
    relu.forward(np.array([[-1.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_max_pooling_tie_gives_the_gradient_to_the_first_maximum():
    pool = layers.MaxPooling2D(2)
    x = np.array([[7, 7], [3, 7]], np.float32).reshape(1, 2, 2, 1)  # three-way tie
    assert pool(x).item() == 7
    dx = pool.backward(np.full((1, 1, 1, 1), 5.0, np.float32)).reshape(2, 2)
    np.testing.assert_array_equal(dx, [[5, 0], [0, 0]])  # row-major first, the sum is kept
    pool(np.array([[1, 2], [9, 9]], np.float32).reshape(1, 2, 2, 1))  # a tie in the bottom row
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1), np.float32)).reshape(2, 2), [[0, 0], [1, 0]])


def test_float64_inputs_to_a_float32_model_are_cast_and_stay_float32():
    model = mlp()
    x64 = X.astype(np.float64)
    model.fit(x64, Y, epochs=1, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    out = model.predict(x64)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, model.predict(X))


# ----- files and data ------------------------------------------------------------------
@pytest.mark.parametrize("failure", ["replace fails", "interrupted while writing"])
def test_a_failed_save_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path, monkeypatch, failure):
    # (a full disk during np.savez: tests/test_saving.py)
    path = tmp_path / "model.npz"
    model = mlp()
    model.save(path)
    good = path.read_bytes()
    model.fit(X, Y, epochs=1, verbose=0)  # new weights that must not half-reach the file
    if failure == "replace fails":
        def replace(src, dst):
            raise OSError(18, "Invalid cross-device link")
        monkeypatch.setattr(os, "replace", replace)
        expected = OSError
    else:
        savez = np.savez

        def savez_then_ctrl_c(file, **arrays):
            savez(file, **arrays)
            file.truncate(file.tell() // 2)
            raise KeyboardInterrupt
        monkeypatch.setattr(np, "savez", savez_then_ctrl_c)
        expected = KeyboardInterrupt
    with pytest.raises(expected):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["model.npz"]
    assert tinynet.saving.load_model(path).count_params() == model.count_params()


def _load_in_child(args):
    home, expected = args
    os.environ["TINYNET_HOME"] = home
    os.environ["KERAS_HOME"] = home + "/keras"
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    cache.verify_arrays(arrays, expected, source="child")
    return "ok"


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method")
def test_two_processes_filling_the_cache_at_once(tmp_path, monkeypatch):
    # (a truncated or corrupt cache is detected and fetched again: tests/test_datasets_mnist.py)
    rng = np.random.default_rng(1)
    arrays = {"x_train": rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 300, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 50, dtype=np.uint8)}
    expected = {name: cache.ArraySpec(a.shape, str(a.dtype), cache.sha256_array(a)) for name, a in arrays.items()}
    monkeypatch.setattr(mnist, "EXPECTED", expected)
    monkeypatch.setattr(mnist, "_fetch", lambda dest: {name: a.copy() for name, a in arrays.items()})
    monkeypatch.setattr(download, "notify", lambda message: None)
    home = str(tmp_path)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(_load_in_child, [(home, expected)] * 4) == ["ok"] * 4
    cache_dir = tmp_path / "datasets"
    assert os.listdir(cache_dir) == ["mnist.npz"]  # one complete file, no temporary left
    assert set(cache.load_npz(cache_dir / "mnist.npz", expected)) == set(arrays)
