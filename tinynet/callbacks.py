"""Callbacks: objects whose hooks ``fit`` calls at the start and end of training,
of each epoch and of each batch. ``History`` records the per-epoch logs;
``ProgbarLogger`` prints Keras's progress. ``logs`` is a dict such as
``{'loss': 0.05, 'accuracy': 0.98, 'val_loss': ...}``.

The rest are Keras's callbacks with Keras's arguments: ``EarlyStopping``,
``ModelCheckpoint``, ``TerminateOnNaN``, ``LearningRateScheduler``,
``ReduceLROnPlateau``, ``CSVLogger``. Each resets its state in
``on_train_begin``, so one instance can be passed to several ``fit`` calls.
"""
import csv
import json
import math
import os
import time
import warnings

from .progbar import Progbar


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model being fitted."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass


class CallbackList:
    """Calls a hook on every callback in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call_all(*args):
            for callback in self.callbacks:
                getattr(callback, hook)(*args)
        return call_all


class History(Callback):
    """Records ``logs`` at each epoch end: ``history.history['val_loss'][e]`` is epoch e's."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def to_json(self, path=None):
        """The history as JSON text (``{"epoch": [...], "history": {...}}``); also written to ``path`` if given.

        JSON rather than pickle (seed 002 pickles ``history.history``): anyone can read
        it, and loading it never runs code.
        """
        text = json.dumps({"epoch": [int(e) for e in self.epoch],
                           "history": {k: [float(v) for v in values] for k, values in self.history.items()}})
        if path is not None:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text)
        return text

    @classmethod
    def from_json(cls, text=None, path=None):
        """A ``History`` from ``to_json``'s text, or from the file at ``path``."""
        if (text is None) == (path is None):
            raise ValueError("History.from_json needs exactly one of `text` or `path`. "
                             f"Received: text={text!r:.40}, path={path!r}")
        if path is not None:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("history"), dict):
            raise ValueError(f"History.from_json expects the JSON written by History.to_json, with a 'history' "
                             f"object. Received: {text[:60]!r}")
        history = cls()
        history.history = {key: list(values) for key, values in data["history"].items()}
        history.epoch = list(data.get("epoch", range(len(next(iter(history.history.values()), [])))))
        return history


