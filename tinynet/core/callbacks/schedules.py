"""Callbacks that change the learning rate: ``LearningRateScheduler`` and ``ReduceLROnPlateau``.

Neither takes over a rate that follows a schedule (``Adam(learning_rate=ExponentialDecay(...))``):
as in Keras, whose optimizers refuse to have such a rate set, ``fit`` stops before training
with a TypeError rather than replace the schedule by a number.
"""
import inspect
import math

from ..checks import check_float, check_int, invalid

from .base import Callback, monitor_mode, monitored


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``.

    ``epoch`` counts from 0; ``lr`` is the current rate. A one-argument
    ``schedule(epoch)``, as in older Keras, works too. The rate used is logged
    as ``learning_rate``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise invalid("schedule", "a function (epoch, lr) -> lr", schedule, error=TypeError)
        self.schedule = schedule
        self.verbose = check_int(verbose, "verbose", minimum=0, owner="LearningRateScheduler")
        self.takes_lr = _takes_two_arguments(schedule)

    def on_train_begin(self, logs=None):
        check_rate_settable(self.model.optimizer, "LearningRateScheduler")

    def on_epoch_begin(self, epoch, logs=None):
        lr = self.model.optimizer.learning_rate
        new_lr = self.schedule(epoch, lr) if self.takes_lr else self.schedule(epoch)
        # Checked before it is set: a refused rate leaves the optimizer as it was.
        call = f"schedule(epoch={epoch}, lr={lr})" if self.takes_lr else f"schedule(epoch={epoch})"
        new_lr = check_float(new_lr, call, minimum=0, min_open=True, owner="LearningRateScheduler",
                             expected="a positive finite learning rate")
        self.model.optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


def check_rate_settable(optimizer, owner):
    """Refuse (TypeError) to set the learning rate of an optimizer whose rate follows a schedule."""
    # get_config writes a schedule as its config dict (an object without get_config has none).
    rate = optimizer.get_config().get("learning_rate") if hasattr(optimizer, "get_config") else None
    if isinstance(rate, dict):
        raise TypeError(
            f"{owner}: the optimizer's learning rate follows a schedule ({rate.get('class_name')}), which {owner} "
            "would replace by a number. Keras refuses this too (\"This optimizer was created with a "
            "`LearningRateSchedule` object as its `learning_rate` constructor argument, hence its learning rate "
            f"is not settable\"). Give the optimizer a number as learning_rate to use {owner}, or let the "
            "schedule alone set the rate.")


def _takes_two_arguments(function):
    """Whether ``function`` can be called as ``f(epoch, lr)`` (Keras 2) rather than only ``f(epoch)`` (Keras 1)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # some builtins have no signature: assume Keras 2's form
        return True
    try:
        signature.bind(0, 0.1)
        return True
    except TypeError:
        return False


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    Improving means beating the best by more than ``min_delta``. After a
    reduction, ``cooldown`` epochs pass before counting again; the rate never
    goes below ``min_lr``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        owner = "ReduceLROnPlateau"
        self.monitor = monitor
        self.factor = check_float(factor, "factor", minimum=0, maximum=1, min_open=True, max_open=True, owner=owner)
        self.patience = check_int(patience, "patience", minimum=0, owner=owner)
        self.verbose = check_int(verbose, "verbose", minimum=0, owner=owner)
        self.mode = monitor_mode(mode, monitor, owner)
        self.min_delta = check_float(min_delta, "min_delta", minimum=0, owner=owner)
        self.cooldown = check_int(cooldown, "cooldown", minimum=0, owner=owner)
        self.min_lr = check_float(min_lr, "min_lr", minimum=0, owner=owner)

    def on_train_begin(self, logs=None):
        check_rate_settable(self.model.optimizer, "ReduceLROnPlateau")
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
        current = monitored(logs, self.monitor, "Learning rate reduction")
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
