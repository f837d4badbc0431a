"""Callbacks that stop training: ``EarlyStopping`` (no more progress) and ``TerminateOnNaN``."""
import math

from ..checks import check_bool, check_float, check_int, check_optional_float
from .base import Callback, monitor_mode, monitored


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
        owner = "EarlyStopping"
        self.monitor = monitor
        self.mode = monitor_mode(mode, monitor, owner)
        self.min_delta = abs(check_float(min_delta, "min_delta", owner=owner))  # Keras uses |min_delta|
        self.patience = check_int(patience, "patience", minimum=0, owner=owner)
        self.verbose = check_int(verbose, "verbose", minimum=0, owner=owner)
        self.baseline = check_optional_float(baseline, "baseline", owner=owner)
        self.restore_best_weights = check_bool(restore_best_weights, "restore_best_weights", owner=owner)
        self.start_from_epoch = check_int(start_from_epoch, "start_from_epoch", minimum=0, owner=owner)

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
        current = monitored(logs, self.monitor, "Early stopping")
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



class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite.

    tinynet's training step refuses a non-finite loss, before the bad update, and
    ``fit`` reports that batch's loss to ``on_train_batch_end`` as Keras's does. This
    hook then asks ``fit`` to stop: it prints "Batch N: Invalid loss, terminating
    training" and ``fit`` returns the History. Without this callback ``fit`` raises
    ``TrainingDivergedError`` (``tinynet.core.guards.TrainingGuard``).
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
