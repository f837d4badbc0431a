"""Issue 22, files and round trips: what a file read back says is what was written, and a damaged
file is refused in a short sentence before anything changes.

- BackupAndRestore's ``training_state.json``: bytes that are not UTF-8, or more than a training state
  takes, are refused by name (never a raw UnicodeDecodeError, never read whole);
- the compile settings survive a round trip through every format (loss_weights, metric objects
  with their settings, the optimizer's arguments).
"""
import os

import numpy as np
import pytest

import tinynet
from tinynet import callbacks, layers, metrics, optimizers
from tinynet.models import Sequential, load_model

X = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 2, (16, 1)).astype(np.float32)


def model():
    tinynet.set_random_seed(0)
    m = Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizers.SGD(0.1), "binary_crossentropy")
    return m


@pytest.mark.parametrize("content, message", [
    (b'{"epoch": 1, "file": "backup-1.npz", "x": "\xff\xfe"}', r"is not JSON \(.*can't decode byte 0xff"),
    (b'{"epoch": 1, "file": "' + b"a" * 10_000_000 + b'"}', r"is longer than the 10,000 bytes a training state takes"),
    (b'{"epoch": -5, "file": "backup--5.npz"}', r"is not a training state written by tinynet"),
    (b"[" * 5_000, r"is not JSON"),
])
def test_a_damaged_training_state_is_refused_by_name_before_anything_changes(tmp_path, content, message):
    backup = tmp_path / "backup"
    m = model()
    m.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(str(backup), delete_checkpoint=False)])
    (backup / "training_state.json").write_bytes(content)
    before, steps = m.get_weights(), int(m.optimizer.iterations)
    with pytest.raises(ValueError, match=message) as caught:
        m.fit(X, Y, epochs=3, verbose=0, callbacks=[callbacks.BackupAndRestore(str(backup))])
    assert len(str(caught.value)) < 400 + 2 * len(str(backup))
    assert "training_state.json" in str(caught.value)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(m.optimizer.iterations) == steps
    assert (backup / "training_state.json").read_bytes() == content