class EpochTimer(Callback):
    """Records each epoch's wall time in seconds (validation included) in ``seconds``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


class ProgbarLogger(Callback):
    """Prints ``Epoch 3/20`` and the progress bar (``verbose=1``) or one line per epoch (``verbose=2``)."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        print(f"Epoch {epoch + 1}/{self.params['epochs']}", flush=True)
        self.progbar = Progbar(self.params["steps"], verbose=self.verbose)

    def on_train_batch_end(self, batch, logs=None):
        if batch + 1 < self.params["steps"]:
            self.progbar.update(batch + 1, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self.progbar.update(self.params["steps"], list((logs or {}).items()), finalize=True)


def _monitor_mode(mode, monitor, owner):
    """'min' or 'max' for ``monitor``. ``'auto'`` follows Keras: accuracies and AUC go up, everything else down."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: received an invalid value for `mode`, expected 'auto', 'min' or 'max'. "
                         f"Received: mode={mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    return "max" if "acc" in name or "auc" in name else "min"


def _monitored(logs, monitor, owner):
    """The monitored value from ``logs``, or None (with Keras's warning) when it is not there."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} is conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(logs or {})}", stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving for ``patience`` epochs.

    An epoch improves on the best so far when its value beats the best by more
    than ``min_delta`` (lower for losses, higher for accuracies: see ``mode``).
    With ``baseline``, the patience counter is only reset by values that also beat
    the baseline, so training stops after ``patience`` epochs if the baseline is
    never reached. ``restore_best_weights=True`` puts back the weights of the best
    epoch when training ends. ``start_from_epoch`` epochs of warm-up are ignored.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"Received an invalid value for `patience`, expected a non-negative integer. "
                             f"Received: patience={patience!r}")
        self.monitor = monitor
        self.mode = _monitor_mode(mode, monitor, "EarlyStopping")
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def _improves(self, value, reference):
        if reference is None:
            return True
        # Improving means beating the reference by more than min_delta, in the monitored direction.
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._improves(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) at the end of every epoch, or only when ``monitor`` improves.

    ``filepath`` may hold placeholders filled from the epoch (counted from 1) and
    the logs: ``'weights.{epoch:02d}-{val_loss:.2f}.npz'``. Files are written by
    ``tinynet.saving``, atomically.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint supports only save_freq='epoch'. Received: save_freq={save_freq!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _monitor_mode(mode, monitor, "ModelCheckpoint")
        self.initial_value_threshold = initial_value_threshold

    def on_train_begin(self, logs=None):
        if self.initial_value_threshold is not None:
            self.best = float(self.initial_value_threshold)
        else:
            self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: the filepath {self.filepath!r} names {error}, which is not in the "
                           f"logs. Available: epoch, {', '.join(logs)}") from None
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "Can save best model only with "
                                 f"{self.monitor} available, skipping. ModelCheckpoint")
            if current is None:
                return
            improved = current < self.best if self.mode == "min" else current > self.best
            if not improved:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    tinynet's ``fit`` always stops at a non-finite loss, before the bad update.
    Without this callback it raises ``TrainingDivergedError``; with it, ``fit``
    behaves as Keras's does: it prints "Batch N: Invalid loss, terminating
    training" and returns the History. The hook below serves loops that call
    the callbacks themselves.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``.

    ``epoch`` counts from 0; ``lr`` is the current rate. A one-argument
    ``schedule(epoch)``, as in older Keras, works too. The rate used is logged
    as ``learning_rate``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"Received an invalid value for `schedule`, expected a function (epoch, lr) -> lr. "
                            f"Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.model.optimizer.learning_rate
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:  # a one-argument schedule(epoch)
            new_lr = self.schedule(epoch)
        if isinstance(new_lr, bool) or not isinstance(new_lr, (int, float)) or not math.isfinite(new_lr):
            raise ValueError(f'The output of the "schedule" function should be a float. Got: {new_lr!r}')
        self.model.optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    Improving means beating the best by more than ``min_delta``. After a
    reduction, ``cooldown`` epochs pass before counting again; the rate never
    goes below ``min_lr``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0 (or <= 0). Received factor={factor}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = patience
        self.verbose = verbose
        self.mode = _monitor_mode(mode, monitor, "ReduceLROnPlateau")
        self.min_delta = float(min_delta)
        self.cooldown = cooldown
        self.min_lr = float(min_lr)

    def on_train_begin(self, logs=None):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def _improves(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = float(optimizer.learning_rate)
        current = _monitored(logs, self.monitor, "Learning rate reduction")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and optimizer.learning_rate > self.min_lr:
                # NOTE: with min_lr=0 the rate only shrinks, so it stays positive as optimizers require.
                new_lr = max(optimizer.learning_rate * self.factor, self.min_lr)
                optimizer.learning_rate = new_lr
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                self.cooldown_counter = self.cooldown
                self.wait = 0


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file: ``epoch,accuracy,loss,val_accuracy,val_loss``.

    Columns are ``epoch`` then the log keys in sorted order, as in Keras.
    ``append=True`` adds to an existing file (without repeating the header).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self.file = None

    def on_train_begin(self, logs=None):
        write_header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0)
        self.file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self.writer = None
        self.write_header = write_header

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.writer is None:
            self.keys = sorted(logs)
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch", *self.keys], delimiter=self.separator)
            if self.write_header:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{key: logs.get(key, "NA") for key in self.keys}})
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
            self.file = None


# GradientStats lives in its own module (one concept per file); it is a callback like the others.
from .gradient_stats import GradientStats  # noqa: E402
