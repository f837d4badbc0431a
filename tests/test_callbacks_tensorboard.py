"""TensorBoard: event files that TensorBoard's own reader reads back; a clear ImportError without tensorboardX."""
import sys

import numpy as np
import pytest

from tinynet import callbacks, layers, optimizers
from tinynet.models import Sequential


def tiny_model(optimizer=None):
    model = Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer or optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def tiny_data(n=32):
    generator = np.random.default_rng(0)
    return generator.random((n, 3), dtype=np.float32), generator.integers(0, 2, n)


# ---------------------------------------------------------------- TensorBoard

def test_tensorboard_writes_event_files_that_tensorboard_reads(tmp_path):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = tiny_data()
    model = tiny_model(optimizers.SGD(learning_rate=0.1))
    board = callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq=2)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.25, callbacks=[board])

    def read(run):
        accumulator = event_accumulator.EventAccumulator(str(tmp_path / run), size_guidance={"scalars": 0})
        accumulator.Reload()
        return accumulator

    train, validation = read("train"), read("validation")
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "batch_loss"} <= set(train.Tags()["scalars"])
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_loss")], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([e.value for e in validation.Scalars("epoch_loss")], history.history["val_loss"],
                               rtol=1e-6)
    # 24 training samples: 3 batches an epoch, 9 in all, written every 2nd batch
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8]
    assert f"{model.layers[0].name}/kernel_0" in train.Tags()["histograms"]


def test_tensorboard_without_tensorboardx_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # makes `import tensorboardX` fail
    with pytest.raises(ImportError, match=r'pip install "tinynet\[tensorboard\]"'):
        callbacks.TensorBoard()


def test_tensorboard_arguments():
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match="Received: update_freq=0"):
        callbacks.TensorBoard(update_freq=0)
    with pytest.raises(ValueError, match="Received: histogram_freq=-1"):
        callbacks.TensorBoard(histogram_freq=-1)
    with pytest.warns(UserWarning, match="does not support `profile_batch`"):
        callbacks.TensorBoard(profile_batch=2)
