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

def read_event_files(run_dir):
    """``{tag: [(step, value), ...]}`` for the scalars, and the set of histogram tags, in ``run_dir``.

    With TensorBoard installed, through TensorBoard's own reader; otherwise the records are
    read by hand (TFRecord framing: length, its masked CRC-32C, the Event, its CRC) and parsed
    with the Event protocol buffer tensorboardX ships.
    """
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        event_accumulator = None
    if event_accumulator is not None:
        accumulator = event_accumulator.EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
        accumulator.Reload()
        scalars = {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}
        return scalars, set(accumulator.Tags()["histograms"])
    import struct

    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import masked_crc32c
    scalars, histograms = {}, set()
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            header = data[offset:offset + 8]
            (length,) = struct.unpack("<Q", header)
            assert struct.unpack("<I", data[offset + 8:offset + 12])[0] == masked_crc32c(header)
            record = data[offset + 12:offset + 12 + length]
            assert struct.unpack("<I", data[offset + 12 + length:offset + 16 + length])[0] == masked_crc32c(record)
            offset += 16 + length
            event = Event.FromString(record)
            for value in event.summary.value:
                if value.HasField("histo"):
                    histograms.add(value.tag)
                else:
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars, histograms


def test_tensorboard_writes_event_files_that_tensorboard_reads(tmp_path):
    pytest.importorskip("tensorboardX")
    x, y = tiny_data()
    model = tiny_model(optimizers.SGD(learning_rate=0.1))
    board = callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq=2)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.25, callbacks=[board])

    train, histograms = read_event_files(tmp_path / "train")
    validation, _ = read_event_files(tmp_path / "validation")
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "batch_loss"} <= set(train)
    assert [step for step, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in validation["epoch_loss"]], history.history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.1] * 3, rtol=1e-6)
    # 24 training samples: 3 batches an epoch, 9 in all, written every 2nd batch
    assert [step for step, _ in train["batch_loss"]] == [2, 4, 6, 8]
    assert f"{model.layers[0].name}/kernel_0" in histograms and f"{model.layers[1].name}/bias_0" in histograms


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


def test_fits_in_the_same_second_write_separate_event_files_and_every_threshold_gets_a_curve(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    import time

    from tinynet import metrics
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)        # every writer starts in the same second
    x, y = tiny_data()
    model = Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[metrics.Precision(thresholds=[0.3, 0.7]), "accuracy"])
    histories = [model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                           callbacks=[callbacks.TensorBoard(log_dir=tmp_path, update_freq=1)]) for _ in range(2)]
    assert [p.name.split(".")[3] for p in (tmp_path / "train").glob("events.out.tfevents.*")] == ["1800000000"] * 2
    train, _ = read_event_files(tmp_path / "train")
    validation, _ = read_event_files(tmp_path / "validation")
    both = [value for history in histories for value in history.history["loss"]]
    np.testing.assert_allclose(sorted(v for _, v in train["epoch_loss"]), sorted(both), rtol=1e-6)
    for run, prefix in ((train, ""), (validation, "val_")):
        for i, threshold in enumerate(("0.3", "0.7")):
            expected = [history.history[f"{prefix}precision"][epoch][i] for history in histories for epoch in (0, 1)]
            written = run[f"epoch_precision/threshold_{threshold}"]
            assert sorted(step for step, _ in written) == [0, 0, 1, 1]
            np.testing.assert_allclose(sorted(v for _, v in written), sorted(expected), rtol=1e-6)
    assert {"batch_precision/threshold_0.3", "batch_precision/threshold_0.7"} <= set(train)
