"""BackupAndRestore: an interrupted fit resumes from the last whole epoch, with weights and optimizer state."""
import json
import os

import numpy as np
import pytest

import tinynet
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


# ---------------------------------------------------------------- resumed = uninterrupted; refusals change nothing

def scheduled_adam():
    from tinynet.optimizers import schedules
    return optimizers.Adam(learning_rate=schedules.ExponentialDecay(0.05, decay_steps=3, decay_rate=0.5))


def test_a_resumed_fit_gives_the_weights_of_an_uninterrupted_one_learning_rate_schedule_included(tmp_path):
    x, y = tiny_data()
    tinynet.set_random_seed(1)
    straight = tiny_model(scheduled_adam())
    straight.fit(x, y, epochs=4, batch_size=8, verbose=0)               # shuffled: the random state matters too

    tinynet.set_random_seed(1)
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        tiny_model(scheduled_adam()).fit(x, y, epochs=4, batch_size=8, verbose=0,
                                         callbacks=[backup, Interrupt(epoch=2)])
    tinynet.set_random_seed(99)                                          # a new process
    resumed = tiny_model(scheduled_adam())
    history = resumed.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3]
    assert resumed.optimizer.get_config() == straight.optimizer.get_config()   # still the schedule
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


def interrupted_backup(directory):
    """A backup directory left by a fit killed during epoch 1 (epoch 0 backed up)."""
    backup = callbacks.BackupAndRestore(directory)
    with pytest.raises(KeyboardInterrupt):
        tiny_model().fit(*tiny_data(), epochs=3, batch_size=8, verbose=0, callbacks=[backup, Interrupt(epoch=1)])
    return backup


@pytest.mark.parametrize("state, message", [
    ('{"epoch": -5, "file": "backup-0.npz"}', "not a training state written by tinynet"),
    ('{"epoch": true, "file": "backup-0.npz"}', "not a training state written by tinynet"),
    ('{"epoch": 0.0, "file": "backup-0.npz"}', "not a training state written by tinynet"),
    ('{"epoch": "0", "file": "backup-0.npz"}', "not a training state written by tinynet"),
    ('{"epoch": 1, "file": "backup-0.npz"}', "not a training state written by tinynet"),
    ('{"epoch": 0, "file": "backup-0.npz", "extra": 1}', "not a training state written by tinynet"),
    ('{"epoch": 0}', "not a training state written by tinynet"),
    ('[0, "backup-0.npz"]', "not a training state written by tinynet"),
    ('{"epoch": 7, "file": "backup-7.npz"}', r"names backup-7\.npz, which is not there"),
    ('{"epoch": 0, "file": ', "is not JSON"),
])
def test_a_damaged_training_state_is_refused_before_anything_changes(state, message, tmp_path, unchanged):
    interrupted_backup(tmp_path / "backup")
    (tmp_path / "backup" / "training_state.json").write_text(state)
    model = tiny_model()
    with unchanged(model, tmp_path), pytest.raises(ValueError, match=message + r".*Delete the directory"):
        model.fit(*tiny_data(), epochs=3, verbose=0, callbacks=[callbacks.BackupAndRestore(tmp_path / "backup")])


@pytest.mark.parametrize("other, message", [
    (lambda: Sequential([layers.Dense(5, input_shape=(3,)), layers.Dense(2, activation="softmax")]),
     r"its weight 0 has shape \(3, 4\), this model's \(3, 5\)"),
    (lambda: Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))]),
     r"it has 4 weight arrays, this model 2"),
    (lambda: tiny_model(optimizers.SGD()), r"it was trained by Adam, this model by SGD"),
])
def test_a_backup_of_another_model_is_refused_before_anything_changes(other, message, tmp_path, unchanged):
    interrupted_backup(tmp_path / "backup")
    model = other()
    if model.loss is None:
        model.compile(optimizer=optimizers.Adam(), loss="sparse_categorical_crossentropy")
    model.fit(*tiny_data(), verbose=0)
    with unchanged(model, tmp_path), pytest.raises(ValueError, match=r"is the backup of another model \(" + message):
        model.fit(*tiny_data(), epochs=3, verbose=0, callbacks=[callbacks.BackupAndRestore(tmp_path / "backup")])


class Poison(callbacks.Callback):
    """Makes the loss NaN from the given epoch on, as a diverging run would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.model.layers[0].kernel.data[0, 0] = np.nan


def test_the_backup_is_kept_after_a_divergence_stopped_by_terminate_on_nan_and_the_next_fit_resumes(tmp_path,
                                                                                                   capsys):
    x, y = tiny_data()
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    history = tiny_model().fit(x, y, epochs=4, batch_size=8, verbose=0,
                               callbacks=[backup, Poison(epoch=2), callbacks.TerminateOnNaN()])
    assert history.epoch == [0, 1] and "Invalid loss, terminating training" in capsys.readouterr().out
    assert json.loads((tmp_path / "backup" / "training_state.json").read_text()) == {"epoch": 1,
                                                                                      "file": "backup-1.npz"}
    history = tiny_model().fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3] and np.isfinite(history.history["loss"]).all()
    assert os.listdir(tmp_path / "backup") == []


def test_a_backup_dir_another_fit_is_using_is_refused(tmp_path, unchanged):
    pytest.importorskip("fcntl")
    x, y = tiny_data()
    directory = tmp_path / "backup"
    other = tiny_model()
    refusals = []

    class SecondFit(callbacks.Callback):  # starts another fit on the same directory while the first runs
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                with unchanged(other, tmp_path), pytest.raises(RuntimeError) as refusal:
                    other.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(directory)])
                refusals.append(str(refusal.value))

    history = tiny_model().fit(x, y, epochs=3, verbose=0,
                               callbacks=[callbacks.BackupAndRestore(directory), SecondFit()])
    assert history.epoch == [0, 1, 2] and os.listdir(directory) == []
    assert refusals == [f"BackupAndRestore: {directory} is in use by another fit (in this process), whose backups "
                        "this fit would overwrite and resume from. Give each fit its own backup_dir."]

    # Another process holding the directory: refused, naming it; once it has ended, the directory is free.
    import subprocess
    import sys
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); "
                               "fcntl.flock(f, fcntl.LOCK_EX); f.write('4242'); f.flush(); print('held', flush=True); "
                               "time.sleep(30)", str(directory / "training.lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with unchanged(other, tmp_path), pytest.raises(RuntimeError, match=r"in use by another fit \(in process "
                                                                            r"4242\)"):
            other.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(directory)])
    finally:
        holder.kill()
        holder.wait()
    assert other.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.BackupAndRestore(directory)]).epoch == [0, 1]
