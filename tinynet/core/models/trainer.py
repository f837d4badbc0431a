"""Training a model: compile, the training step, fit / evaluate / predict.

One training step is the whole of backprop (``train_step``):

    with Tape() as tape:                    record what the forward pass does
        y_pred = model(x, training=True)    every layer (or op) appends a node
        loss = compute_loss(y, y_pred)      the loss is a node too; a cross-entropy after a softmax
                                            takes the softmax's input, the logits
    backward(tape, loss)                    the one walk (tinynet/core/tape.py): each node's backward
                                            in reverse, gradients summed where a value fed several
                                            places; every Parameter.grad filled
    optimizer.apply(...)                    new weights, optimizer state, step count and moving
                                            statistics: all committed, or (non-finite) none

``fit`` is a loop over batches calling ``train_step``, with callbacks around it; ``evaluate``
runs the forward and the loss; ``predict`` the forward. A ``GradientTape`` loop written by hand
(``tinynet/core/gradient_tape.py``) is the same step, spelled out.
"""
import math

import numpy as np

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers
from ..callbacks import CallbackList, History, ProgbarLogger
from ..checks import check_float, check_int, check_steps, short_repr
from ..guards import TrainingDivergedError, TrainingGuard
from ..progbar import Progbar
from ..sample_weights import sample_weights
from ..layers.base import penalty
from ..tape import Tape
from ..tape import current as current_tape
from ..tensor import Tensor, logits_of
from ..validation import (as_float_array, as_targets, check_batch_size, check_fit_arguments, check_same_length,
                          check_values)
from ..data_adapter import EpochIterator, is_array_structure, kind_of
from . import custom_step
from .step_api import report_forward
from .structures import (as_array, as_inputs, by_names, flat, one_per_output, per_output_metrics, shapes_of, take,
                         validation_parts, values_of)
from .training import (ArrayBatches, PreparedBatches, RunningMean, keras1_epochs, layer_watch, log_value,
                       running_means, validation_epochs)


# What compile sets: restored when it refuses an argument.
_COMPILED = ("optimizer", "_compiled_with", "loss", "paired", "output_losses", "loss_weights", "_metrics", "_loss_tracker",
             "output_metrics", "_weighted_ids")


