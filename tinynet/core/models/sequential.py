"""``Sequential``: a linear stack of layers, each feeding the next."""
from contextlib import contextmanager
from typing import NamedTuple

from .. import regularizers
from ..checks import check_unique_layer_name
from ..layers.activations import Linear
from ..layers.base import Layer, as_shape
from ..layers.core import InputLayer
from ...fast import fused_block
from ..validation import check_input_shape
from .model import Model
from .nested import ModelLayer


class TensorSpec(NamedTuple):
    """What flows in or out of a model: its shape (batch axis first, ``None``), dtype and name."""

    shape: tuple
    dtype: str
    name: str


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Dense(512, activation='relu', input_shape=(784,)), ...])``.

    forward:   x -> layer_1 -> layer_2 -> ... -> y
    backward:  dL/dy -> layer_n.backward -> ... -> layer_1.backward -> dL/dx

    Each run BatchNormalization -> ReLU -> MaxPooling2D (the CNN's block after a Conv2D) goes
    through one fused op as one step (``tinynet.fast.fused_block``): the same numbers in about 0.75x
    the time (``benchmarks/profile_cnn.py --block-only``). ``impl='naive'`` on those layers runs
    them one by one.
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._input_shape = None  # without the batch axis
        self._stopped_at_logits = False  # where the last forward stopped; backward starts there
        self._steps = []                 # the last forward's walk: layers, and fused blocks
        for layer in layers or []:
            self.add(layer)

    # ----- building --------------------------------------------------------
    def add(self, layer):
        """Append a layer, or a model (it becomes one layer: ``ModelLayer``); builds it at once when the
        input shape is known (as Keras does)."""
        if isinstance(layer, Model):
            layer = ModelLayer(layer)
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a tinynet layer instance. Received: {layer!r} of type {type(layer).__name__}.")
        if any(layer is other for other in self.layers):
            raise ValueError(
                f"Layer '{layer.name}' is already in model '{self.name}': a layer object can appear only once "
                "in a model (Keras refuses it too), since its weights and caches belong to one place. "
                "Create a new layer for each position.")
        check_unique_layer_name(layer, self.layers, self.name)
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError("An InputLayer must be the first layer of a Sequential model.")
            self._input_shape = layer.declared_input_shape
            return
        input_shape = self._input_shape
        if not self.layers and layer.declared_input_shape is not None:
            input_shape = layer.declared_input_shape
        self.layers.append(layer)
        if input_shape is not None:
            try:
                self._build_layers(input_shape)
            except BaseException:
                self.layers.pop()
                raise
        self._input_shape = input_shape
        if self.loss is not None:  # the output activation changed: pair it with the loss again
            self.compile(*self._compiled_with)

    def pop(self):
        """Remove the last layer (Keras's ``model.pop()``); returns it."""
        if not self.layers:
            raise TypeError(f"There are no layers in model '{self.name}' to pop.")
        return self.layers.pop()

    def build(self, input_shape=None):
        """Create all weights for inputs of ``input_shape``, batch axis included: ``(None, 784)``."""
        if input_shape is not None:
            shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
            if shape is None or len(shape) < 2:
                raise ValueError(
                    "Received an invalid value for `input_shape`, expected the batch axis first, e.g. "
                    f"(None, 784) for samples of 784 values. Received: input_shape={input_shape!r}")
            self._build_layers(as_shape(shape[1:], "input_shape"))
            self._input_shape = as_shape(shape[1:], "input_shape")
            return
        if self._input_shape is None:
            raise ValueError(
                f"Model '{self.name}' cannot be built without an input shape: give the first layer "
                "`input_shape=...`, call model.build((None, ...)), or call fit / predict on data.")
        self._build_layers(self._input_shape)

    def _build_layers(self, input_shape):
        """Build the layers not built yet, checking that each fits its input; all or none of them."""
        built_now = []
        try:
            shape = tuple(input_shape)
            for layer in self.layers:
                if not layer.built:
                    built_now.append(layer)
                    layer.build(shape)
                elif tuple(layer.input_shape) != shape:
                    raise ValueError(
                        f"Layer '{layer.name}' was built for inputs of shape (None, "
                        f"{', '.join(map(str, layer.input_shape))}) but now receives (None, {', '.join(map(str, shape))}).")
                shape = layer.compute_output_shape(shape)
                layer.output_shape = (None,) + tuple(shape)
        except BaseException:
            for layer in built_now:  # a failed build leaves them as they were: unbuilt
                layer.built, layer._parameters = False, []
                layer.input_shape, layer.output_shape = layer.declared_input_shape, None
            raise

    @property
    def built(self):
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @property
    def output_shape(self):
        return self.layers[-1].output_shape if self.built else None

    @property
    def inputs(self):
        """``[TensorSpec]``: the shape, dtype and name of the model's input, as Keras's ``model.inputs`` lists
        its input tensors (tinynet has no symbolic tensors: this describes what ``predict`` takes)."""
        self._check_built("inputs")
        return [TensorSpec(self.input_shape, "float32", f"{self.layers[0].name}_input")]

    @property
    def outputs(self):
        """``[TensorSpec]``: the shape, dtype and name of the model's output (Keras's ``model.outputs``)."""
        self._check_built("outputs")
        return [TensorSpec(tuple(self.output_shape), "float32", self.layers[-1].name)]

    def _ensure_built(self, x):
        if not self.layers:
            raise ValueError(f"Model '{self.name}' has no layers: add some before using it.")
        if x.ndim < 2 or 0 in x.shape[1:]:
            raise ValueError(
                f"Model '{self.name}' expects a batch of samples, an array of shape (N, ...) whose samples are "
                f"not empty. Received an array of shape {x.shape}."
                + (" For one sample, pass x[None]." if x.ndim == 1 else ""))
        if not self.built:
            self._build_layers(self._input_shape or tuple(x.shape[1:]))
            self._input_shape = self._input_shape or tuple(x.shape[1:])
        check_input_shape(self, x)

    # ----- forward and backward ----------------------------------------------
    def output_activation(self):
        """The last layer's activation: the layer itself (Softmax, Activation('softmax')'s) or its ``activation``."""
        if not self.layers:
            return None
        last = self.layers[-1]
        return getattr(last, "activation", last)

    def forward(self, x, training=False, logits=False, on_layer=None):
        """x -> each layer in turn; with ``logits=True`` (and ``loss_takes_logits``) the last layer runs
        without its output activation, so the result is the logits z. ``on_layer(layer, x_in, y_out)``
        after each layer (a fused block reports each of its layers)."""
        self._stopped_at_logits = logits and self.loss_takes_logits
        self._steps = fused_block.steps(self.layers)
        self.activity_outputs = []
        last = self._steps[-1]
        for layer in self._steps:
            x_in = x
            if layer is last and self._stopped_at_logits:
                if layer is self.output_activation():
                    break  # a Softmax / Sigmoid layer: the logits are its input
                if layer.activity_regularizer is not None:
                    raise NotImplementedError(f"Layer '{layer.name}': an activity_regularizer on the output layer "
                                              "of a model whose loss takes its logits is not supported.")
                with _without_activation(layer):
                    x = layer.forward(x, training=training)
            else:
                x = layer.forward(x, training=training)
            if layer.activity_regularizer is not None:  # its penalty r(x) / N joins Model.regularization_loss
                self.activity_outputs.append((layer, x))
            if on_layer is not None:
                fused_block.report_forward(on_layer, layer, x_in, x)
        return x

    def backward(self, dloss, input_gradient=False, on_layer=None):
        """Backpropagate ``dloss`` through the layers in reverse order, from where ``forward`` stopped.

        Training needs no gradient with respect to the data, so by default the walk
        stops at the first layer with trainable weights, and that layer skips its dx
        (for a first Dense layer that is a whole matrix product saved). Pass
        ``input_gradient=True`` to get dL/dx back (gradient checks do).
        """
        steps = self._steps
        trainable = [i for i, layer in enumerate(steps) if layer.trainable_weights]
        first = 0 if input_gradient or not trainable else trainable[0]
        last = len(steps) - 1
        dout = dloss
        for index in range(last, first - 1, -1):
            layer = steps[index]
            layer.needs_input_gradient = input_gradient or index > first
            for penalized, y in self.activity_outputs:
                if penalized is layer:  # d(r(y) / N)/dy joins the gradient flowing into the layer's output
                    penalty = regularizers.penalty_gradient(layer.activity_regularizer, y, f"{layer.name}/activity")
                    dout = dout + penalty / len(y)
            if index == last and self._stopped_at_logits:
                if layer is self.output_activation():
                    continue  # forward stopped before it: dloss is already dL/dz
                with _without_activation(layer):
                    dx = layer.backward(dout)
            else:
                dx = layer.backward(dout)
            layer.add_regularization_gradients()
            if on_layer is not None:
                fused_block.report_backward(on_layer, layer, dout, dx)
            dout = dx
        return dout if input_gradient else None


_IDENTITY = Linear(name="identity")


@contextmanager
def _without_activation(layer):
    """Run a layer with its output activation replaced by the identity (``Dense(..., activation='softmax')``
    then gives its logits, and its backward takes dL/dlogits)."""
    activation, layer.activation = layer.activation, _IDENTITY
    try:
        yield
    finally:
        layer.activation = activation
