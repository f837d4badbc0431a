"""Keras's callbacks: EarlyStopping, ModelCheckpoint, TerminateOnNaN, LearningRateScheduler,
ReduceLROnPlateau, CSVLogger, LambdaCallback, and History to / from JSON.

Most tests drive a callback by hand with a sequence of logs, so the expected
epochs can be worked out on paper; a few run it inside ``fit``.
"""
import csv
import os
import types

import numpy as np
import pytest

from tinynet import callbacks, layers, optimizers
from tinynet.models import Sequential, load_model


class FakeModel:
    """Just what callbacks touch: stop_training, an optimizer's learning rate, weights."""

    def __init__(self, learning_rate=1.0):
        self.stop_training = False
        self.optimizer = types.SimpleNamespace(learning_rate=learning_rate)
        self.weights = [np.array(-1.0)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


def drive(callback, values, monitor="val_loss", model=None):
    """Run ``callback`` over one epoch per value, as fit would; returns the epochs run and the model.
    The model's weight is set to the epoch number, so restored weights tell which epoch they came from."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    epochs = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        model.weights = [np.array(float(epoch))]
        epochs.append(epoch)
        callback.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, model


def tiny_model(optimizer="sgd"):
    model = Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["acc"])
    return model


def tiny_data(n=32):
    generator = np.random.default_rng(0)
    return generator.random((n, 3), dtype=np.float32), generator.integers(0, 2, n)


# ---------------------------------------------------------------- EarlyStopping

def test_early_stopping_patience():
    stopper = callbacks.EarlyStopping(patience=2)
    epochs, model = drive(stopper, [1.0, 0.9, 0.95, 0.91, 0.8])
    # best 0.9 at epoch 1; epochs 2 and 3 do not improve -> stop at epoch 3
    assert epochs == [0, 1, 2, 3] and stopper.stopped_epoch == 3 and model.stop_training
    assert stopper.best == 0.9 and stopper.best_epoch == 1


def test_early_stopping_min_delta_and_mode():
    stopper = callbacks.EarlyStopping(patience=1, min_delta=0.2)
    assert drive(stopper, [1.0, 0.85, 0.7])[0] == [0, 1]  # 0.85 is better, but not by more than 0.2
    rising = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)  # 'auto' -> max for accuracies
    assert drive(rising, [0.5, 0.6, 0.7, 0.65], monitor="val_accuracy")[0] == [0, 1, 2, 3]
    assert rising.best == 0.7
    falling = callbacks.EarlyStopping(monitor="val_accuracy", patience=0, mode="min")
    assert drive(falling, [0.5, 0.6], monitor="val_accuracy")[0] == [0, 1]


def test_early_stopping_baseline():
    # Never reaching the baseline: the patience counter is not reset, so training stops
    # `patience` epochs after the start even though epoch 0 was the best so far.
    assert drive(callbacks.EarlyStopping(patience=2, baseline=0.5), [0.9, 0.95, 0.97])[0] == [0, 1]
    assert drive(callbacks.EarlyStopping(patience=2), [0.9, 0.95, 0.97])[0] == [0, 1, 2]


def test_early_stopping_restores_best_weights_and_resets_between_fits(capsys):
    stopper = callbacks.EarlyStopping(patience=1, restore_best_weights=True, verbose=1)
    epochs, model = drive(stopper, [0.5, 0.3, 0.4, 0.45])
    assert epochs == [0, 1, 2] and model.weights[0] == 1.0  # the weights at the end of epoch 1
    assert "Epoch 3: early stopping" in capsys.readouterr().out
    # Reused: the previous best (0.3) must not carry over.
    epochs, model = drive(stopper, [0.9, 0.8, 0.7, 0.6])
    assert epochs == [0, 1, 2, 3] and not model.stop_training and stopper.best == 0.6


def test_early_stopping_warns_when_monitor_missing():
    with pytest.warns(UserWarning, match="`val_loss` which is not available. Available metrics are: loss"):
        drive(callbacks.EarlyStopping(), [0.1], monitor="loss")


def test_early_stopping_in_fit_stops_training():
    x, y = tiny_data()
    model = tiny_model()
    # A min_delta no real improvement can beat: stop after 1 + patience epochs.
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[callbacks.EarlyStopping("loss", min_delta=10,
                                                                                        patience=2)])
    assert history.epoch == [0, 1, 2]


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received: patience=-1"):
        callbacks.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="Received: mode='best'"):
        callbacks.EarlyStopping(mode="best")
    with pytest.raises(ValueError, match="factor=1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(TypeError, match="Received: schedule=0.1"):
        callbacks.LearningRateScheduler(0.1)


# ---------------------------------------------------------------- ModelCheckpoint

def test_model_checkpoint_every_epoch_with_placeholders(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "model.{epoch:02d}-{loss:.2f}.npz"))
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"model.{e + 1:02d}-{history.history['loss'][e]:.2f}.npz" for e in range(2)]
    last = load_model(tmp_path / names[-1])
    assert np.array_equal(last.predict(x), model.predict(x))


def test_model_checkpoint_save_best_only(tmp_path, capsys):
    model = tiny_model()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, save_weights_only=True,
                                           verbose=1)
    checkpoint.set_model(model)
    checkpoint.on_train_begin()
    saved_at = []
    for epoch, val_loss in enumerate([0.9, 0.7, 0.8, 0.6]):
        model.layers[0].bias.data[...] = epoch  # marks which epoch's weights were saved
        checkpoint.on_epoch_end(epoch, {"val_loss": val_loss})
        saved_at.append(float(np.load(tmp_path / "best.npz")["weight/0001"][0]))
    assert saved_at == [0, 1, 1, 3]
    out = capsys.readouterr().out
    assert "Epoch 3: val_loss did not improve from 0.70000" in out
    assert "Epoch 4: val_loss improved from 0.70000 to 0.60000, saving model to" in out
    fresh = tiny_model()
    fresh.load_weights(tmp_path / "best.npz")
    assert fresh.layers[0].bias.data[0] == 3


def test_model_checkpoint_unknown_placeholder(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{val_accuracy:.2f}.npz"))
    checkpoint.set_model(tiny_model())
    # Refused before the first epoch: the model reports 'acc' (as compiled), never 'accuracy'.
    with pytest.raises(KeyError, match="names 'val_accuracy', which is not in the logs. Available: loss, acc, val_loss, "
                                       "val_acc, epoch"):
        checkpoint.on_train_begin()
    with pytest.raises(ValueError, match=r"is not a format these logs fill .* write placeholders as \{epoch:02d\}"):
        bad = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch.npz"))
        bad.set_model(tiny_model())
        bad.on_train_begin()
    # A val_ placeholder fit without validation data does not fill: refused at the first save.
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{val_loss:.2f}.npz"))
    checkpoint.set_model(tiny_model())
    checkpoint.on_train_begin()
    with pytest.raises(KeyError, match="names 'val_loss', which is not in the logs. Available: loss, epoch"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- TerminateOnNaN

def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    # Driven by hand: inside fit a non-finite loss already raises TrainingDivergedError
    # before any callback sees it, so TerminateOnNaN matters for Keras code and custom loops.
    model = FakeModel()
    terminate = callbacks.TerminateOnNaN()
    terminate.set_model(model)
    terminate.on_train_begin()
    for batch, loss in enumerate([0.7, 0.6, float("inf"), 0.5]):
        terminate.on_train_batch_end(batch, {"loss": loss})
        if model.stop_training:
            break
    assert batch == 2
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out
    model.stop_training = False
    terminate.on_train_batch_end(0, {"loss": float("nan")})
    assert model.stop_training


# ------------------------------------------------------- learning-rate callbacks

def test_learning_rate_scheduler_two_and_one_argument_schedules():
    x, y = tiny_data()
    model = tiny_model(optimizers.SGD(learning_rate=0.1))
    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
    assert history.history["learning_rate"] == [0.05, 0.025, 0.0125]
    history = model.fit(x, y, epochs=2, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert history.history["learning_rate"] == [0.01, 0.02]


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr(capsys):
    model = FakeModel(learning_rate=1.0)
    reducer = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=1, min_lr=0.1, verbose=1)
    reducer.set_model(model)
    reducer.on_train_begin()
    rates = []
    for epoch in range(6):
        reducer.on_epoch_end(epoch, {"val_loss": 1.0})  # a plateau from the start
        rates.append(model.optimizer.learning_rate)
    assert rates == [1.0, 0.5, 0.25, 0.125, 0.1, 0.1]
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.5." in capsys.readouterr().out


def test_reduce_lr_on_plateau_waits_for_patience_and_min_delta():
    model = FakeModel(learning_rate=1.0)
    reducer = callbacks.ReduceLROnPlateau(factor=0.1, patience=2, min_delta=0.05)
    reducer.set_model(model)
    reducer.on_train_begin()
    rates = []
    for epoch, value in enumerate([1.0, 0.97, 0.96, 0.5, 0.49, 0.48]):
        reducer.on_epoch_end(epoch, {"val_loss": value})
        rates.append(round(model.optimizer.learning_rate, 6))
    # 0.97 and 0.96 are within min_delta of 1.0: reduce at epoch 2; 0.5 improves; 0.49, 0.48 do not: reduce at 5.
    assert rates == [1.0, 1.0, 0.1, 0.1, 0.1, 0.01]


# ---------------------------------------------------------------- CSVLogger

def test_csv_logger_writes_and_appends(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[callbacks.CSVLogger(path)])
    with open(path) as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    assert [row[0] for row in rows[1:]] == ["0", "1"]
    assert [float(row[2]) for row in rows[1:]] == history.history["loss"]
    logger = callbacks.CSVLogger(path, append=True, separator=";")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[logger])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("0;")  # no second header


# ---------------------------------------------------------------- History

def test_history_json_round_trip(tmp_path):
    x, y = tiny_data()
    history = tiny_model().fit(x, y, epochs=3, verbose=0, validation_split=0.25)
    text = history.to_json(tmp_path / "history.json")
    for restored in (callbacks.History.from_json(text), callbacks.History.from_json(path=tmp_path / "history.json")):
        assert restored.history == history.history and restored.epoch == [0, 1, 2]
    with pytest.raises(ValueError, match="exactly one of `text` or `path`"):
        callbacks.History.from_json()
    with pytest.raises(ValueError, match="with a 'history' object"):
        callbacks.History.from_json("[1, 2]")


def test_epoch_timer_records_one_positive_duration_per_epoch():
    x, y = tiny_data()
    model = tiny_model(optimizers.SGD(learning_rate=0.1))
    timer = callbacks.EpochTimer()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 3 and all(s > 0 for s in timer.seconds)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == 1  # reset at on_train_begin, like every callback


# ------------------------------------------------- refused arguments (issue 12)

def snapshot(model):
    return [w.copy() for w in model.get_weights()], model.optimizer.learning_rate


def assert_unchanged(model, before):
    weights, lr = before
    for old, new in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert model.optimizer.learning_rate == lr


def test_a_function_in_callbacks_is_refused_by_name_before_training():
    x, y = tiny_data()
    model = tiny_model()
    before = snapshot(model)

    def on_epoch_end(epoch, logs):
        pass

    with pytest.raises(TypeError, match=r"`callbacks\[1\]`, expected an instance of tinynet.callbacks.Callback. "
                                        r"To call a function from fit, wrap it: .*LambdaCallback"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.History(), on_epoch_end])
    with pytest.raises(TypeError, match=r"Pass an instance: EarlyStopping\(...\), not the class"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.EarlyStopping])
    with pytest.raises(TypeError, match="expected a list of Callback instances"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=callbacks.History())
    assert_unchanged(model, before)


def test_every_hook_receives_a_logs_dict():
    # Written as Keras's own examples write callbacks: `logs` without a default.
    seen = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs): seen.append(("train_begin", logs))
        def on_train_end(self, logs): seen.append(("train_end", logs))
        def on_epoch_begin(self, epoch, logs): seen.append(("epoch_begin", logs))
        def on_epoch_end(self, epoch, logs): seen.append(("epoch_end", logs))
        def on_train_batch_begin(self, batch, logs): seen.append(("batch_begin", logs))
        def on_train_batch_end(self, batch, logs): seen.append(("batch_end", logs))

    x, y = tiny_data(16)
    tiny_model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[Recorder()])
    assert [name for name, _ in seen] == ["train_begin"] + 2 * (
        ["epoch_begin"] + 2 * ["batch_begin", "batch_end"] + ["epoch_end"]) + ["train_end"]
    assert all(isinstance(logs, dict) for _, logs in seen)
    assert set(seen[-2][1]) == {"loss", "acc"}


@pytest.mark.parametrize("bad", [-0.1, 0, 0.0, float("nan"), float("inf"), "0.1", None, True])
def test_learning_rate_scheduler_refuses_a_bad_rate_and_changes_nothing(bad):
    x, y = tiny_data()
    model = tiny_model(optimizers.SGD(learning_rate=0.1))
    before = snapshot(model)
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: bad)
    with pytest.raises(ValueError, match=r"LearningRateScheduler: received an invalid value for "
                                         r"`schedule\(epoch=0, lr=0.1\)`, expected a positive finite learning "
                                         r"rate. Received: schedule\(epoch=0, lr=0.1\)="):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[scheduler])
    assert_unchanged(model, before)


def test_learning_rate_scheduler_one_argument_form_is_chosen_by_signature():
    # A two-argument schedule whose body raises TypeError must not be retried as schedule(epoch).
    calls = []

    def schedule(epoch, lr):
        calls.append(epoch)
        raise TypeError("a bug in the schedule")

    scheduler = callbacks.LearningRateScheduler(schedule)
    scheduler.set_model(FakeModel())
    with pytest.raises(TypeError, match="a bug in the schedule"):
        scheduler.on_epoch_begin(0, {})
    assert calls == [0]


@pytest.mark.parametrize("make, shown", [
    (lambda: callbacks.ReduceLROnPlateau(patience=-1), "patience=-1"),
    (lambda: callbacks.ReduceLROnPlateau(patience=2.5), "patience=2.5"),
    (lambda: callbacks.ReduceLROnPlateau(factor=0), "factor=0"),
    (lambda: callbacks.ReduceLROnPlateau(factor=1.0), "factor=1.0"),
    (lambda: callbacks.ReduceLROnPlateau(factor=float("nan")), "factor=nan"),
    (lambda: callbacks.ReduceLROnPlateau(min_delta=-1e-4), "min_delta=-0.0001"),
    (lambda: callbacks.ReduceLROnPlateau(cooldown=-1), "cooldown=-1"),
    (lambda: callbacks.ReduceLROnPlateau(min_lr=-0.1), "min_lr=-0.1"),
    (lambda: callbacks.ReduceLROnPlateau(verbose="yes"), "verbose='yes'"),
    (lambda: callbacks.ReduceLROnPlateau(mode="best"), "mode='best'"),
    (lambda: callbacks.ReduceLROnPlateau(monitor=3), "monitor=3"),
    (lambda: callbacks.EarlyStopping(patience="3"), "patience='3'"),
    (lambda: callbacks.EarlyStopping(min_delta=float("nan")), "min_delta=nan"),
    (lambda: callbacks.EarlyStopping(baseline="0.9"), "baseline='0.9'"),
    (lambda: callbacks.EarlyStopping(restore_best_weights="yes"), "restore_best_weights='yes'"),
    (lambda: callbacks.EarlyStopping(start_from_epoch=-1), "start_from_epoch=-1"),
    (lambda: callbacks.EarlyStopping(verbose=-1), "verbose=-1"),
    (lambda: callbacks.ModelCheckpoint("m.npz", save_freq=0), "save_freq=0"),
    (lambda: callbacks.ModelCheckpoint("m.npz", save_freq="batch"), "save_freq='batch'"),
    (lambda: callbacks.ModelCheckpoint("m.npz", save_best_only=1), "save_best_only=1"),
    (lambda: callbacks.ModelCheckpoint("m.npz", initial_value_threshold="a"), "initial_value_threshold='a'"),
    (lambda: callbacks.CSVLogger("log.csv", separator=",,"), "separator=',,'"),
    (lambda: callbacks.GradientStats(every=0), "every=0"),
])
def test_nonsense_callback_arguments_are_refused_in_one_wording(make, shown):
    with pytest.raises(ValueError, match=r"received an invalid value for `\w+`, expected .*\. Received: "
                                         + shown.replace("(", r"\(").replace(".", r"\.")):
        make()


def test_history_from_json_refuses_what_to_json_cannot_have_written():
    with pytest.raises(ValueError, match=r"`history\['loss'\]`, expected a list of numbers. "
                                         r"Received: history\['loss'\]=5"):
        callbacks.History.from_json('{"history": {"loss": 5}}')
    with pytest.raises(ValueError, match=r"history\['loss'\]=\['a'\]"):
        callbacks.History.from_json('{"history": {"loss": ["a"]}}')
    with pytest.raises(ValueError, match="different lengths"):
        callbacks.History.from_json('{"history": {"loss": [1, 2], "acc": [0.5]}}')
    with pytest.raises(ValueError, match="`epoch`, expected a list of integers"):
        callbacks.History.from_json('{"epoch": [0], "history": {"loss": [1, 2]}}')
    with pytest.raises(ValueError, match="not JSON"):
        callbacks.History.from_json('{"history": ')
    with pytest.raises(TypeError, match="Received: text=5"):
        callbacks.History.from_json(5)
    restored = callbacks.History.from_json('{"history": {"loss": [1, 0.5]}}')
    assert restored.epoch == [0, 1] and restored.history == {"loss": [1.0, 0.5]}


class HookRecorder(callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ended = False

    def on_train_end(self, logs=None):
        self.ended = True


@pytest.mark.parametrize("failure", ["missing_directory", "disk_full"])
def test_a_checkpoint_that_cannot_be_written_does_not_end_fit(tmp_path, monkeypatch, failure):
    import errno
    x, y = tiny_data()
    model = tiny_model()
    path = tmp_path / "model.npz"
    if failure == "missing_directory":
        (tmp_path / "a_file").write_text("not a directory")
        path = tmp_path / "a_file" / "model.npz"
    else:
        def full_disk(self, path):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        monkeypatch.setattr(type(model), "save", full_disk)
    checkpoint = callbacks.ModelCheckpoint(path)
    recorder = HookRecorder()
    with pytest.warns(callbacks.CheckpointWarning, match="ModelCheckpoint could not write .*model.npz.*Training "
                                                         "goes on"):
        history = model.fit(x, y, epochs=3, verbose=0, callbacks=[checkpoint, recorder])
    assert history.epoch == [0, 1, 2] and len(history.history["loss"]) == 3
    assert recorder.ended
    assert len(checkpoint.failures) == 3 and all(isinstance(e, OSError) for _, e in checkpoint.failures)
    assert not path.exists()
    reference = tiny_model()
    reference.set_weights(model.get_weights())  # the model in memory is whole and usable
    np.testing.assert_allclose(reference.predict(x), model.predict(x))


# ---------------------------------------------------------------- LambdaCallback

def test_lambda_callback_calls_each_function_with_keras_arguments():
    seen = []
    callback = callbacks.LambdaCallback(
        on_train_begin=lambda logs: seen.append(("train_begin", logs)),
        on_epoch_end=lambda epoch, logs: seen.append(("epoch_end", epoch, round(logs["loss"], 6))),
        on_batch_end=lambda batch, logs: seen.append(("batch_end", batch)),
        on_train_end=lambda logs: seen.append(("train_end",)))
    x, y = tiny_data(16)
    model = tiny_model(optimizers.Adam(learning_rate=0.01))
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[callback])
    losses = [round(v, 6) for v in history.history["loss"]]
    assert seen == [("train_begin", {}), ("batch_end", 0), ("batch_end", 1), ("epoch_end", 0, losses[0]),
                    ("batch_end", 0), ("batch_end", 1), ("epoch_end", 1, losses[1]), ("train_end",)]


def test_lambda_callback_refuses_what_is_not_a_function_or_a_hook():
    with pytest.raises(TypeError, match="LambdaCallback: received an invalid value for `on_epoch_end`, expected a "
                                        "function. Received: on_epoch_end=3"):
        callbacks.LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="unknown hook 'on_epoc_end'"):
        callbacks.LambdaCallback(on_epoc_end=print)


# ------------------------------------------------------- ModelCheckpoint(save_freq=n)

def test_model_checkpoint_every_n_batches_counts_across_epochs(tmp_path):
    x, y = tiny_data(40)  # 5 batches of 8 per epoch
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.npz"), save_freq=3)
    model = tiny_model(optimizers.Adam(learning_rate=0.01))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[checkpoint])
    # batches seen 3, 6, 9 -> epoch 1 batch 3, epoch 2 batch 1, epoch 2 batch 4 (both counted from 1)
    assert sorted(os.listdir(tmp_path)) == ["m-1-3.npz", "m-2-1.npz", "m-2-4.npz"]
    np.testing.assert_allclose(load_model(tmp_path / "m-2-4.npz").predict(x), model.predict(x), atol=0.05)


def test_history_params_are_keras_2_keys():
    x, y = tiny_data()
    history = tiny_model().fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 4}


# ---------------------------------------------------------------- nothing half-written, nothing replaced

@pytest.mark.parametrize("name, weights_only", [("m.npz", False), ("m.npz", True), ("m.h5", False),
                                                ("m.keras", False)])
def test_a_checkpoint_cut_short_leaves_the_previous_file_whole_and_no_part_file(name, weights_only, tmp_path,
                                                                              monkeypatch):
    if name != "m.npz":
        pytest.importorskip("h5py")
    import errno
    x, y = tiny_data()
    model = tiny_model()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / name, save_weights_only=weights_only)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    first = (tmp_path / name).read_bytes()
    real_replace = os.replace

    def interrupted(source, target):  # the new file is written in full; the write fails on the last step
        if str(target).endswith(name):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(source, target)
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.warns(callbacks.CheckpointWarning, match="No space left"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert (tmp_path / name).read_bytes() == first


def test_save_best_only_after_a_failed_write_saves_the_next_epoch_that_beats_the_file(tmp_path, monkeypatch):
    def full_disk(self, path):
        raise OSError("No space left on device")

    model = tiny_model()
    checkpoint = callbacks.ModelCheckpoint(tmp_path / "best.npz", save_best_only=True, save_weights_only=True)
    checkpoint.set_model(model)
    checkpoint.on_train_begin()
    for epoch, val_loss in enumerate([0.9, 0.5, 0.7]):
        model.layers[0].bias.data[...] = epoch  # marks which epoch's weights were saved
        if epoch == 1:
            with monkeypatch.context() as patch, pytest.warns(callbacks.CheckpointWarning):
                patch.setattr(type(model), "save_weights", full_disk)
                checkpoint.on_epoch_end(epoch, {"val_loss": val_loss})
        else:
            checkpoint.on_epoch_end(epoch, {"val_loss": val_loss})
    # 0.5 was never written: the file held epoch 0 (0.9), which 0.7 beats.
    assert float(np.load(tmp_path / "best.npz")["weight/0001"][0]) == 2
    assert checkpoint.best == 0.7


def test_a_layer_whose_settings_cannot_be_written_is_refused_by_model_checkpoint_before_training(tmp_path,
                                                                                                 unchanged):
    class NoConfig:
        def __call__(self, w):
            return 0.0

        def gradient(self, w):
            return np.zeros_like(w)

    x, y = tiny_data()
    model = Sequential([layers.Dense(4, input_shape=(3,), kernel_regularizer=NoConfig(), name="hidden"),
                        layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, verbose=0)
    with unchanged(model, tmp_path), pytest.raises(ValueError, match=r"Layer 'hidden': its kernel_regularizer \(a "
                                                                     r"NoConfig\) has no get_config\(\)"):
        model.fit(x, y, verbose=0, callbacks=[callbacks.ModelCheckpoint(tmp_path / "m.npz")])

    def clip(w):  # a plain function is written by name, as Keras 2 writes it
        return np.clip(w, -1, 1)
    model = Sequential([layers.Dense(4, input_shape=(3,), kernel_constraint=clip), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((len(x), 2)), verbose=0, callbacks=[callbacks.ModelCheckpoint(tmp_path / "c.npz",
                                                                                        save_weights_only=True)])
    fresh = Sequential([layers.Dense(4, input_shape=(3,), kernel_constraint=clip), layers.Dense(2)])
    fresh.load_weights(tmp_path / "c.npz")
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))


@pytest.mark.parametrize("make", [
    lambda: callbacks.ReduceLROnPlateau(monitor="loss", patience=0),
    lambda: callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2),
], ids=["ReduceLROnPlateau", "LearningRateScheduler"])
def test_callbacks_that_set_the_rate_refuse_a_schedule_before_training(make, tmp_path, unchanged):
    from tinynet.optimizers import schedules
    x, y = tiny_data()
    model = tiny_model(optimizers.SGD(learning_rate=schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)))
    model.fit(x, y, verbose=0)
    callback = make()
    with unchanged(model, tmp_path), pytest.raises(
            TypeError, match=rf"^{type(callback).__name__}: the optimizer's learning rate follows a schedule "
                             r"\(ExponentialDecay\), which .* would replace by a number\. Keras refuses this too"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[callback])
    assert type(model.optimizer.get_config()["learning_rate"]) is dict
