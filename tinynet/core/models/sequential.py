"""``Sequential``: a linear stack of layers, each feeding the next."""
from typing import NamedTuple

from ..checks import check_unique_layer_name
from ..layers.base import Layer, as_shape
from ..layers.core import InputLayer
from ..tensor import KerasTensor
from ..validation import check_input_shape
from .model import Model


class TensorSpec(NamedTuple):
    """What flows in or out of a model: its shape (batch axis first, ``None``), dtype and name."""

    shape: tuple
    dtype: str
    name: str


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Dense(512, activation='relu', input_shape=(784,)), ...])``.

    forward:   x -> layer_1 -> layer_2 -> ... -> y      (``call``: each layer records its node)
    backward:  the tape's walk, which for a chain is layer_n.backward -> ... -> layer_1.backward

    A Sequential is a functional graph that happens to be a chain: it runs through the same
    ``Layer.__call__`` and the same backward walk as every other model. Once its input shape
    is known it also has that graph's symbolic tensors (``model.input``, ``model.output``,
    ``layer.output``), so ``Model(model.input, model.get_layer('dense').output)`` works.
    """

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._input_shape = None  # without the batch axis
        self._graph = None        # (input KerasTensor, output KerasTensor, the nodes this model added)
        for layer in layers or []:
            self.add(layer)

    # ----- building --------------------------------------------------------
    def add(self, layer):
        """Append a layer, or a model (a model is a layer); builds it at once when the input shape is known
        (as Keras does). ``Input(shape=...)`` or an ``InputLayer`` first declares the input shape."""
        if isinstance(layer, KerasTensor):  # Sequential([Input(shape=(784,)), ...]), as Keras 3 allows
            layer = layer.history[0].layer
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a tinynet layer instance. Received: {layer!r} of type {type(layer).__name__}.")
        if layer is self or (isinstance(layer, Model) and _contains(layer, self)):
            raise ValueError(f"Model '{self.name}' cannot be added to itself (directly or inside '{layer.name}'): "
                             "a model that contains itself would run forever.")
        if any(layer is other for other in self._layers):
            raise ValueError(
                f"Layer '{layer.name}' is already in model '{self.name}': a layer object can appear only once "
                "in a Sequential (Keras refuses it too). To share its weights between two places, use the "
                "functional API: y = layer(layer(x)); to have two layers, create two.")
        check_unique_layer_name(layer, self._layers, self.name)
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("An InputLayer must be the first layer of a Sequential model.")
            self._input_shape = layer.declared_input_shape
            return
        input_shape = self._input_shape
        if not self._layers and _known_input_shape(layer) is not None:
            input_shape = _known_input_shape(layer)
        self._layers.append(layer)
        if input_shape is not None:
            try:
                self._build_layers(input_shape)
            except BaseException:
                self._layers.pop()
                raise
        self._input_shape = input_shape
        self._changed()

    def pop(self):
        """Remove the last layer (Keras's ``model.pop()``); returns it."""
        if not self._layers:
            raise TypeError(f"There are no layers in model '{self.name}' to pop.")
        layer = self._layers.pop()
        self._changed()
        return layer

    def _changed(self):
        """The chain changed: its graph is made anew, and the loss paired again with the new output."""
        self._drop_graph()
        if self.built:
            self._make_graph()
        if self._compiled_with is not None:
            self._apply_compile_settings()

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
            self._changed()
            return
        if self._input_shape is None:
            raise ValueError(
                f"Model '{self.name}' cannot be built without an input shape: give the first layer "
                "`input_shape=...`, call model.build((None, ...)), or call fit / predict on data.")
        self._build_layers(self._input_shape)
        self._changed()

    def _build_layers(self, input_shape):
        """Build the layers not built yet, checking that each fits its input; all or none of them."""
        built_now = []
        try:
            shape = tuple(input_shape)
            for layer in self._layers:
                if not layer.built:
                    built_now.append(layer)
                    if layer.has_forward:
                        layer.build(shape)
                elif layer.has_forward and layer.input_shape is not None and tuple(layer.input_shape) != shape:
                    raise ValueError(
                        f"Layer '{layer.name}' was built for inputs of shape (None, "
                        f"{', '.join(map(str, layer.input_shape))}) but now receives (None, {', '.join(map(str, shape))}).")
                shape = self._output_of(layer, shape)
        except BaseException:
            for layer in built_now:  # a failed build leaves them as they were: unbuilt
                layer.built, layer._parameters = False, []
                layer.input_shape, layer.output_shape = layer.declared_input_shape, None
            raise

    @staticmethod
    def _output_of(layer, shape):
        """The output shape (no batch axis) of ``layer`` for inputs of ``shape``: asked of a layer that says
        it, else found by calling the layer on a symbolic tensor (which builds a model or Keras-style layer)."""
        if layer.has_forward and type(layer).compute_output_shape is not Layer.compute_output_shape:
            out = tuple(layer.compute_output_shape(shape))
            layer.output_shape = (None,) + out
            return out
        out = layer(KerasTensor((None,) + shape))
        layer.inbound_nodes.pop()  # only the shape was wanted; the chain's graph is made by _make_graph
        return tuple(out.shape[1:])

    def _make_graph(self):
        """The chain as a functional graph of symbolic tensors (``model.input``, ``layer.output``)."""
        from ..graph import Input
        inputs = Input(shape=self._input_shape, name=f"{self._layers[0].name}_input" if self._layers else None)
        x, added = inputs, []
        for layer in self._layers:
            x = layer(x)
            added.append((layer, layer.inbound_nodes[-1]))
        self._graph = (inputs, x, added)
        self._output_shapes = [tuple(x.shape)]

    def _drop_graph(self):
        if self._graph is not None:
            for layer, node in self._graph[2]:
                if node in layer.inbound_nodes:
                    layer.inbound_nodes.remove(node)
        self._graph, self._output_shapes = None, None

    @property
    def layers(self):
        return list(self._layers)

    @property
    def built(self):
        return bool(self._layers) and all(layer.built for layer in self._layers)

    @built.setter
    def built(self, value):
        pass  # a Sequential is built when all its layers are

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + tuple(self._input_shape)

    @input_shape.setter
    def input_shape(self, value):
        pass  # set by its first layer or by build

    @property
    def output_shape(self):
        return self._layers[-1].output_shape if self.built else None

    @output_shape.setter
    def output_shape(self, value):
        pass

    @property
    def input(self):
        self._check_built("input")
        return self._graph[0]

    @property
    def output(self):
        self._check_built("output")
        return self._graph[1]

    @property
    def inputs(self):
        """``[KerasTensor]``: the symbolic tensor the model takes (shape, dtype, name), as Keras's ``model.inputs``."""
        return [self.input]

    @property
    def outputs(self):
        """``[KerasTensor]``: the symbolic tensor the model gives (Keras's ``model.outputs``)."""
        return [self.output]

    @property
    def input_names(self):
        return [f"{self._layers[0].name}_input"] if self._layers else ["input_1"]

    @property
    def output_names(self):
        return [self._layers[-1].name] if self._layers else ["output_1"]

    @property
    def output_shapes(self):
        return [self.output_shape]

    @property
    def output_layers(self):
        return [self._layers[-1]] if self._layers else [None]

    def output_activations(self):
        """The last layer's activation: the layer itself (Softmax, Activation('softmax')'s) or its ``activation``."""
        if not self._layers:
            return [None]
        last = self._layers[-1]
        return [getattr(last, "activation", None) or last]

    def _ensure_built(self, xs):
        x = xs[0]
        if not self._layers:
            raise ValueError(f"Model '{self.name}' has no layers: add some before using it.")
        if len(xs) != 1:
            raise ValueError(f"Model '{self.name}' (Sequential) takes one input; received a list of {len(xs)} arrays.")
        if x.ndim < 2 or 0 in x.shape[1:]:
            raise ValueError(
                f"Model '{self.name}' expects a batch of samples, an array of shape (N, ...) whose samples are "
                f"not empty. Received an array of shape {x.shape}."
                + (" For one sample, pass x[None]." if x.ndim == 1 else ""))
        if not self.built:
            self._build_layers(self._input_shape or tuple(x.shape[1:]))
            self._input_shape = self._input_shape or tuple(x.shape[1:])
            self._changed()
        check_input_shape(self, x)

    # ----- running -----------------------------------------------------------
    def call(self, inputs, training=None):
        """x -> each layer in turn; every layer call records its node on the tape."""
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x


def _known_input_shape(layer):
    """The input shape (no batch axis) a first layer declares: ``input_shape=``, or a built model's."""
    if layer.declared_input_shape is not None:
        return layer.declared_input_shape
    if isinstance(layer, Model) and layer.built and isinstance(layer.input_shape, tuple):
        return tuple(layer.input_shape[1:])
    return None


def _contains(model, target):
    """Whether ``target`` is ``model`` or one of the layers inside it, at any depth."""
    stack = [model]
    while stack:
        layer = stack.pop()
        if layer is target:
            return True
        stack.extend(layer._layers)
    return False
