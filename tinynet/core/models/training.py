"""The pieces ``Model.fit`` and ``evaluate`` are made of: the batches of an epoch, the running
mean of the loss, how many steps to take and when to validate, and the hook that lets
callbacks watch each layer's output during a training step."""
import math

import numpy as np

from ..checks import check_int, check_steps, invalid, is_int, short_repr
from ..utils import rng
from .structures import take


def batches(n, batch_size, shuffle, steps=None):
    """The index arrays of one epoch's batches (the first ``steps`` of them), in a new random order each
    epoch when ``shuffle``."""
    order = rng().permutation(n) if shuffle else np.arange(n)
    for start in range(0, n if steps is None else min(n, steps * batch_size), batch_size):
        yield order[start:start + batch_size]


class RunningMean:
    """The mean of a batch value (the loss) over the batches so far, each weighted by its size, as Keras reports it."""

    def __init__(self):
        self.total, self.count = 0.0, 0

    def add(self, value, size):
        self.total += size * value
        self.count += size
        return float(self.total / self.count)


def log_value(value):
    """A metric's result for the logs: a float, or a list for a metric with several thresholds."""
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value.tolist()


def layer_watch(callbacks):
    """``on_layer`` for ``train_step``, calling each callback's ``on_train_layer_output(layer, x, y)``; None
    when no callback has that hook (then the step calls nothing per layer)."""
    watchers = [c.on_train_layer_output for c in callbacks.callbacks if hasattr(c, "on_train_layer_output")]
    if not watchers:
        return None

    def on_layer(layer, x, y):
        for watch in watchers:
            watch(layer, x, y)
    return on_layer


def epoch_steps(n, batch_size, epochs, steps_per_epoch, validation_steps, validation_freq):
    """``(steps, validation_steps, validate_after)``: the batches of an epoch (at most ``steps_per_epoch``),
    the cap on validation batches, and the epochs (from 1) after which fit validates."""
    steps = math.ceil(n / batch_size)
    if steps_per_epoch is not None:
        steps = min(steps, check_steps(steps_per_epoch, "steps_per_epoch"))
    if validation_steps is not None:
        validation_steps = check_int(validation_steps, "validation_steps", 1)
    return steps, validation_steps, validation_epochs(validation_freq, epochs)


def validation_epochs(validation_freq, epochs):
    """The epochs (counted from 1) after which ``fit`` validates: every ``validation_freq``-th, or those listed."""
    if is_int(validation_freq) and validation_freq >= 1:
        return set(range(validation_freq, epochs + 1, validation_freq))
    if isinstance(validation_freq, (list, tuple, set)) and all(is_int(e) and e >= 1 for e in validation_freq):
        return set(validation_freq)
    raise invalid("validation_freq", "a positive integer or a list of epochs (counted from 1)", validation_freq)


def keras1_epochs(epochs, kwargs):
    """``epochs``, or Keras 1's spelling ``nb_epoch`` (older tutorials use it); refuses other extra arguments."""
    if "nb_epoch" in kwargs:
        epochs = kwargs.pop("nb_epoch")
    if kwargs:
        raise TypeError(f"fit() got unexpected keyword arguments: {short_repr(sorted(kwargs))}")
    return epochs


class ArrayBatches:
    """Arrays already checked and converted (one per input / output), in batches: each epoch a new random
    order when ``shuffle``, the first ``steps_per_epoch`` batches."""

    exhausted = False

    def __init__(self, x, y, w, batch_size, shuffle=False, steps_per_epoch=None):
        self.x, self.y, self.w, self.batch_size, self.shuffle = x, y, w, batch_size, shuffle
        self.n = len(x[0])
        self.steps = None if steps_per_epoch is None else check_steps(steps_per_epoch, "steps_per_epoch")
        self.num_batches = math.ceil(self.n / batch_size) if self.steps is None else \
            min(self.steps, math.ceil(self.n / batch_size))

    def epoch(self):
        for step, rows in enumerate(batches(self.n, self.batch_size, self.shuffle, self.steps)):
            yield step, (take(self.x, rows), take(self.y, rows), None if self.w is None else self.w[rows])


class PreparedBatches:
    """The batches of a dataset, Sequence or generator (``data_adapter.EpochIterator``), each checked and
    converted as it arrives, as arrays are once."""

    def __init__(self, model, data, x_name="x", y_name="y", targets=True):
        self.model, self.data, self.names, self.targets = model, data, (x_name, y_name), targets

    @property
    def num_batches(self):
        return self.data.num_batches

    @property
    def exhausted(self):
        return self.data.exhausted

    def epoch(self):
        for step, (x, y, w) in self.data.epoch():
            if self.targets:
                x, y = self.model._prepare(x, y, *self.names)
            else:
                x, y = self.model._prepare_x(x, self.names[0]), None
            yield step, (x, y, w)


def running_means(model):
    """One running mean per output that has a loss: the ``<output>_loss`` logs of a model with several."""
    return [RunningMean() for loss in (model.output_losses or []) if loss is not None]
