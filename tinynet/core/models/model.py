"""``Model``: compile, the training step, fit / evaluate / predict, and the weights.

One training step is the whole of backprop (``train_step``):

    z    = forward(x, logits=True)      every layer; with a softmax (sigmoid) output and the
                                        matching cross-entropy, it stops before that activation
    loss = compute_loss(y, z)           the loss takes the logits: -sum(y * log_softmax(z)) / N
    backward(loss.backward())           dL/dz = (softmax(z) - y) / N flows back; each layer
                                        stores dL/dW in its parameters' ``grad``
    optimizer.apply(...)                new weights, optimizer state, step count and moving
                                        statistics: all committed, or (non-finite) none

``Sequential`` (in ``sequential.py``) is the linear case: it says how the layers
are built and walked (``forward`` / ``backward``); everything else is here.
"""
import json
import math

import numpy as np

from .. import losses, metrics as metrics_module, optimizers
from ..callbacks import CallbackList, History, ProgbarLogger
from ..checks import check_int, invalid
from ..guards import TrainingDivergedError, TrainingGuard
from ..layers.activations import Sigmoid, Softmax
from ..layers.base import unique_name
from ..progbar import Progbar
from ..summary import print_summary
from ..validation import (as_float_array, as_targets, check_batch_size, check_fit_arguments, check_same_length,
                          check_values)
from .training import RunningMean, keras1_epochs, layer_watch, log_value, epoch_steps, batches

# The cross-entropy each output activation pairs with: the loss then takes the logits.
_PAIRS = {Softmax: ("categorical_crossentropy", "sparse_categorical_crossentropy"), Sigmoid: ("binary_crossentropy",)}


