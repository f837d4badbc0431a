"""BackupAndRestore: an interrupted fit resumes from the last whole epoch, with weights and optimizer state."""
import json
import os

import numpy as np
import pytest

from tinynet import callbacks, layers, optimizers
from tinynet.models import Sequential, load_model


def tiny_model(optimizer=None):
    model = Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer or optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def tiny_data(n=32):
    generator = np.random.default_rng(0)
    return generator.random((n, 3), dtype=np.float32), generator.integers(0, 2, n)


# ---------------------------------------------------------------- BackupAndRestore

class Interrupt(callbacks.Callback):
    """Raises KeyboardInterrupt at the end of the given epoch's second batch, as a Ctrl-C would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 1:
            raise KeyboardInterrupt


def test_backup_restores_weights_optimizer_state_and_the_next_epoch(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[backup, Interrupt(epoch=3)])
    state = json.loads((tmp_path / "backup" / "training_state.json").read_text())
    assert state == {"epoch": 2, "file": "backup-2.npz"}  # epochs 0..2 finished
    assert sorted(os.listdir(tmp_path / "backup")) == ["backup-2.npz", "training_state.json"]
    saved = load_model(tmp_path / "backup" / "backup-2.npz")

    fresh = tiny_model()  # a new process: a new model, the same code
    backup.set_model(fresh)
    backup.set_params({"epochs": 5})
    backup.on_train_begin({})
    assert fresh._initial_epoch == 3
    for restored, expected in zip(fresh.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(restored, expected)
    assert fresh.optimizer.iterations == saved.optimizer.iterations == 3 * 4
    for new, old in zip(fresh.trainable_weights, saved.trainable_weights):
        for key in saved.optimizer.state[old]:
            np.testing.assert_array_equal(fresh.optimizer.state[new][key], saved.optimizer.state[old][key])


def test_a_resumed_schedule_stays_a_schedule_and_the_run_matches_an_uninterrupted_one(tmp_path):
    x, y = tiny_data()

    def scheduled():
        from tinynet import set_random_seed
        set_random_seed(0)
        return tiny_model(optimizers.SGD(optimizers.schedules.ExponentialDecay(0.5, decay_steps=4, decay_rate=0.5)))

    straight = scheduled()
    straight.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0)
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        scheduled().fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                        callbacks=[backup, Interrupt(epoch=3)])
    resumed = scheduled()
    resumed.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0, callbacks=[backup])
    assert resumed.optimizer.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_resumes_from_the_backup_and_deletes_it_when_done(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[backup, Interrupt(epoch=3)])
    history = tiny_model().fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [3, 4]
    assert os.listdir(tmp_path / "backup") == []


def test_backup_is_kept_when_fit_is_interrupted_and_refuses_a_damaged_state(tmp_path):
    x, y = tiny_data()
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        tiny_model().fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[backup, Interrupt(epoch=1)])
    assert (tmp_path / "backup" / "training_state.json").exists()  # on_train_end ran, the backup stayed
    (tmp_path / "backup" / "training_state.json").write_text('{"epoch": 0, "file": "../../etc/passwd"}')
    model = tiny_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="not a training state written by tinynet"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[backup])
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    with pytest.raises(ValueError, match="Received: save_freq=5"):
        callbacks.BackupAndRestore(tmp_path, save_freq=5)


def test_backup_is_deleted_after_a_finished_fit(tmp_path):
    x, y = tiny_data()
    tiny_model().fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(tmp_path / "b")])
    assert os.listdir(tmp_path / "b") == []
    tiny_model().fit(x, y, epochs=2, verbose=0,
                     callbacks=[callbacks.BackupAndRestore(tmp_path / "c", delete_checkpoint=False)])
    assert sorted(os.listdir(tmp_path / "c")) == ["backup-1.npz", "training_state.json"]
