"""A model's own training step: Keras's ``train_step(self, data)`` and ``test_step(self, data)`` (and
``predict_step(self, data)``, whose outputs ``predict`` gathers).

A subclass of ``Model`` may replace what happens to one batch and keep the rest of ``fit`` (the
epochs, the batches, the callbacks, the progress bar), as keras.io's guide "Customizing what
happens in fit()" and its VAE and GAN examples do:

    class VAE(keras.Model):
        def train_step(self, data):               data: x, or (x, y), or (x, y, sample_weight)
            with tf.GradientTape() as tape:
                ...the forward pass and the loss...
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return {"loss": ...}                  the logs of this batch, as the callbacks see them

``fit`` then calls the model's ``train_step`` for each batch instead of its own step
(``Trainer.train_step``), and ``evaluate`` (and fit's validation) calls ``test_step``. At the
start of each epoch and of each evaluation the metrics in ``model.metrics`` are reset, as Keras
resets them, so a step that returns ``{m.name: m.result() for m in self.metrics}`` reports the
mean over the epoch so far.

``model.compiled_loss`` and ``model.compiled_metrics`` are what such a step uses to reach what
``compile`` was given (Keras 2's names): the loss of the outputs plus any ``regularization_losses``,
and the metrics updated with ``update_state(y, y_pred)``.
"""
import inspect

import numpy as np

from .structures import flat
from .training import log_value


def user_step(model, name):
    """The model's own ``train_step(data)`` / ``test_step(data)`` (a bound method), or None when the model
    uses tinynet's step. tinynet's ``train_step(x, y, on_layer=None, sample_weight=None)`` takes its
    arguments apart; Keras's takes one ``data``: a method named so that has no ``on_layer`` is Keras's."""
    method = getattr(model, name, None)
    if method is None:
        return None
    if "on_layer" in inspect.signature(method).parameters:
        return None
    return method


def has_own_step(model):
    """Whether the model has Keras's ``train_step(data)`` or ``test_step(data)`` of its own."""
    return user_step(model, "train_step") is not None or user_step(model, "test_step") is not None


def batch_data(x, y, sample_weight):
    """What Keras hands ``train_step``: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``, each input (target)
    list of one array unwrapped to that array."""
    x = x[0] if len(x) == 1 else list(x)
    if y is None:
        return x
    y = y[0] if len(y) == 1 else list(y)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def run_step(step, x, y, sample_weight):
    """Run the model's own step on one batch; its returned dict, each value a plain number (the logs)."""
    logs = step(batch_data(x, y, sample_weight))
    if not isinstance(logs, dict):
        raise TypeError(f"{step.__qualname__} must return a dict of the batch's logs, e.g. "
                        f"{{'loss': loss_tracker.result()}}, as Keras's train_step does. Received: {logs!r}")
    return flat_logs(logs)


def flat_logs(logs):
    """The logs as plain numbers; a dict among the values (Keras 3's ``compile_metrics`` result) is spread
    into the logs, as Keras spreads it."""
    spread = {}
    for name, value in logs.items():
        spread.update(flat_logs(value) if isinstance(value, dict) else {name: log_value(value)})
    return spread


def reset_metrics(model):
    """Reset every metric in ``model.metrics`` (a subclass may list its own trackers there)."""
    for metric in model.metrics:
        metric.reset_state()


class CompiledLoss:
    """``model.compiled_loss(y, y_pred, sample_weight=None, regularization_losses=None)``: the loss of the
    outputs as compiled (each output's loss, weighted by ``loss_weights``), plus the sum of
    ``regularization_losses`` (a step passes ``self.losses``), as a recorded scalar tensor. The model's loss
    tracker (``model.metrics[0]``) adds the value, weighted by the batch size, as Keras 2's does."""

    def __init__(self, model):
        self.model = model

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        total = self.model.compute_loss(y_true, y_pred, sample_weight, regularization=False)
        for term in regularization_losses or ():
            total = total + term
        tracker = self.model._loss_tracker
        if tracker is not None:
            tracker.update_state([float(np.asarray(total))], sample_weight=[len(flat(y_pred)[0])])
        return total


class CompiledMetrics:
    """``model.compiled_metrics``: the metrics ``compile`` was given, updated together by
    ``update_state(y, y_pred, sample_weight=None)`` (each output's metrics with that output)."""

    def __init__(self, model):
        self.model = model

    @property
    def metrics(self):
        return [metric for _, metric in self.model.output_metrics]

    def update_state(self, y_true, y_pred, sample_weight=None):
        targets, predictions = flat(y_true), flat(y_pred)
        for i, metric in self.model.output_metrics:
            weighted = id(metric) in self.model._weighted_ids
            metric.update_state(np.asarray(targets[i]), np.asarray(predictions[i]),
                                sample_weight=sample_weight if weighted else None)

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    reset_states = reset_state
