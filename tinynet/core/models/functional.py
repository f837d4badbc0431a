"""The functional API: ``Model(inputs, outputs)``, a graph of layer calls.

    inputs = Input(shape=(784,))
    h = Dense(64, activation="relu")(inputs)
    y = Dense(10, activation="softmax")(layers.add([h, Dense(64)(h)]))
    model = Model(inputs, y)

The graph was recorded as the layers were called on symbolic tensors (``tinynet/core/graph.py``);
this model keeps the nodes between its inputs and outputs in an order where each comes after the
nodes it reads. Running it (``call``) calls each node's layer on values in that order, and the
tape records what ran: a value that feeds two layers (``h`` above) is one tensor read twice, and
the backward walk adds the two gradients that come back to it.
"""
import numpy as np

from ..graph import layers_by_depth, nodes_between
from ..layers.core import InputLayer
from ..tensor import KerasTensor, Tensor, as_tensor
from .model import Model


class Functional(Model):
    """A model made by ``Model(inputs, outputs)``: one or several inputs and outputs (a tensor, a list,
    or a dict by name), any graph of layers between them, layers shared by several calls."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, input=None, output=None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        inputs = input if inputs is None else inputs
        outputs = output if outputs is None else outputs
        self._input_structure, self._inputs = _structure(inputs, "inputs", self.name)
        self._output_structure, self._outputs = _structure(outputs, "outputs", self.name)
        self._nodes = nodes_between(self._inputs, self._outputs, self.name)
        for t in self._inputs:
            if not isinstance(t.history[0].layer, InputLayer):
                raise ValueError(f"Model '{self.name}': the inputs must come from Input(...); {t.name!r} is the "
                                 f"output of layer '{t.history[0].layer.name}'.")
        seen = layers_by_depth(self._inputs, self._outputs)  # Keras's order: its files and weights follow it
        names = [layer.name for layer in seen]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Model '{self.name}': two different layers are named {duplicates}; layer names "
                             "in a model must be unique (Keras refuses them too).")
        self._layers = seen
        self.built = True
        self._output_shapes = [tuple(t.shape) for t in self._outputs]

    # ----- the graph ---------------------------------------------------------
    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def input(self):
        return self._inputs[0] if len(self._inputs) == 1 else list(self._inputs)

    @property
    def output(self):
        return self._outputs[0] if len(self._outputs) == 1 else list(self._outputs)

    @property
    def input_names(self):
        return [t.history[0].layer.name for t in self._inputs]

    @property
    def output_names(self):
        return [t.history[0].layer.name for t in self._outputs]

    @property
    def input_shape(self):
        shapes = [tuple(t.shape) for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @input_shape.setter
    def input_shape(self, value):
        pass

    @property
    def output_layers(self):
        return [t.history[0].layer for t in self._outputs]

    def output_activations(self):
        layers = self.output_layers
        return [getattr(layer, "activation", None) or layer for layer in layers]

    def _ensure_built(self, xs):
        if len(xs) != len(self._inputs):
            raise ValueError(f"Model '{self.name}' takes {len(self._inputs)} input(s) {self.input_names}; "
                             f"received {len(xs)} array(s).")
        for x, t, name in zip(xs, self._inputs, self.input_names):
            if tuple(x.shape[1:]) != tuple(t.shape[1:]):
                raise ValueError(f"Input '{name}' of model '{self.name}' expects arrays of shape {t.shape}; "
                                 f"received shape {x.shape}.")

    def get_config(self):
        """The graph as plain data: each layer's config and the calls made of it (``inbound_nodes``), the
        inputs and outputs (``tinynet/io/graph_config.py``, reached through the files seam)."""
        return self._files().model_config(self)

    # ----- running -----------------------------------------------------------
    def call(self, inputs, training=None):
        """Each node's layer on the values of its inputs, in the graph's order; the outputs in the structure
        they were given in (a tensor, a list, a dict)."""
        values = {id(t): v for t, v in zip(self._inputs, self._flat_inputs(inputs))}
        for node in self._nodes:
            argument = node.arguments([values[id(t)] for t in node.inputs])
            out = node.layer(argument, training=training if node.training is None else node.training)
            for t, v in zip(node.outputs, out if isinstance(out, (list, tuple)) else [out]):
                values[id(t)] = v
        outputs = [values[id(t)] for t in self._outputs]
        if self._output_structure == "single":
            return outputs[0]
        if self._output_structure == "list":
            return outputs
        return dict(zip(self._output_structure, outputs))

    def _flat_inputs(self, inputs):
        if isinstance(inputs, dict):
            missing = [name for name in self.input_names if name not in inputs]
            if missing:
                raise ValueError(f"Model '{self.name}' was called without the input(s) {missing}.")
            inputs = [inputs[name] for name in self.input_names]
        elif not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        if len(inputs) != len(self._inputs):
            raise ValueError(f"Model '{self.name}' takes {len(self._inputs)} input(s) {self.input_names}; it was "
                             f"called on {len(inputs)}.")
        flat = []
        for value, t in zip(inputs, self._inputs):
            if not (isinstance(value, Tensor) or hasattr(value, "as_tensor")):
                value = np.asarray(value)
                value = value if value.dtype.kind == "f" else value.astype(np.float32)  # labels, pixels as uint8
            value = as_tensor(value)
            if tuple(value.shape[1:]) != tuple(t.shape[1:]):
                raise ValueError(f"Input {t.name!r} of model '{self.name}' expects shape {t.shape}; received "
                                 f"{tuple(value.shape)}.")
            flat.append(value)
        return flat


def _structure(tensors, argument, name):
    """``(structure, flat list)``: 'single', 'list', or the dict's keys; every entry a symbolic tensor."""
    if isinstance(tensors, dict):
        structure, flat = tuple(tensors), list(tensors.values())
    elif isinstance(tensors, (list, tuple)):
        structure, flat = "list", list(tensors)
    else:
        structure, flat = "single", [tensors]
    if not flat:
        raise ValueError(f"Model '{name}': `{argument}` is empty.")
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model '{name}': `{argument}` must be symbolic tensors, from Input(...) and layer calls "
                            f"on them. Received: {type(t).__name__} {t!r:.80}")
    return structure, flat
