"""``ModelCheckpoint``: save the model while it trains."""
import math
import os
import warnings

from ...core.checks import check_bool, check_int, check_optional_float, invalid, is_int, short_repr
from ...core.callbacks.base import Callback, monitor_mode, monitored
from .. import formats


class CheckpointWarning(UserWarning):
    """A checkpoint could not be written; training went on."""


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) at the end of every epoch, or only when ``monitor`` improves.

    ``filepath`` may hold placeholders filled from the epoch (counted from 1), the
    batch (with ``save_freq=<int>``, counted from 1) and the logs:
    ``'weights.{epoch:02d}-{val_loss:.2f}.npz'``. Files are written atomically, in the format
    the name asks for (``tinynet/io/formats.py``: ``.keras``, ``.h5``, ``.weights.h5`` are Keras's,
    any other name tinynet's ``.npz``). ``save_freq='epoch'`` saves after each epoch;
    an integer ``n`` saves after every ``n`` batches, counted across epochs as Keras does.

    What the file cannot hold is refused when training starts, before any epoch runs: a nested
    model or a layer Keras lacks in a Keras file, a weights-only name for a whole model
    (``.weights.h5`` without ``save_weights_only``), h5py missing. Settings a Keras file
    cannot hold (Keras 3's lack of ``decay``, an optimizer of your own) are warned about then.

    A checkpoint that cannot be written (a full disk, a read-only or missing
    directory) does not end training: ``fit`` goes on, the History and the model
    stay complete, and a ``CheckpointWarning`` says which file failed and why
    (``self.failures`` keeps the list of ``(path, error)``). No file is ever left half
    written: the earlier checkpoint stays whole, and with ``save_best_only`` the next
    epoch that beats it is saved.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        owner = "ModelCheckpoint"
        if not isinstance(filepath, (str, os.PathLike)):
            raise invalid("filepath", "a path (str or os.PathLike)", filepath, owner, error=TypeError)
        if save_freq != "epoch" and not (is_int(save_freq) and save_freq > 0):
            raise invalid("save_freq", "'epoch' or a positive integer (a number of batches)", save_freq, owner)
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = check_int(verbose, "verbose", minimum=0, owner=owner)
        self.save_best_only = check_bool(save_best_only, "save_best_only", owner=owner)
        self.save_weights_only = check_bool(save_weights_only, "save_weights_only", owner=owner)
        self.mode = monitor_mode(mode, monitor, owner)
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.initial_value_threshold = check_optional_float(initial_value_threshold, "initial_value_threshold",
                                                            owner=owner)
        self.failures = []

    def on_train_begin(self, logs=None):
        self._check_placeholders()
        formats.check_writable(self.model, self.filepath, self.save_weights_only)
        if self.initial_value_threshold is not None:
            self.best = self.initial_value_threshold
        else:
            self.best = math.inf if self.mode == "min" else -math.inf
        self.batches_since_save = 0
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self.batches_since_save += 1
        if self.batches_since_save >= self.save_freq:
            self.batches_since_save = 0
            self._save(self.epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _check_placeholders(self):
        """Before the first epoch: the filepath formats with the fields fit will give it (``epoch``, ``batch``
        with an integer ``save_freq``, the loss and metrics, and their ``val_`` twins), or a KeyError /
        ValueError names the placeholder -- not after an epoch's training is done."""
        names = list(getattr(self.model, "metrics_names", None) or ["loss"])
        fields = {**{name: 0.5 for name in names}, **{f"val_{name}": 0.5 for name in names}}
        self._path(0, None if self.save_freq == "epoch" else 0, fields)

    def _path(self, epoch, batch, logs):
        fields = {**logs, "epoch": epoch + 1, **({} if batch is None else {"batch": batch + 1})}
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: the filepath {_cut(self.filepath)} names {short_repr(error.args[0])}, "
                           f"which is not in the logs. Available: {', '.join(list(fields)[:20])}"
                           f"{' ...' if len(fields) > 20 else ''}") from None
        except (ValueError, IndexError, TypeError) as error:  # '{epoch', '{}', '{loss:d}'
            raise ValueError(f"ModelCheckpoint: the filepath {_cut(self.filepath)} is not a format these "
                             f"logs fill ({short_repr(str(error))}): write placeholders as {{epoch:02d}} or "
                             "{val_loss:.2f}") from None

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            current = monitored(logs, self.monitor, "Can save best model only with "
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
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        try:
            if self.save_weights_only:
                self.model.save_weights(path)
            else:
                self.model.save(path)
            if self.save_best_only:
                self.best = current  # only once written: the best on disk is what the next epochs must beat
        except OSError as error:
            # NOTE: a failed checkpoint must not cost the training run: the writes are atomic,
            # so the previous file (if any) is intact, and fit carries on.
            self.failures.append((path, error))
            warnings.warn(f"ModelCheckpoint could not write {path}: {error}. Training goes on; the model in "
                          "memory and the History are complete, and an earlier checkpoint file, if any, is "
                          "unchanged.", CheckpointWarning, stacklevel=2)


def _cut(path):
    """The filepath for a message: whole up to 300 characters (the placeholder is usually at its end)."""
    return repr(path) if len(path) <= 300 else repr(path[:150] + "..." + path[-150:])