class Trainer:
    """compile / fit / evaluate / predict and the training step, for ``Model`` (``model.py``)."""

    def _init_trainer(self):
        self.optimizer = None
        self.loss = None              # the loss of the (first) output, as compile paired it
        self.paired = []
        self.output_losses = None     # one loss object (or None) per output
        self.loss_weights = None
        self._metrics = []            # tinynet.metrics.Metric objects, each accumulating over an epoch
        self._loss_tracker = None     # Mean('loss'), for a model's own train_step (see `metrics`)
        self.output_metrics = []      # (output index, Metric) pairs, for models with several outputs
        self._weighted_ids = set()    # ids of the metrics compiled as weighted_metrics
        self.stop_training = False
        self.history = None
        self._warned_unscaled = False  # the 0-255 input warning is given once per model
        self._compiled_with = None
        self._recorded = None          # what the public step API (forward / compute_loss / backward) recorded

    # ----- compiling -------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=None, jit_compile=None, **kwargs):
        """Choose the optimizer, the loss(es) and the metrics, each by Keras name or as an object.

        Several outputs take ``loss=[...]`` or ``{output name: loss}``, ``loss_weights`` likewise, and
        ``metrics`` as a list (for every output), a list of lists or a dict. A loss may be a Python
        function of ``(y_true, y_pred)`` written with tinynet's ops (``K.mean``, ``ops.square``): its
        gradient is recorded like any other. ``loss=None`` is allowed when the model adds its own
        losses in ``call`` (``add_loss``).

        When an output's activation is a softmax (sigmoid) and its loss the matching cross-entropy,
        the model keeps that loss with ``from_logits=True`` and hands it the logits: the loss is finite
        for any logits and its gradient exact for any targets; the values reported are the same.
        """
        kwargs.pop("sample_weight_mode", None)
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments: {short_repr(sorted(kwargs))}")
        if isinstance(metrics, str):
            metrics = [metrics]
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            raise TypeError(f"Received an invalid value for `metrics`, expected a list of metric names or "
                            f"functions, e.g. metrics=['accuracy']. Received: metrics={metrics!r}")
        kept = {name: getattr(self, name) for name in _COMPILED}
        try:
            self.optimizer = optimizers.get(optimizer)
            self._loss_tracker = metrics_module.Mean(name="loss")
            self._compiled_with = (optimizer, loss, metrics, loss_weights, weighted_metrics)
            self._apply_compile_settings()
        except Exception:
            self.__dict__.update(kept)  # a refused compile leaves the model as it was
            raise

    def _apply_compile_settings(self):
        """(Re)build the per-output losses and metrics from the compile arguments: after compile, and when
        a Sequential's last layer changes (add / pop), so the logits pairing follows the output."""
        _, loss, metrics, loss_weights, weighted_metrics = self._compiled_with
        names = self.output_names
        per_output = one_per_output(loss, names, "loss")
        self.output_losses = [None if spec is None else losses_module.get(spec) for spec in per_output]
        # NOTE: a negative weight turns descent into ascent, a NaN or infinite one makes every loss NaN:
        # refused here by name, not reported later as a diverged training.
        self.loss_weights = [check_float(w, "loss_weights", minimum=0, owner=f"compile of model '{self.name}'",
                                         expected="finite numbers >= 0, one per output")
                             for w in one_per_output(loss_weights, names, "loss_weights", default=1.0)]
        self.paired = [False] * len(names)   # which outputs' losses take their activation's input, the logits
        for i, activation in enumerate(self.output_activations()):
            loss_object = self.output_losses[i]
            if loss_object is not None and not loss_object.from_logits and \
                    loss_object.name in getattr(activation, "pairs_with", ()):
                self.output_losses[i] = loss_object.logits_twin()
                self.paired[i] = True
        self.loss = self.output_losses[0] if self.output_losses else None
        self.output_metrics, self._weighted_ids = [], set()
        for weighted, specs_per_output in ((False, metrics), (True, weighted_metrics)):
            if isinstance(specs_per_output, str):
                specs_per_output = [specs_per_output]
            for i, specs in enumerate(per_output_metrics(specs_per_output, names)):
                loss_name = self.output_losses[i].name if self.output_losses[i] is not None else None
                for spec in specs:
                    metric = metrics_module.get_metric(spec, loss_name)
                    if len(names) > 1:
                        metric.name = f"{names[i]}_{metric.name}"
                    if weighted:  # Keras's rule: a weighted metric named as an unweighted one is 'weighted_<name>'
                        if metric.name in {m.name for _, m in self.output_metrics}:
                            metric.name = f"weighted_{metric.name}"
                        self._weighted_ids.add(id(metric))
                    self.output_metrics.append((i, metric))
        self._metrics = [metric for _, metric in self.output_metrics]

    @property
    def metrics(self):
        """The metric objects ``compile`` made, in order. A model with its own ``train_step`` / ``test_step``
        (``custom_step.py``) finds, as in Keras, the loss tracker ``Mean('loss')`` first: its step updates it
        (``compiled_loss`` does), and fit resets them all at each epoch. A subclass may list its own instead."""
        if self._loss_tracker is not None and custom_step.has_own_step(self):
            return [self._loss_tracker] + self._metrics
        return self._metrics

    def metrics_of_compile(self, weighted=False):
        """The metrics compiled as ``metrics`` (or, with ``weighted``, as ``weighted_metrics``), in order."""
        return [metric for metric in self._metrics if (id(metric) in self._weighted_ids) == weighted]

    @property
    def compiled_loss(self):
        """Keras 2's ``model.compiled_loss(y, y_pred, sample_weight=None, regularization_losses=None)``, for a
        model's own ``train_step`` (``custom_step.py``)."""
        return custom_step.CompiledLoss(self)

    @property
    def compiled_metrics(self):
        """Keras 2's ``model.compiled_metrics.update_state(y, y_pred)``, for a model's own ``train_step``."""
        return custom_step.CompiledMetrics(self)

    @property
    def loss_takes_logits(self):
        """Whether the (first) output's loss takes the logits of its softmax / sigmoid (see ``compile``)."""
        return bool(self.output_losses and self.paired[0])

    def _check_compiled(self, method):
        if self.optimizer is None:
            raise RuntimeError(
                f"You must compile model '{self.name}' before calling {method}: "
                "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy']).")

    # ----- one batch: the training step ---------------------------------------
    def compute_loss(self, y=None, y_pred=None, sample_weight=None, x=None, regularization=True):
        """The loss of a batch (a scalar tensor): each output's compiled loss (the batch mean, weighted by
        ``sample_weight`` as Keras reduces it) times its ``loss_weights`` entry, plus the losses the layers
        added (``add_loss``, ``activity_regularizer``), plus the weight penalties (``kernel_regularizer=``).
        A loss paired with its output's softmax / sigmoid is handed that activation's input, the logits.
        ``regularization=False`` leaves out the added losses and penalties (``model.compiled_loss``).
        """
        if self._recorded is not None and self._recorded.get("target_value") is y_pred:
            return self._recorded_loss(y, sample_weight)   # the public step API: forward(..., logits=True)
        predictions = flat(y_pred)
        targets = flat(y) if y is not None else [None] * len(predictions)
        total, self._output_loss_values = None, []
        for i, (loss, target, prediction) in enumerate(zip(self.output_losses or [], targets, predictions)):
            if loss is None:
                continue
            if self.paired[i]:
                prediction = logits_of(prediction)
            term = loss(target, prediction, sample_weight=sample_weight)
            self._output_loss_values.append(float(np.asarray(term)))
            term = term if self.loss_weights[i] == 1 else term * self.loss_weights[i]
            total = term if total is None else total + term
        added = self._weight_penalties() + _tape_losses() if regularization else []
        if not self._output_loss_values and not added and self.optimizer is not None:
            raise ValueError(f"Model '{self.name}' has no loss to compute: compile needs a `loss`, e.g. "
                             "model.compile(optimizer='adam', loss='categorical_crossentropy') (or a model whose call "
                             "adds its own with self.add_loss).")
        for term in added:
            total = term if total is None else total + term
        return total if isinstance(total, Tensor) else Tensor(np.asarray(0.0 if total is None else total))

    def _weight_penalties(self):
        """The penalties of the regularized trainable weights (``kernel_regularizer=``), as recorded ops."""
        return [penalty(p, p.regularizer, self.name) for p in self.trainable_weights if p.regularizer is not None]

    def train_step(self, x, y, on_layer=None, sample_weight=None):
        """One step of gradient descent on a batch: ``(loss, y_pred)``, the loss before the step.

        A transaction: the new weights, the optimizer's state and step count and the layers'
        ``state_updates`` (BatchNormalization's moving statistics) are committed together, or --
        when the loss or any new value is NaN or infinite, or an exception cuts the step short --
        none of them, and TrainingDivergedError says why. ``on_layer(layer, x_in, y_out)`` is
        called for each layer the forward ran (``GradientStats`` watches the ReLUs); the output layer
        paired with its loss reports the logits the loss took, as ``forward(..., logits=True)`` does.
        """
        with Tape() as tape:
            y_pred = self(as_inputs(x), training=True)
            loss = self.compute_loss(y, y_pred, sample_weight)
        value = float(loss.value)
        if not math.isfinite(value):
            raise self._diverged(f"the loss became {value}", value)
        if on_layer is not None:
            report_forward(tape, on_layer, stop_at=logits_of(flat(y_pred)[0]) if self.loss_takes_logits else None)
        trainable = self.trainable_weights
        self.backpropagate(tape, {loss: 1.0}, trainable=trainable)
        if not self.optimizer.apply(trainable, tape.state_updates):
            raise self._diverged("the update made some weights NaN or infinite (or the optimizer state, or a "
                                 "moving statistic)", value)
        return value, values_of(y_pred)

    def backpropagate(self, tape, seeds, keep=None, trainable=None, on_node=None):
        """The backward walk over ``tape`` from ``seeds`` ({tensor: gradient}); every trainable weight the
        walk did not reach gets a zero gradient (never a stale one). Returns the walk's ``grads``."""
        grads, written = tape.backward(seeds, keep=keep, on_node=on_node)
        for parameter in self.trainable_weights if trainable is None else trainable:
            if id(parameter) not in written:
                parameter.grad = np.zeros_like(parameter.data)
        return grads

    def compute_gradients(self, x, y, training=True, input_gradient=False, sample_weight=None):
        """Forward, loss, backward: ``(loss, dL/dx or None)``; fills every trainable ``Parameter.grad``.
        Changes no weight and no moving statistic."""
        with Tape() as tape:
            inputs = Tensor(as_array(x), requires_grad=input_gradient)
            loss = self.compute_loss(y, self(inputs, training=training), sample_weight)
        grads = self.backpropagate(tape, {loss: 1.0})
        return float(loss.value), grads.get(id(inputs)) if input_gradient else None

    def _diverged(self, reason, loss):
        return TrainingDivergedError(
            reason, loss, "The model keeps the weights of the last finite step (this batch's update was not "
            f"applied). {self._rate_advice()}, and check that the inputs are scaled (pixels / 255).")

    def _rate_advice(self):
        """What to change about the learning rate: a lower number, or -- when a schedule gives the rate --
        a schedule that does not grow (ExponentialDecay with decay_rate > 1 grows past any float)."""
        optimizer, name = self.optimizer, type(self.optimizer).__name__
        schedule = optimizer.schedule
        if schedule is None:
            lr = float(optimizer.learning_rate)
            return f"Try a lower learning rate, e.g. {name}(learning_rate={lr / 10:g}) instead of {lr:g}"
        step, first = int(optimizer.iterations), float(schedule(0))
        now = float(schedule(step))
        kind = type(schedule).__name__
        if not now <= first:  # grown, or overflowed to inf / nan
            return (f"The learning rate comes from the schedule {kind}, which has grown from {first:g} at step 0 to "
                    f"{now:g} at step {step:,}: a decay schedule should shrink the rate (ExponentialDecay needs "
                    "decay_rate < 1). Fix the schedule")
        return (f"The learning rate comes from the schedule {kind} ({now:g} at step {step:,}): try one that "
                f"starts lower, e.g. initial_learning_rate={first / 10:g} instead of {first:g}")

    def _evaluate_batch(self, x, y, sample_weight=None):
        with Tape(record_nodes=False):  # nothing to differentiate; the layers' added losses are still counted
            y_pred = self(as_inputs(x), training=False)
            loss = self.compute_loss(y, y_pred, sample_weight)
        return float(loss.value), values_of(y_pred)

    # ----- batches --------------------------------------------------------------
    @property
    def metrics_names(self):
        if self.output_losses is None:   # not compiled: no loss and no metrics yet, as in Keras
            return []
        names = ["loss"]
        if len(self.output_names) > 1:
            names += [f"{name}_loss" for name, loss in zip(self.output_names, self.output_losses) if loss is not None]
        return names + [metric.name for metric in self._metrics]

    def _update_metrics(self, y, y_pred, reset=False, sample_weight=None):
        """Add a batch to every metric (the ``weighted_metrics`` weighted by ``sample_weight``, as the loss
        is); their values over the batches since the last reset."""
        if y is None:
            return {}
        targets, predictions = flat(y), flat(y_pred)
        for i, metric in self.output_metrics:
            if reset:
                metric.reset_state()
            metric.update_state(targets[i], predictions[i],
                                sample_weight=sample_weight if id(metric) in self._weighted_ids else None)
        return {metric.name: log_value(metric.result()) for metric in self._metrics}

    def _batch_logs(self, loss_mean, output_means, loss, n):
        logs = {"loss": loss_mean.add(loss, n)}
        if len(self.output_names) > 1:
            for mean, name, value in zip(output_means, [n_ for n_, l in zip(self.output_names, self.output_losses)
                                                         if l is not None], self._output_loss_values):
                logs[f"{name}_loss"] = mean.add(value, n)
        return logs

    def _prepare(self, x, y, x_name="x", y_name="y"):
        x = self._prepare_x(x, x_name)
        if y is None:
            if any(loss is not None for loss in self.output_losses or []):
                raise ValueError(f"Received no value for `{y_name}`: expected the targets (labels) the model's loss "
                                 f"compares its outputs with. Received: {y_name}=None")
            return x, None
        ys = by_names(y, self.output_names, y_name)
        checked = []
        for i, (target, loss) in enumerate(zip(ys, self.output_losses)):
            name = y_name if len(ys) == 1 else f"{y_name}[{self.output_names[i]!r}]"
            if loss is None:
                checked.append(None if target is None else np.asarray(target))
                continue
            shape = self.output_shapes[i]
            checked.append(as_targets(target, loss, shape[1:], name, output_layer=self.output_layers[i])
                           if loss.name in losses_module.FUNCTIONS else as_float_array(target, name))
            check_same_length(x[0], checked[-1], x_name, name)
        return x, checked

    def _prepare_x(self, x, x_name="x"):
        xs = by_names(x, self.input_names, x_name)
        xs = [as_float_array(a, x_name if len(xs) == 1 else f"{x_name}[{i}]") for i, a in enumerate(xs)]
        for a in xs[1:]:
            check_same_length(xs[0], a, x_name, x_name)
        self._ensure_built(xs)
        for a in xs:
            self._warned_unscaled |= check_values(a, x_name, warn_unscaled=not self._warned_unscaled)
        return xs

    @staticmethod
    def _result(logs):
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) before the step."""
        self._check_compiled("train_on_batch")
        x, y = self._prepare(x, y)
        w = self._sample_weights(y, sample_weight, class_weight, len(x[0]))
        loss, y_pred = self.train_step(x, y, sample_weight=w)
        logs = {**self._batch_logs(RunningMean(), running_means(self), loss, len(x[0])),
                **self._update_metrics(y, y_pred, reset=True, sample_weight=w)}
        return logs if return_dict else self._result(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._check_compiled("test_on_batch")
        x, y = self._prepare(x, y)
        w = self._sample_weights(y, sample_weight, None, len(x[0]))
        loss, y_pred = self._evaluate_batch(x, y, w)
        logs = {**self._batch_logs(RunningMean(), running_means(self), loss, len(x[0])),
                **self._update_metrics(y, y_pred, reset=True, sample_weight=w)}
        return logs if return_dict else self._result(logs)

    def predict_on_batch(self, x):
        return values_of(self(as_inputs(self._prepare_x(x)), training=False))

    # ----- whole data sets -------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_freq=1, **kwargs):
        """Train for ``epochs`` epochs; returns a ``History`` (``history.history['val_loss']`` ...).

        As in Keras: ``x`` is arrays (one per input: a list or a dict), a ``tinynet.data.Dataset``, a
        ``keras.utils.Sequence`` or a Python generator yielding ``(x, y)`` batches (``data_adapter.py``);
        ``validation_split`` holds out the *last* fraction of arrays before any shuffling; arrays are
        reshuffled every epoch; the last partial batch is used; the metrics shown are running means over
        the epoch. When training goes wrong (NaN / infinite values, Ctrl-C) the model stays usable: see
        ``tinynet.core.guards.TrainingGuard``.
        """
        epochs = keras1_epochs(epochs, kwargs)
        self._check_compiled("fit")
        batch_size, epochs, initial_epoch, shuffle, verbose, split = check_fit_arguments(
            batch_size, epochs, initial_epoch, shuffle, verbose, validation_split, validation_data)
        data, val = self._training_data(x, y, batch_size, split, validation_data, sample_weight, class_weight,
                                        steps_per_epoch, shuffle)
        validation_steps = None if validation_steps is None else check_steps(validation_steps, "validation_steps")
        validate_after = validation_epochs(validation_freq, epochs)
        self.history = History()
        callbacks = self._callbacks(callbacks, verbose, {"verbose": verbose, "epochs": epochs,
                                                          "steps": data.num_batches})
        self.stop_training = False
        on_layer = layer_watch(callbacks)
        own_step = custom_step.user_step(self, "train_step")   # a subclass's train_step(data), as Keras's
        self._initial_epoch = initial_epoch
        callbacks.on_train_begin({})
        with TrainingGuard(self, callbacks) as guard:
            # After on_train_begin, as Keras's trainer: BackupAndRestore may move the start on.
            for epoch in range(self._initial_epoch, epochs):
                callbacks.on_epoch_begin(epoch, {})
                means, logs = (RunningMean(), running_means(self)), {}
                for step, (xb, yb, wb) in data.epoch():
                    guard.at(epoch, step)
                    callbacks.on_train_batch_begin(step, {})
                    logs = self._fit_step(own_step, xb, yb, wb, step == 0, on_layer, means)
                    callbacks.on_train_batch_end(step, logs)
                    guard.check()
                    if self.stop_training:
                        break
                if data.exhausted:            # a generator ran out: this epoch is the last one
                    self.stop_training = True
                if val is not None and epoch + 1 in validate_after:
                    logs.update(self._validate(val, validation_steps, callbacks))
                callbacks.on_epoch_end(epoch, logs)
                guard.at(epoch)
                guard.check()
                if self.stop_training:
                    break
        return self.history

    def _fit_step(self, own_step, x, y, sample_weight, first, on_layer, means):
        """One batch of ``fit``: the model's own ``train_step(data)`` if it has one (``custom_step.py``; the
        metrics it lists reset at an epoch's first batch, as Keras does), else tinynet's. Returns the logs."""
        if own_step is not None:
            if first:
                custom_step.reset_metrics(self)
            return custom_step.run_step(own_step, x, y, sample_weight)
        loss, y_pred = self.train_step(x, y, on_layer, sample_weight=sample_weight)
        return {**self._batch_logs(*means, loss, len(x[0])),
                **self._update_metrics(y, y_pred, reset=first, sample_weight=sample_weight)}

    def _callbacks(self, callbacks, verbose, params):
        """The user's callbacks (checked by CallbackList), after the progress bar and before the History."""
        user = CallbackList(callbacks, self, params).callbacks
        return CallbackList(([ProgbarLogger(verbose)] if verbose else []) + user + [self.history], self, params)

    def _validate(self, val, steps, callbacks):
        """``{'val_loss': ..., 'val_<metric>': ...}`` on the validation data, between the test hooks (which get
        each batch, and the un-prefixed logs at the end, as in Keras)."""
        callbacks.on_test_begin({})
        logs = self._evaluate_batches(val, steps=steps, callbacks=callbacks)
        callbacks.on_test_end(dict(logs))
        return {f"val_{name}": value for name, value in logs.items()}

    # ----- data: arrays, datasets, Sequences, generators --------------------------------------
    def _training_data(self, x, y, batch_size, validation_split, validation_data, sample_weight, class_weight,
                       steps_per_epoch, shuffle):
        """``(batches, validation batches or None)`` for ``fit``: arrays checked and converted once (their
        batches sliced each epoch), any other kind read batch by batch, each batch checked as it comes."""
        if x is None or is_array_structure(x):
            x, y, w, val = self._fit_data(x, y, validation_split, validation_data, sample_weight, class_weight)
            data = ArrayBatches(x, y, w, batch_size, shuffle, steps_per_epoch)
            val = None if val is None else ArrayBatches(val[0], val[1], val[2] if len(val) == 3 else None,
                                                        self._inference_batch_size(batch_size))
        else:
            if validation_split:
                raise ValueError(f"`validation_split` is only supported for NumPy arrays, not for a {kind_of(x)}: "
                                 "pass `validation_data` instead (as Keras says).")
            data = PreparedBatches(self, EpochIterator(x, y, sample_weight, batch_size, steps_per_epoch, shuffle,
                                                       class_weight))
            val = None
            if validation_data is not None:
                val = self._evaluation_data(*validation_parts(validation_data), batch_size,
                                            "validation_data[0]", "validation_data[1]")
        return data, val

    def _evaluation_data(self, x, y, sample_weight, batch_size, x_name="x", y_name="y", steps=None):
        """The batches ``evaluate`` (and fit's validation) reads, in inference mode."""
        if x is None or is_array_structure(x):
            x, y = self._prepare(x, y, x_name, y_name)
            w = self._sample_weights(y, sample_weight, None, len(x[0]))
            return ArrayBatches(x, y, w, self._inference_batch_size(batch_size), steps_per_epoch=steps)
        return PreparedBatches(self, EpochIterator(x, y, sample_weight, batch_size, steps, False), x_name, y_name)

    def _sample_weights(self, y, sample_weight, class_weight, n):
        """One weight per sample from ``sample_weight`` and ``class_weight`` (their product), or None."""
        if y is None or y[0] is None:
            if sample_weight is None and class_weight is None:
                return None
            raise ValueError("`sample_weight` and `class_weight` weight the loss's targets; this model was given none.")
        classes = self.output_shapes[0][-1] if self.output_shapes[0] else None
        return sample_weights(y[0], sample_weight, class_weight, classes=classes)

    def _fit_data(self, x, y, validation_split, validation_data, sample_weight=None, class_weight=None):
        """``(x, y, w, (x_val, y_val[, w_val]) or None)``: checked and converted (x and y as lists, one
        array per input / output), the sample weights (or None), the validation data split off."""
        x, y = self._prepare(x, y)
        n = len(x[0])
        w = self._sample_weights(y, sample_weight, class_weight, n)
        if validation_data is not None:
            vx, vy, vw = validation_parts(validation_data)
            if not is_array_structure(vx):
                raise ValueError("`validation_data` is a dataset or generator while `x` is arrays: give both as "
                                 "arrays, or both as datasets.")
            val = self._prepare(vx, vy, "validation_data[0]", "validation_data[1]")
            if vw is not None:
                val = val + (self._sample_weights(val[1], vw, None, len(val[0][0])),)
            return x, y, w, val
        if not validation_split:
            return x, y, w, None
        split_at = int(n * (1.0 - validation_split))
        if split_at == 0 or split_at == n:
            raise ValueError(f"validation_split={validation_split} leaves no training or no validation "
                             f"samples out of {n}.")
        head, tail = slice(None, split_at), slice(split_at, None)
        val = (take(x, tail), take(y, tail))
        if sample_weight is not None:  # class_weight weights the training samples only, as in Keras
            val = val + (self._sample_weights(y, sample_weight, None, n)[split_at:],)
        return take(x, head), take(y, head), None if w is None else w[:split_at], val

    def _evaluate_batches(self, data, progbar=None, steps=None, callbacks=None):
        """``{'loss': ..., metric: ...}`` over the batches of ``data`` (its first ``steps``), in inference mode."""
        loss_mean, output_means, logs = RunningMean(), running_means(self), {}
        own_step = custom_step.user_step(self, "test_step")   # a subclass's test_step(data), as Keras's
        if own_step is not None:
            custom_step.reset_metrics(self)
        for step, (xb, yb, wb) in data.epoch():
            if step == steps:
                break
            if callbacks is not None:
                callbacks.on_test_batch_begin(step, {})
            if own_step is not None:
                logs = custom_step.run_step(own_step, xb, yb, wb)
            else:
                loss, y_pred = self._evaluate_batch(xb, yb, wb)
                logs = {**self._batch_logs(loss_mean, output_means, loss, len(xb[0])),
                        **self._update_metrics(yb, y_pred, reset=step == 0, sample_weight=wb)}
            if callbacks is not None:
                callbacks.on_test_batch_end(step, logs)
            if progbar is not None:
                progbar.update(step + 1, list(logs.items()))
        return logs

    # predict / evaluate hold at most this many bytes of any one layer's output at a time.
    max_inference_activation_bytes = 64 * 2 ** 20

    def _inference_batch_size(self, batch_size):
        """``batch_size``, lowered so no layer's float32 output for one batch exceeds
        ``max_inference_activation_bytes``.

        Inference treats every sample on its own (BatchNormalization uses its moving
        statistics), so smaller batches give the same outputs and only lower the peak
        memory: for 10000 images, the MNIST CNN's first Conv2D alone outputs 500 MB.
        """
        sizes = [int(np.prod(shape[1:])) for layer in self.layers for shape in shapes_of(layer.output_shape)]
        if not sizes:
            return batch_size
        return max(1, min(batch_size, self.max_inference_activation_bytes // (4 * max(sizes))))

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None, callbacks=None,
                 return_dict=False):
        """Loss (and metrics) on a data set: a float, or ``[loss, metric, ...]`` (``metrics_names`` says
        which); ``return_dict=True`` gives ``{'loss': ..., 'accuracy': ...}``. ``sample_weight`` weights
        the loss as in ``fit``; ``steps`` caps the batches; ``callbacks`` get the test hooks. ``x`` may be
        a dataset, a Sequence or a generator, as in ``fit``."""
        self._check_compiled("evaluate")
        batch_size = check_batch_size(batch_size)
        steps = None if steps is None else check_int(steps, "steps", 1)
        data = self._evaluation_data(x, y, sample_weight, batch_size, steps=steps)
        total = data.num_batches
        progbar = Progbar(total, verbose=verbose) if verbose else None
        callbacks = None if callbacks is None else CallbackList(list(callbacks), self, {"verbose": verbose,
                                                                                         "steps": total})
        if callbacks is not None:
            callbacks.on_test_begin({})
        logs = self._evaluate_batches(data, progbar, steps=steps, callbacks=callbacks)
        if callbacks is not None:
            callbacks.on_test_end(dict(logs))
        return dict(logs) if return_dict else self._result(logs)

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """Outputs for ``x``, computed in batches of ``batch_size`` (inference mode): an array, or one per
        output for a model with several. ``x`` may be a dataset, a Sequence or a generator (its batches' ``y``,
        if any, unused)."""
        batch_size = check_batch_size(batch_size)
        steps = None if steps is None else check_int(steps, "steps", 1)
        if x is None or is_array_structure(x):
            data = ArrayBatches(self._prepare_x(x), None, None, self._inference_batch_size(batch_size),
                                steps_per_epoch=steps)
        else:
            data = PreparedBatches(self, EpochIterator(x, None, None, batch_size, steps, False), targets=False)
        total = data.num_batches
        progbar = Progbar(total, verbose=verbose) if verbose else None
        callbacks = None if callbacks is None else CallbackList(list(callbacks), self, {"verbose": verbose,
                                                                                         "steps": total})
        if callbacks is not None:
            callbacks.on_predict_begin({})
        outputs = []
        own_step = custom_step.user_step(self, "predict_step")   # a subclass's predict_step(data), as Keras's
        for step, (xb, _, _) in data.epoch():
            if callbacks is not None:
                callbacks.on_predict_batch_begin(step, {})
            out = flat(values_of(own_step(custom_step.batch_data(xb, None, None)) if own_step is not None
                                 else self(as_inputs(xb), training=False)))
            outputs.append(out)
            if callbacks is not None:
                callbacks.on_predict_batch_end(step, {"outputs": out[0] if len(out) == 1 else out})
            if progbar is not None:
                progbar.update(step + 1, finalize=total is not None and step + 1 == total)
        if callbacks is not None:
            callbacks.on_predict_end({})
        if not outputs:
            raise ValueError("predict received no batch: the dataset or generator is empty.")
        result = [np.concatenate([batch[i] for batch in outputs]) for i in range(len(outputs[0]))]
        return result[0] if len(result) == 1 else result


    # ----- Keras 2's spellings for generators, deprecated there in favour of fit / evaluate / predict --------
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, validation_freq=1, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """``fit`` on a generator or Sequence, as Keras 2's ``fit_generator`` (which calls ``fit``). tinynet
        reads batches in this thread: ``max_queue_size``, ``workers``, ``use_multiprocessing`` change nothing."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        validation_freq=validation_freq, class_weight=class_weight, shuffle=shuffle,
                        initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                           use_multiprocessing=False, verbose=0):
        """``evaluate`` on a generator or Sequence, as Keras 2's ``evaluate_generator``."""
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def predict_generator(self, generator, steps=None, callbacks=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        """``predict`` on a generator or Sequence, as Keras 2's ``predict_generator``."""
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)


def _tape_losses():
    tape = current_tape()
    return list(tape.losses) if tape is not None else []