class Model:
    """Base class of models: ``layers`` in order, compiled with a loss, an optimizer and metrics.

    A subclass says how data flows through its layers: ``forward``, ``backward``,
    ``output_activation`` and building (``_ensure_built``).
    """

    def __init__(self, name=None, **kwargs):
        if {"inputs", "outputs", "input", "output"} & set(kwargs):
            raise TypeError("Model(inputs=..., outputs=...) is Keras's functional API, which tinynet does not have: "
                            "tinynet models are linear stacks. Use Sequential([Input(shape=...), layer, ...]).")
        if kwargs:
            raise TypeError(f"Model() got unexpected keyword arguments: {sorted(kwargs)}")
        self.name = name or unique_name(type(self).__name__.lower())
        self.layers = []
        self.optimizer = None
        self.loss = None  # the ONE loss object; it takes logits when loss_takes_logits
        self.loss_takes_logits = False
        self.metrics = []  # tinynet.metrics.Metric objects, each accumulating over an epoch
        self.stop_training = False
        self.history = None
        self._warned_unscaled = False  # the 0-255 input warning is given once per model
        self.trainable = True  # False: fit changes no weight (Keras's model.trainable = False)
        self.activity_outputs = []  # (layer, y) of the layers with an activity_regularizer, from the last forward

    # ----- what a subclass provides -----------------------------------------
    def forward(self, x, training=False, logits=False, on_layer=None):
        """The model's output for a batch ``x``; with ``logits=True`` and ``loss_takes_logits``, the logits
        before the output activation. ``on_layer(layer, x_in, y_out)`` is called after each layer."""
        raise NotImplementedError

    def backward(self, dloss, input_gradient=False, on_layer=None):
        """Backpropagate ``dloss`` (dL/d of what the last forward returned); fills every ``Parameter.grad``.
        Returns dL/dx with ``input_gradient=True``, else None. ``on_layer(layer, dout, dx)`` after each layer."""
        raise NotImplementedError

    def output_activation(self):
        """The activation (a layer) that produces the model's output, or None."""
        return None

    # ----- compiling -------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics, each by Keras name or as an object.

        When the output activation is a softmax (sigmoid) and the loss the matching
        cross-entropy, the model keeps that loss with ``from_logits=True`` and hands it
        the logits (``loss_takes_logits``): the loss is finite for any logits, and its
        gradient is exact for any targets. The values it reports are the same.
        """
        if loss is None:
            raise ValueError("compile needs a `loss`, e.g. loss='categorical_crossentropy'.")
        if isinstance(metrics, str):
            metrics = [metrics]
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise TypeError(f"Received an invalid value for `metrics`, expected a list of metric names or "
                            f"functions, e.g. metrics=['accuracy']. Received: metrics={metrics!r}")
        loss = losses.get(loss)
        optimizer = optimizers.get(optimizer)
        compiled_metrics = [metrics_module.get_metric(m, loss.name) for m in metrics or []]
        activation = self.output_activation()
        pairs = not loss.from_logits and loss.name in _PAIRS.get(type(activation), ())
        self.optimizer, self.metrics = optimizer, compiled_metrics
        self.loss = type(loss)(from_logits=True) if pairs else loss
        self.loss_takes_logits = pairs
        self._compiled_with = (optimizer, loss, metrics)  # to pair again when layers are added

    def _check_compiled(self, method):
        if self.loss is None:
            raise RuntimeError(
                f"You must compile model '{self.name}' before calling {method}: "
                "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy']).")

    # ----- one batch: the public step API -----------------------------------
    def compute_loss(self, y, y_pred, sample_weight=None):
        """The compiled loss of a batch (the batch mean); ``y_pred`` is the logits when ``loss_takes_logits``.

        With ``sample_weight`` (one weight per sample), the mean of ``weight * per-sample loss``, as
        Keras reduces it. Plus the weight penalties (``kernel_regularizer=`` ...), as Keras reports
        them: the loss that training minimises. ``backward`` adds their gradients.
        """
        loss = self.loss.forward(y, y_pred)
        if sample_weight is not None:
            loss = float(np.mean(sample_weight * self.loss.per_sample(y, y_pred)))
        return loss + self.regularization_loss()

    def _loss_gradient(self, sample_weight=None):
        """dL/dy_pred of the last ``compute_loss``: each sample's row scaled by its weight."""
        dloss = self.loss.backward()
        if sample_weight is None:
            return dloss
        return dloss * sample_weight.reshape((-1,) + (1,) * (dloss.ndim - 1))

    def regularization_loss(self):
        """The sum of the penalties: of the regularized weights (``l2 * sum(w^2)`` for ``regularizers.l2(l2)``),
        and of the outputs of the last forward (``activity_regularizer``: ``r(y) / N``, as Keras divides it)."""
        weights = sum(p.regularizer(p.data) for p in self.trainable_weights if p.regularizer is not None)
        outputs = sum(layer.activity_regularizer(y) / len(y) for layer, y in self.activity_outputs)
        return weights + outputs

    def compute_gradients(self, x, y, training=True, input_gradient=False, sample_weight=None):
        """Forward (to the logits where the loss takes them), loss, backward: ``(loss, dL/dx or None)``.

        Fills every trainable ``Parameter.grad``. Changes no weight and no moving
        statistic (a layer records those in ``state_updates``; ``train_step`` commits them).
        """
        z = self.forward(x, training=training, logits=True)
        loss = self.compute_loss(y, z, sample_weight)
        dx = self.backward(self._loss_gradient(sample_weight), input_gradient=input_gradient)
        return loss, dx

    def train_step(self, x, y, on_layer=None, sample_weight=None):
        """One step of gradient descent on a batch: ``(loss, y_pred)``, the loss before the step.

        A transaction: the new weights, the optimizer's state and step count and the
        layers' ``state_updates`` (BatchNormalization's moving statistics) are committed
        together, or -- when the loss or any new value is NaN or infinite, or an
        exception cuts the step short -- none of them, and TrainingDivergedError says why.
        ``on_layer(layer, x_in, y_out)`` is passed to ``forward`` (``GradientStats`` watches the ReLUs).
        """
        z = self.forward(x, training=True, logits=True, on_layer=on_layer)
        loss = self.compute_loss(y, z, sample_weight)
        if not math.isfinite(loss):
            raise self._diverged(f"the loss became {loss}", loss)
        self.backward(self._loss_gradient(sample_weight))
        state_updates = [update for layer in self.layers for update in getattr(layer, "state_updates", ())]
        if not self.optimizer.apply(self.trainable_weights, state_updates):
            raise self._diverged("the update made some weights NaN or infinite (or the optimizer state, or a "
                                 "moving statistic)", loss)
        return loss, self._output_from(z)

    def _output_from(self, z):
        """The model's output from what ``forward(..., logits=True)`` returned."""
        return self.output_activation().forward(z) if self.loss_takes_logits else z

    def _diverged(self, reason, loss):
        lr = self.optimizer.learning_rate
        return TrainingDivergedError(
            reason, loss, "The model keeps the weights of the last finite step (this batch's update was not "
            f"applied). Try a lower learning rate, e.g. {type(self.optimizer).__name__}(learning_rate={lr / 10:g}) "
            f"instead of {lr:g}, and check that the inputs are scaled (pixels / 255).")

    def _evaluate_batch(self, x, y, sample_weight=None):
        z = self.forward(x, training=False, logits=True)
        return self.compute_loss(y, z, sample_weight), self._output_from(z)

    @property
    def metrics_names(self):
        return ["loss"] + [metric.name for metric in self.metrics]

    def _update_metrics(self, y, y_pred, reset=False):
        """Add a batch to every metric; their values over the batches since the last reset."""
        for metric in self.metrics:
            if reset:
                metric.reset_state()
            metric.update_state(y, y_pred)
        return {metric.name: log_value(metric.result()) for metric in self.metrics}

    def _prepare(self, x, y, x_name="x", y_name="y"):
        x = self._prepare_x(x, x_name)
        y = as_targets(y, self.loss, self.output_shape[1:], y_name, output_layer=self.layers[-1])
        check_same_length(x, y, x_name, y_name)
        return x, y

    def _prepare_x(self, x, x_name="x"):
        x = as_float_array(x, x_name)
        self._ensure_built(x)
        self._warned_unscaled |= check_values(x, x_name, warn_unscaled=not self._warned_unscaled)
        return x

    @staticmethod
    def _result(logs):
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y):
        """One gradient step on one batch; returns the loss (and metrics) before the step."""
        self._check_compiled("train_on_batch")
        x, y = self._prepare(x, y)
        loss, y_pred = self.train_step(x, y)
        return self._result({"loss": loss, **self._update_metrics(y, y_pred, reset=True)})

    def test_on_batch(self, x, y):
        self._check_compiled("test_on_batch")
        x, y = self._prepare(x, y)
        loss, y_pred = self._evaluate_batch(x, y)
        return self._result({"loss": loss, **self._update_metrics(y, y_pred, reset=True)})

    def predict_on_batch(self, x):
        return self.forward(self._prepare_x(x), training=False)

    # ----- whole data sets -------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_freq=1, **kwargs):
        """Train for ``epochs`` epochs; returns a ``History`` (``history.history['val_loss']`` ...).

        As in Keras: ``validation_split`` holds out the *last* fraction of the data
        before any shuffling; the training data is reshuffled every epoch; the last
        partial batch is used; the metrics shown are running means over the epoch.
        When training goes wrong (NaN / infinite values, Ctrl-C) the model stays
        usable: see ``tinynet.core.guards.TrainingGuard``.

        ``sample_weight``, ``class_weight``, a third item of ``validation_data``, ``steps_per_epoch``,
        ``validation_steps`` and ``validation_freq`` work as in Keras: see ``_sample_weights`` and ``steps``.
        """
        epochs = keras1_epochs(epochs, kwargs)
        self._check_compiled("fit")
        batch_size, epochs, initial_epoch, shuffle, verbose, split = check_fit_arguments(
            batch_size, epochs, initial_epoch, shuffle, verbose, validation_split, validation_data)
        x, y, w, val = self._fit_data(x, y, split, validation_data, sample_weight, class_weight)
        steps, validation_steps, validate_after = epoch_steps(len(x), batch_size, epochs, steps_per_epoch,
                                                         validation_steps, validation_freq)
        self.history = History()
        callbacks = self._callbacks(callbacks, verbose, {"verbose": verbose, "epochs": epochs, "steps": steps})
        self.stop_training = False
        on_layer = layer_watch(callbacks)
        self._initial_epoch = initial_epoch
        callbacks.on_train_begin({})
        with TrainingGuard(self, callbacks) as guard:
            # After on_train_begin, as Keras's trainer: BackupAndRestore may move the start on.
            for epoch in range(self._initial_epoch, epochs):
                callbacks.on_epoch_begin(epoch, {})
                loss_mean = RunningMean()
                for step, batch in enumerate(batches(len(x), batch_size, shuffle, steps)):
                    guard.at(epoch, step)
                    callbacks.on_train_batch_begin(step, {})
                    xb, yb = x[batch], y[batch]
                    loss, y_pred = self.train_step(xb, yb, on_layer, sample_weight=None if w is None else w[batch])
                    logs = {"loss": loss_mean.add(loss, len(batch)), **self._update_metrics(yb, y_pred, reset=step == 0)}
                    callbacks.on_train_batch_end(step, logs)
                    guard.check()
                    if self.stop_training:
                        break
                if val is not None and epoch + 1 in validate_after:
                    logs.update(self._validate(val, batch_size, validation_steps, callbacks))
                callbacks.on_epoch_end(epoch, logs)
                guard.at(epoch)
                guard.check()
                if self.stop_training:
                    break
        return self.history

    def _callbacks(self, callbacks, verbose, params):
        """The user's callbacks (checked by CallbackList), after the progress bar and before the History."""
        user = CallbackList(callbacks, self, params).callbacks
        return CallbackList(([ProgbarLogger(verbose)] if verbose else []) + user + [self.history], self, params)

    def _validate(self, val, batch_size, steps, callbacks):
        """``{'val_loss': ..., 'val_<metric>': ...}`` on ``(x_val, y_val[, w_val])``, between the test hooks."""
        callbacks.on_test_begin({})
        logs = self._evaluate_arrays(*val[:2], batch_size, sample_weight=val[2] if len(val) == 3 else None,
                                     steps=steps)
        val_logs = {f"val_{name}": value for name, value in logs.items()}
        callbacks.on_test_end(val_logs)
        return val_logs

    def _sample_weights(self, y, sample_weight, class_weight, n):
        """One weight per sample from ``sample_weight`` and ``class_weight`` (their product), or None."""
        weights = None
        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if weights.shape != (n,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
                raise ValueError(f"Received an invalid value for `sample_weight`, expected {n} finite non-negative "
                                 f"numbers, one per sample. Received: an array of shape {np.shape(sample_weight)}")
        if class_weight is not None:
            if not isinstance(class_weight, dict):
                raise invalid("class_weight", "a dict {class index: weight}", class_weight)
            labels = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y)).astype(np.int64)
            per_class = np.array([class_weight.get(int(label), 1.0) for label in labels], dtype=np.float64)
            weights = per_class if weights is None else weights * per_class
        return weights

    def _fit_data(self, x, y, validation_split, validation_data, sample_weight=None, class_weight=None):
        """``(x, y, w, (x_val, y_val[, w_val]) or None)``: checked and converted, the sample weights
        (or None) computed, the validation data split off (with its part of ``sample_weight``)."""
        x, y = self._prepare(x, y)
        w = self._sample_weights(y, sample_weight, class_weight, len(x))
        if validation_data is not None:
            val = self._prepare(*validation_data[:2], "validation_data[0]", "validation_data[1]")
            if len(validation_data) == 3 and validation_data[2] is not None:
                val = val + (self._sample_weights(val[1], validation_data[2], None, len(val[0])),)
            return x, y, w, val
        if not validation_split:
            return x, y, w, None
        split_at = int(len(x) * (1.0 - validation_split))
        if split_at == 0 or split_at == len(x):
            raise ValueError(f"validation_split={validation_split} leaves no training or no validation "
                             f"samples out of {len(x)}.")
        val = (x[split_at:], y[split_at:])
        if sample_weight is not None:  # class_weight weights the training samples only, as in Keras
            val = val + (self._sample_weights(y, sample_weight, None, len(x))[split_at:],)
        return x[:split_at], y[:split_at], None if w is None else w[:split_at], val

    def _evaluate_arrays(self, x, y, batch_size, progbar=None, sample_weight=None, steps=None, callbacks=None):
        """``{'loss': ..., metric: ...}`` over ``(x, y)`` (its first ``steps`` batches), in inference mode."""
        loss_mean = RunningMean()
        for step, start in enumerate(range(0, len(x), batch_size)):
            if step == steps:
                break
            if callbacks is not None:
                callbacks.on_test_batch_begin(step, {})
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            wb = None if sample_weight is None else sample_weight[start:start + batch_size]
            loss, y_pred = self._evaluate_batch(xb, yb, wb)
            logs = {"loss": loss_mean.add(loss, len(xb)), **self._update_metrics(yb, y_pred, reset=step == 0)}
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
        per_sample = 4 * max(int(np.prod(layer.output_shape[1:])) for layer in self.layers)
        return max(1, min(batch_size, self.max_inference_activation_bytes // per_sample))

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None, callbacks=None,
                 return_dict=False):
        """Loss (and metrics) on a data set: a float, or ``[loss, metric, ...]`` (``metrics_names`` says
        which); ``return_dict=True`` gives ``{'loss': ..., 'accuracy': ...}``. ``sample_weight`` weights
        the loss as in ``fit``; ``steps`` caps the batches; ``callbacks`` get the test hooks."""
        self._check_compiled("evaluate")
        batch_size = check_batch_size(batch_size)
        x, y = self._prepare(x, y)
        w = self._sample_weights(y, sample_weight, None, len(x))
        steps = None if steps is None else check_int(steps, "steps", 1)
        batch_size = self._inference_batch_size(batch_size)
        total = math.ceil(len(x) / batch_size) if steps is None else min(steps, math.ceil(len(x) / batch_size))
        progbar = Progbar(total, verbose=verbose) if verbose else None
        callbacks = None if callbacks is None else CallbackList(list(callbacks), self, {"verbose": verbose,
                                                                                         "steps": total})
        if callbacks is not None:
            callbacks.on_test_begin({})
        logs = self._evaluate_arrays(x, y, batch_size, progbar, sample_weight=w, steps=steps, callbacks=callbacks)
        if callbacks is not None:
            callbacks.on_test_end(dict(logs))
        return dict(logs) if return_dict else self._result(logs)

    def predict(self, x, batch_size=None, verbose=0):
        """Outputs for ``x``, computed in batches of ``batch_size`` (inference mode)."""
        batch_size = check_batch_size(batch_size)
        x = self._prepare_x(x)
        batch_size = self._inference_batch_size(batch_size)
        steps = math.ceil(len(x) / batch_size)
        progbar = Progbar(steps, verbose=verbose) if verbose else None
        outputs = []
        for step in range(steps):
            outputs.append(self.forward(x[step * batch_size:(step + 1) * batch_size], training=False))
            if progbar is not None:
                progbar.update(step + 1)
        return np.concatenate(outputs)

    # ----- weights ---------------------------------------------------------
    @property
    def weights(self):
        return [p for layer in self.layers for p in layer.weights]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [p for layer in self.layers for p in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [p for layer in self.layers for p in layer.non_trainable_weights]

    # ----- Keras's model utilities -------------------------------------------
    def __call__(self, x, training=False):
        """The model's output for the batch ``x``: ``model(x)``, as in Keras (``predict`` does it in batches)."""
        return self.forward(self._prepare_x(x), training=training)

    def get_layer(self, name=None, index=None):
        """The layer called ``name`` (``model.get_layer('dense_1')``), or the one at position ``index``."""
        if index is not None:
            if name is not None:
                raise ValueError("get_layer: give `name` or `index`, not both.")
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: model '{self.name}' has {len(self.layers)} layers; "
                                 f"there is no layer at index {index}.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Model '{self.name}' has the layers "
                         f"{[layer.name for layer in self.layers]}.")

    def get_config(self):
        """The architecture as Keras writes a Sequential's: ``{'name', 'layers': [{'class_name', 'config'}]}``."""
        return {"name": self.name,
                "layers": [{"class_name": getattr(layer, "class_name", type(layer).__name__),
                            "config": layer.get_config()} for layer in self.layers]}

    def to_json(self, **kwargs):
        """The architecture as Keras's JSON (no weights); ``tinynet.models.model_from_json`` reads it back.
        ``kwargs`` go to ``json.dumps`` (``indent=2``)."""
        config = {"class_name": type(self).__name__, "config": self.get_config(), "backend": "numpy"}
        return json.dumps(config, default=_json_value, **kwargs)

    def _check_built(self, method):
        if not self.built:
            raise ValueError(
                f"Model '{self.name}' has not been built yet, so {method} has nothing to show. Give the first "
                "layer `input_shape=...`, call model.build((None, ...)), or fit the model first.")

    def get_weights(self):
        """All weight arrays, layer by layer in Keras's order (Dense: kernel, bias)."""
        self._check_built("get_weights()")
        return [p.data.copy() for p in self.weights]

    def set_weights(self, weights):
        """Load a list of arrays as returned by ``get_weights`` (from tinynet or Keras).

        Every array is checked first -- count, shape, real finite numbers that fit the
        weight's dtype -- and nothing changes unless all of them are right.
        """
        self._check_built("set_weights()")
        parameters = self.weights
        weights = list(weights)
        if len(weights) != len(parameters):
            raise ValueError(f"Model '{self.name}' has {len(parameters)} weight arrays, but set_weights received "
                             f"{len(weights)}.")
        owners = [layer for layer in self.layers for _ in layer.weights]
        values = [_weight_value(layer, p, value) for layer, p, value in zip(owners, parameters, weights)]
        for parameter, value in zip(parameters, values):
            parameter.data[...] = value

    # ----- files: written and read by the io ring --------------------------------
    # The seam to the file formats: a module with save_model(model, path), save_weights(model, path) and
    # load_weights(model, path), plugged in by tinynet/__init__.py (tinynet/io/formats.py). The core
    # itself writes no file.
    files = None

    def save(self, path):
        """Write the whole model (architecture, weights, compile settings, optimizer state) to ``path``;
        ``tinynet.models.load_model(path)`` reads it back.

        The name chooses the format (``tinynet/io/formats.py``): ``.keras`` a Keras 3 archive and
        ``.h5`` a Keras 2 HDF5 file, both of which Keras loads (they need ``pip install tinynet[h5]``);
        any other name tinynet's own ``.npz``, which also keeps the random generator's state.
        """
        self._files().save_model(self, path)

    def save_weights(self, path):
        """Write only the weights to ``path``; ``load_weights`` reads them into a model of the same architecture.
        ``'w.weights.h5'`` is Keras 3's weights file, ``'w.h5'`` Keras 2's, any other name tinynet's ``.npz``."""
        self._files().save_weights(self, path)

    def load_weights(self, path):
        """Load weights written by ``save_weights`` or ``save`` (tinynet's or Keras's) into this built model;
        shapes must match, else nothing changes."""
        self._files().load_weights(self, path)

    def _files(self):
        if Model.files is None:
            raise RuntimeError("No file formats are installed: tinynet.core writes no file itself. `import tinynet` "
                               "installs them (tinynet.io.formats.install()).")
        return Model.files

    def count_params(self):
        self._check_built("count_params()")
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print Keras's table (tf.keras 2.11+ layout): layer (type), output shape, parameters, totals."""
        self._check_built("summary()")
        print_summary(self, line_length, positions, print_fn)


def _json_value(value):
    # Shapes are tuples (lists in JSON) and NumPy numbers appear in configs.
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"to_json cannot write a {type(value).__name__} ({value!r}) found in a layer's config.")


def _weight_value(layer, parameter, value):
    """``value`` checked to replace ``parameter.data``: its shape, real and finite in the weight's dtype."""
    where = f"Layer '{layer.name}': weight '{parameter.name}'"
    try:
        value = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{where}: the array given for it could not be read ({error}).") from None
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{where} needs real numbers, but the array given for it has dtype {value.dtype}.")
    if value.shape != parameter.shape:
        raise ValueError(f"{where} has shape {parameter.shape}, but the array given for it has shape {value.shape}.")
    with np.errstate(over="ignore", invalid="ignore"):
        cast = value.astype(parameter.data.dtype)
    bad = ~np.isfinite(cast)
    if bad.any():
        raise ValueError(f"{where}: the array given for it holds {int(bad.sum())} value(s) NaN, infinite or too large "
                         f"for {parameter.data.dtype} (the first: {value[bad].flat[0].item()!r}).")
    return cast
