"""``Sequential``: a stack of layers with Keras's compile / fit / evaluate / predict.

One training step is the whole of backprop:

    y_pred = forward through every layer          (each layer caches what it needs)
    loss   = loss.forward(y, y_pred)
    dout   = loss.backward()                      dL/dy_pred
    backward through the layers in reverse        (each stores its weights' grads)
    optimizer.apply(trainable parameters)
"""
import math

import numpy as np

from .. import losses, metrics as metrics_module, optimizers
from ..callbacks import CallbackList, History, ProgbarLogger, TerminateOnNaN
from ..layers.activations import Sigmoid, Softmax
from ..layers.base import Layer, _unique_name, as_shape
from ..layers.core import InputLayer
from ..progbar import Progbar
from ..utils import rng
from ..guards import StopAfterBatch, TrainingDivergedError
from ..validation import (as_float_array, as_targets, check_batch_size, check_epochs, check_input_shape,
                         check_same_length, check_validation_data, check_validation_split, check_values)


class Sequential:
    """A linear stack of layers: ``Sequential([Dense(512, activation='relu', input_shape=(784,)), ...])``."""

    def __init__(self, layers=None, name=None):
        self.name = name or _unique_name("sequential")
        self.layers = []
        self._input_shape = None  # without the batch axis
        self.optimizer = None
        self.loss = None
        self.metrics = []  # (name, function) pairs
        self.stop_training = False
        self.history = None
        self._warned_unscaled = False  # the 0-255 input warning is given once per model
        for layer in layers or []:
            self.add(layer)

    # ----- building --------------------------------------------------------
    def add(self, layer):
        """Append a layer; builds it at once when the input shape is known (as Keras does)."""
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a tinynet layer instance. Received: {layer!r} of type {type(layer).__name__}.")
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("An InputLayer must be the first layer of a Sequential model.")
            self._input_shape = layer.declared_input_shape
            return
        if not self.layers and layer.declared_input_shape is not None:
            self._input_shape = layer.declared_input_shape
        self.layers.append(layer)
        if self._input_shape is not None:
            self._build_layers(self._input_shape)

    def build(self, input_shape=None):
        """Create all weights for inputs of ``input_shape``, batch axis included: ``(None, 784)``."""
        if input_shape is not None:
            self._input_shape = as_shape(tuple(input_shape)[1:], "input_shape")
        if self._input_shape is None:
            raise ValueError(
                f"Model '{self.name}' cannot be built without an input shape: give the first layer "
                "`input_shape=...`, call model.build((None, ...)), or call fit / predict on data.")
        self._build_layers(self._input_shape)

    def _build_layers(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            elif tuple(layer.input_shape) != shape:
                raise ValueError(
                    f"Layer '{layer.name}' was built for inputs of shape (None, {', '.join(map(str, layer.input_shape))}) "
                    f"but now receives (None, {', '.join(map(str, shape))}).")
            shape = layer.compute_output_shape(shape)
            layer.output_shape = (None,) + tuple(shape)

    @property
    def built(self):
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    def _ensure_built(self, x):
        if not self.layers:
            raise ValueError(f"Model '{self.name}' has no layers: add some before using it.")
        if not self.built:
            self._input_shape = self._input_shape or tuple(x.shape[1:])
            self._build_layers(self._input_shape)
        check_input_shape(self, x)

    # ----- compiling -------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics, each by Keras name or as an object."""
        if loss is None:
            raise ValueError("compile needs a `loss`, e.g. loss='categorical_crossentropy'.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        if isinstance(metrics, str):
            metrics = [metrics]
        self.metrics = [metrics_module.get(m, self.loss.name) for m in metrics or []]
        self._fuse_output_with_loss()

    def _fuse_output_with_loss(self):
        """Fuse a final Softmax (Sigmoid) with cross-entropy (binary cross-entropy).

        The loss then works on the logits: finite for any logits, with gradient
        ``(p - y) / N``; see ``layers.activations.Softmax``.
        """
        for layer in self.layers:
            for activation in (layer, getattr(layer, "activation", None)):
                if isinstance(activation, (Softmax, Sigmoid)):
                    activation.fused_with_loss = False
        self._fused_activation = None
        self._training_loss = self.loss
        if not self.layers or self.loss.from_logits:
            return
        last = self.layers[-1]
        output = last if isinstance(last, (Softmax, Sigmoid)) else getattr(last, "activation", None)
        pairs = isinstance(output, Softmax) and self.loss.name in (
            "categorical_crossentropy", "sparse_categorical_crossentropy") or (
            isinstance(output, Sigmoid) and self.loss.name == "binary_crossentropy")
        if pairs:
            output.fused_with_loss = True
            self._fused_activation = output
            self._training_loss = losses.with_logits(self.loss)

    def _check_compiled(self, method):
        if self.loss is None:
            raise RuntimeError(
                f"You must compile model '{self.name}' before calling {method}: "
                "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy']).")

    # ----- one batch -------------------------------------------------------
    def _forward(self, x, training):
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def _backward(self, dout, input_gradient=False):
        """Backpropagate ``dout = dL/dy_pred`` through the layers in reverse order.

        Training needs no gradient with respect to the data, so by default the walk
        stops at the first layer with trainable weights, and that layer skips its dx
        (for a first Dense layer that is a whole matrix product saved). Pass
        ``input_gradient=True`` to get dL/dx back (gradient checks do).
        """
        trainable = [i for i, layer in enumerate(self.layers) if layer.trainable_weights]
        first = 0 if input_gradient or not trainable else trainable[0]
        for index in range(len(self.layers) - 1, first - 1, -1):
            layer = self.layers[index]
            layer.needs_input_gradient = input_gradient or index > first
            dout = layer.backward(dout)
        return dout if input_gradient else None

    def _loss_value(self, y, y_pred):
        fused = self._fused_activation
        return self._training_loss.forward(y, fused.logits if fused is not None else y_pred)

    def _train_step(self, x, y, epoch=None, batch=None):
        """Forward, loss, backward, update. Returns (loss, y_pred) for the batch.

        The step is all or nothing: a non-finite loss is caught before the update it
        would drive, and the optimizer applies an update to all weights or, if it
        fails half-way or would make a weight non-finite, to none
        (``Optimizer.apply``). Divergence raises TrainingDivergedError.
        """
        y_pred = self._forward(x, training=True)
        loss = self._loss_value(y, y_pred)
        if not math.isfinite(loss):
            raise self._diverged(f"the loss became {loss}", epoch, batch, loss)
        self._backward(self._training_loss.backward())
        if not self.optimizer.apply(self.trainable_weights):
            raise self._diverged("the update made some weights NaN or infinite", epoch, batch, loss)
        return loss, y_pred

    def _diverged(self, reason, epoch, batch, loss):
        where = "" if epoch is None else f" at epoch {epoch + 1}, batch {batch + 1}"
        lr = self.optimizer.learning_rate
        return TrainingDivergedError(
            f"Training diverged{where}: {reason}. The model keeps the weights of the last finite step "
            f"(this batch's update was not applied). Try a lower learning rate, e.g. "
            f"{type(self.optimizer).__name__}(learning_rate={lr / 10:g}) instead of {lr:g}, and check that "
            "the inputs are scaled (pixels / 255).", epoch=epoch, batch=batch, loss=loss)

    def _batch_logs(self, loss, y, y_pred):
        return [("loss", loss)] + [(name, fn(y, y_pred)) for name, fn in self.metrics]

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
        values = [value for _, value in logs]
        return values[0] if len(values) == 1 else values

    def train_on_batch(self, x, y):
        """One gradient step on one batch; returns the loss (and metrics) before the step."""
        self._check_compiled("train_on_batch")
        x, y = self._prepare(x, y)
        loss, y_pred = self._train_step(x, y)
        return self._result(self._batch_logs(loss, y, y_pred))

    def test_on_batch(self, x, y):
        self._check_compiled("test_on_batch")
        x, y = self._prepare(x, y)
        y_pred = self._forward(x, training=False)
        return self._result(self._batch_logs(self._loss_value(y, y_pred), y, y_pred))

    def predict_on_batch(self, x):
        x = self._prepare_x(x)
        return self._forward(x, training=False)

    # ----- whole data sets -------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0, **kwargs):
        """Train for ``epochs`` epochs; returns a ``History`` (``history.history['val_loss']`` ...).

        As in Keras: ``validation_split`` holds out the *last* fraction of the data
        before any shuffling; the training data is reshuffled every epoch; the last
        partial batch is used; the metrics shown are running means over the epoch.

        When training goes wrong the model stays usable:

        - The loss or the weights become NaN or infinite: fit stops at that batch and
          raises ``tinynet.TrainingDivergedError`` naming the epoch and batch. The
          weights are those of the last finite step; the optimizer's moment
          estimates are not rolled back, so compile again (with a lower learning
          rate) before training on.
        - Ctrl-C: fit finishes the current batch, then stops and re-raises
          KeyboardInterrupt, as a Ctrl-C in a Keras fit surfaces. A second Ctrl-C
          stops at once; a step cut short that way is rolled back.

        Either way callbacks' ``on_train_end`` runs first (a checkpoint can save),
        and ``model.history`` holds the completed epochs only: the epoch that was
        cut short is not recorded.
        """
        if "nb_epoch" in kwargs:  # Keras 1 spelling, used by older tutorials
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments: {sorted(kwargs)}")
        self._check_compiled("fit")
        batch_size = check_batch_size(batch_size)
        epochs = check_epochs(epochs)
        validation_split = check_validation_split(validation_split)
        if validation_data is not None:
            check_validation_data(validation_data)
        x, y = self._prepare(x, y)
        val = None
        if validation_data is not None:
            val = self._prepare(*validation_data, "validation_data[0]", "validation_data[1]")
        elif validation_split:
            split_at = int(len(x) * (1.0 - validation_split))
            if split_at == 0 or split_at == len(x):
                raise ValueError(f"validation_split={validation_split} leaves no training or no validation "
                                 f"samples out of {len(x)}.")
            x, y, val = x[:split_at], y[:split_at], (x[split_at:], y[split_at:])

        n = len(x)
        steps = math.ceil(n / batch_size)
        self.history = History()
        default = [ProgbarLogger(verbose)] if verbose else []
        callbacks = CallbackList(default + list(callbacks or []) + [self.history], self,
                                 {"epochs": epochs, "steps": steps, "verbose": verbose, "batch_size": batch_size})
        self.stop_training = False
        callbacks.on_train_begin()
        try:
            with StopAfterBatch() as interrupt:
                for epoch in range(initial_epoch, epochs):
                    callbacks.on_epoch_begin(epoch)
                    order = rng().permutation(n) if shuffle else np.arange(n)
                    sums = np.zeros(1 + len(self.metrics))
                    seen = 0
                    for step in range(steps):
                        callbacks.on_train_batch_begin(step)
                        batch = order[step * batch_size:(step + 1) * batch_size]
                        xb, yb = x[batch], y[batch]
                        loss, y_pred = self._train_step(xb, yb, epoch, step)
                        batch_logs = self._batch_logs(loss, yb, y_pred)
                        sums += len(batch) * np.array([value for _, value in batch_logs])
                        seen += len(batch)
                        logs = {name: float(total / seen) for (name, _), total in zip(batch_logs, sums)}
                        callbacks.on_train_batch_end(step, logs)
                        if interrupt.requested:
                            raise KeyboardInterrupt(f"fit stopped by Ctrl-C after epoch {epoch + 1}, batch {step + 1}")
                        if self.stop_training:
                            break
                    if val is not None:
                        val_logs = self._evaluate_arrays(*val, batch_size)
                        logs.update({f"val_{name}": value for name, value in val_logs})
                    callbacks.on_epoch_end(epoch, logs)
                    if interrupt.requested:
                        raise KeyboardInterrupt(f"fit stopped by Ctrl-C at the end of epoch {epoch + 1}")
                    if self.stop_training:
                        break
        except (KeyboardInterrupt, TrainingDivergedError) as error:
            # Stopped early, but not abruptly: the weights are those of the last whole
            # step, and callbacks (a checkpoint) get their on_train_end before the error goes up.
            if isinstance(error, TrainingDivergedError):
                error.history = self.history
            callbacks.on_train_end()
            if isinstance(error, TrainingDivergedError) and any(
                    isinstance(callback, TerminateOnNaN) for callback in callbacks.callbacks):
                # The user asked for Keras's behaviour: stop quietly and return the History.
                print(f"Batch {error.batch}: Invalid loss, terminating training")
                return self.history
            raise
        callbacks.on_train_end()
        return self.history

    def _evaluate_arrays(self, x, y, batch_size, progbar=None):
        sums = np.zeros(1 + len(self.metrics))
        names = ["loss"] + [name for name, _ in self.metrics]
        for step, start in enumerate(range(0, len(x), batch_size)):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            y_pred = self._forward(xb, training=False)
            sums += len(xb) * np.array([value for _, value in self._batch_logs(self._loss_value(yb, y_pred), yb, y_pred)])
            if progbar is not None:
                progbar.update(step + 1, list(zip(names, sums / min(start + batch_size, len(x)))))
        return list(zip(names, (float(s) for s in sums / len(x))))

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

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1):
        """Loss (and metrics) on a data set: a float, or ``[loss, metric, ...]``."""
        self._check_compiled("evaluate")
        batch_size = check_batch_size(batch_size)
        x, y = self._prepare(x, y)
        batch_size = self._inference_batch_size(batch_size)
        progbar = Progbar(math.ceil(len(x) / batch_size), verbose=verbose) if verbose else None
        return self._result(self._evaluate_arrays(x, y, batch_size, progbar))

    def predict(self, x, batch_size=None, verbose=0):
        """Outputs for ``x``, computed in batches of ``batch_size`` (inference mode)."""
        batch_size = check_batch_size(batch_size)
        x = self._prepare_x(x)
        batch_size = self._inference_batch_size(batch_size)
        steps = math.ceil(len(x) / batch_size)
        progbar = Progbar(steps, verbose=verbose) if verbose else None
        outputs = []
        for step in range(steps):
            outputs.append(self._forward(x[step * batch_size:(step + 1) * batch_size], training=False))
            if progbar is not None:
                progbar.update(step + 1)
        return np.concatenate(outputs)

    # ----- weights ---------------------------------------------------------
    @property
    def weights(self):
        return [p for layer in self.layers for p in layer.weights]

    @property
    def trainable_weights(self):
        return [p for layer in self.layers for p in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [p for layer in self.layers for p in layer.non_trainable_weights]

    def _check_built(self, method):
        if not self.built:
            raise ValueError(
                f"Model '{self.name}' has not been built yet, so {method} has nothing to show. Give the first "
                "layer `input_shape=...`, call model.build((None, ...)), or fit the model first.")

    def get_weights(self):
        """All weight arrays, layer by layer in Keras's order (Dense: kernel, bias)."""
        self._check_built("get_weights()")
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Load a list of arrays as returned by ``get_weights`` (from tinynet or Keras)."""
        self._check_built("set_weights()")
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self.layers)
        if len(weights) != expected:
            raise ValueError(f"Model '{self.name}' has {expected} weight arrays, but set_weights received "
                             f"{len(weights)}.")
        start = 0
        for layer in self.layers:
            count = len(layer.weights)
            layer.set_weights(weights[start:start + count])
            start += count

    def save(self, path):
        """Write the whole model (architecture, weights, compile settings, optimizer state) to ``path``;
        ``tinynet.models.load_model(path)`` reads it back. See ``tinynet.io.npz_model``."""
        from ..io import npz_model  # here: the file formats are loaded when a file is written

        npz_model.write_model(self, path, rng_state=rng().bit_generator.state)

    def save_weights(self, path):
        """Write only the weights to ``path``; ``load_weights`` reads them into a model of the same architecture."""
        from ..io import npz_model

        npz_model.write_weights(self, path)

    def load_weights(self, path):
        """Load weights written by ``save_weights`` (or ``save``) into this built model; shapes must match."""
        from .loading import load_weights  # here: loading.py imports this package
        load_weights(self, path)

    def count_params(self):
        self._check_built("count_params()")
        return sum(layer.count_params() for layer in self.layers)

    def summary(self, print_fn=print):
        """Print Keras's table: layer (type), output shape, parameter count, then the totals."""
        self._check_built("summary()")
        def row(layer, output_shape, params):
            return f" {layer}".ljust(29) + f"{output_shape}".ljust(26) + str(params)
        def shape(s):
            return "(" + ", ".join("None" if d is None else str(d) for d in s) + ("," if len(s) == 1 else "") + ")"
        lines = [f'Model: "{self.name}"', "_" * 65, row("Layer (type)", "Output Shape", "Param #"), "=" * 65]
        for i, layer in enumerate(self.layers):
            lines.append(row(f"{layer.name} ({type(layer).__name__})", shape(layer.output_shape), layer.count_params()))
            lines.append("" if i < len(self.layers) - 1 else "=" * 65)
        trainable = sum(p.data.size for p in self.trainable_weights)
        total = self.count_params()
        lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}", "_" * 65]
        for line in lines:
            print_fn(line)


# Keras spells it keras.models.load_model; after Sequential, which loading.py uses.
from .loading import load_model, load_weights, model_from_config, model_from_json  # noqa: E402
