"""The functional API's graph: ``Input`` gives a symbolic tensor; calling a layer on symbolic tensors adds a node.

    inputs = Input(shape=(784,))          a KerasTensor: shape (None, 784), no value
    h = Dense(64, activation="relu")(inputs)
    outputs = Dense(10)(h + Dense(64)(h))  (a fork: h feeds two places)
    model = Model(inputs, outputs)

Nothing runs here: each call checks the shapes, builds the layer, and records a ``GraphNode``
(layer, input tensors, output tensors) on the layer (``layer.inbound_nodes``). ``Model(inputs,
outputs)`` then collects the nodes between its inputs and outputs in an order where every
node comes after the nodes it reads (``nodes_between``); running the model calls each node's
layer on values, in that order, and the tape records what ran (``tinynet/core/tape.py``).
"""
import numpy as np

from .tape import training_mode
from .tensor import KerasTensor, Tensor


class GraphNode:
    """One call of a layer in a functional graph: ``outputs = layer(inputs)``.

    ``structure``: how the layer was called, ``'single'`` (``layer(x)``), ``'list'`` (``Add()([a, b])``)
    or a tuple of keys (a dict); ``training``: a value fixed at graph-building time, or None.
    """

    def __init__(self, layer, inputs, structure, outputs, training=None):
        self.layer, self.inputs, self.structure, self.outputs, self.training = (
            layer, inputs, structure, outputs, training)

    def arguments(self, values):
        """The layer's call argument rebuilt from the values of ``inputs``, in the call's structure."""
        if self.structure == "single":
            return values[0]
        if self.structure == "list":
            return list(values)
        return dict(zip(self.structure, values))

    def __repr__(self):
        return f"<GraphNode {self.layer.name}: {[t.name for t in self.inputs]} -> {[t.name for t in self.outputs]}>"


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None, sparse=None, tensor=None):
    """Keras's ``keras.Input(shape=(28, 28, 1), name='image')``: the symbolic tensor a functional model starts from.

    Its shape has ``None`` for the batch axis (``batch_size`` is accepted; batches may have any size).
    Also accepted as the first entry of a ``Sequential`` (it then declares the input shape).
    """
    from .layers.core import InputLayer  # the layers import this module: import late

    if sparse:
        raise ValueError("Input(sparse=True): tinynet has no sparse tensors.")
    if tensor is not None:
        raise ValueError("Input(tensor=...) is not supported in tinynet: give shape=... instead.")
    if batch_shape is not None:
        shape = tuple(batch_shape)[1:]
    layer = InputLayer(shape=shape, name=name, dtype=dtype)
    out = KerasTensor((None,) + layer.declared_input_shape, "float32" if dtype is None else dtype, layer.name)
    node = GraphNode(layer, [], "single", [out])
    out.history = (node, 0)
    layer.inbound_nodes.append(node)
    layer.built, layer.output_shape = True, out.shape
    return out


def call_symbolic(layer, inputs, training, kwargs):
    """``layer(keras_tensors)``: build the layer for their shapes, find its output shape, record the node."""
    if kwargs:
        raise TypeError(f"Layer '{layer.name}' got unexpected arguments in a functional graph: {sorted(kwargs)}")
    if isinstance(inputs, dict):
        structure, flat = tuple(inputs), list(inputs.values())
    elif isinstance(inputs, (list, tuple)):
        structure, flat = "list", list(inputs)
    else:
        structure, flat = "single", [inputs]
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Layer '{layer.name}' was called on a mix of symbolic tensors and values "
                            f"({type(t).__name__}): in a functional graph, every input comes from Input() or a layer.")
    node = GraphNode(layer, flat, structure, [], training)
    shapes = [t.shape for t in flat]
    for shape in _output_shapes(layer, node, shapes):
        index = len(node.outputs)
        node.outputs.append(KerasTensor(shape, "float32", f"{layer.name}/{index}" if index else layer.name,
                                        (node, index)))
    layer.inbound_nodes.append(node)
    return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)


def _output_shapes(layer, node, shapes):
    """The output shapes (batch axis None) of ``layer`` called on inputs of ``shapes``.

    A layer that says its output shape (``compute_output_shape``) is asked; any other -- a Keras-style
    ``call``, a model, a user's layer that did not write it -- is run once on a small batch of zeros,
    so a user layer's shape is found where it is made, not assumed.
    """
    no_batch = [tuple(s[1:]) for s in shapes]
    argument = no_batch[0] if node.structure == "single" else no_batch
    if layer.has_forward and type(layer).compute_output_shape is not _base_compute_output_shape():
        if not layer.built:
            layer.build(argument)
        try:
            out = layer.compute_output_shape(argument)
        except (ValueError, TypeError):
            raise
        layer.output_shape = (None,) + tuple(out)
        return [(None,) + tuple(out)]
    zeros = [Tensor(np.zeros((2,) + s, dtype=np.float32)) for s in no_batch]
    with np.errstate(all="ignore"), training_mode(False):
        out = layer(node.arguments(zeros), training=False)
    flat = out if isinstance(out, (list, tuple)) else [out]
    shapes = [(None,) + tuple(np.shape(t))[1:] for t in flat]
    layer.output_shape = shapes[0] if len(shapes) == 1 else shapes
    return shapes


def _base_compute_output_shape():
    from .layers.base import Layer  # the layers import this module: import late
    return Layer.compute_output_shape


def operation(name, function, operands):
    """``a + b`` on symbolic tensors: a node whose layer applies ``function`` (a tensor op) to the values, so
    arithmetic can sit between layers in a functional graph. Constants (numbers, arrays) are kept in the layer."""
    from .layers.core import Lambda  # the layers import this module: import late

    symbolic = [t for t in operands if isinstance(t, KerasTensor)]
    slots = [isinstance(t, KerasTensor) for t in operands]
    constants = [None if is_symbolic else t for t, is_symbolic in zip(operands, slots)]

    def apply(values):
        values = iter(values if isinstance(values, list) else [values])
        return function(*[next(values) if is_symbolic else c for is_symbolic, c in zip(slots, constants)])

    layer = Lambda(apply, name=None)
    layer.name = f"{name}_{layer.name}"
    return layer(symbolic if len(symbolic) > 1 else symbolic[0])


def node_tensors(layer, which):
    """``layer.input`` / ``layer.output``: the tensors of its first functional call."""
    if not layer.inbound_nodes:
        raise AttributeError(
            f"Layer '{layer.name}' has never been called on a symbolic tensor, so it has no {which}. In a Sequential, "
            f"build the model first (give the first layer input_shape=... or call model.build), then use it.")
    node = layer.inbound_nodes[0]
    tensors = node.inputs if which == "input" else node.outputs
    if which == "input" and node.structure == "single":
        return tensors[0]
    return tensors[0] if len(tensors) == 1 else list(tensors)


def nodes_between(inputs, outputs, model_name):
    """The graph nodes that compute ``outputs`` from ``inputs``, each after the nodes it reads.

    A depth-first walk from the outputs, kept on an explicit stack (a chain of 100,000 layers needs
    no Python recursion). Refuses, naming what is wrong: an output that needs an input not given
    (a tensor of another graph), a cycle, and an input the outputs do not depend on.
    """
    order, state, used_inputs = [], {}, set()
    input_ids = {id(t) for t in inputs}
    for output in outputs:
        stack = [(output, False)]
        while stack:
            tensor, leaving = stack.pop()
            if id(tensor) in input_ids:
                used_inputs.add(id(tensor))
                continue
            node, _ = tensor.history
            if leaving:  # every input of the node is placed: the node comes next
                state[id(node)] = "done"
                order.append(node)
                continue
            if not node.inputs:  # an Input that is not one of the model's inputs
                raise ValueError(
                    f"Model '{model_name}': the output depends on {tensor.name!r} (shape {tensor.shape}), which is "
                    f"not one of the model's inputs {[t.name for t in inputs]}. Every path must start at an input "
                    "passed to Model(inputs, outputs); a tensor of another model cannot be used here.")
            if state.get(id(node)) == "done":
                continue
            if state.get(id(node)) == "open":
                raise ValueError(f"Model '{model_name}': the graph has a cycle through layer '{node.layer.name}'.")
            state[id(node)] = "open"
            stack.append((tensor, True))
            stack.extend((t, False) for t in reversed(node.inputs))
    unused = [t.name for t in inputs if id(t) not in used_inputs]
    if unused:
        raise ValueError(f"Model '{model_name}': the input(s) {unused} are not connected to the outputs "
                         f"{[t.name for t in outputs]}. Remove them from the inputs, or use them.")
    return order


def layers_by_depth(inputs, outputs):
    """The layers of a graph in Keras's order (``model.layers``, the weights, the summary, the files).

    A node's depth is its distance from the outputs (an output's node 0; a node feeding a node of
    depth d at least d + 1; all nodes of a shared layer as deep as its deepest). Layers go deepest
    first, and layers of equal depth in the order a depth-first walk from the outputs first meets
    them. Keras orders a functional model's layers so (``map_graph``), and its weight files list
    them in this order. The walk is kept on an explicit stack: no recursion, however deep the graph.
    """
    input_ids = {id(t) for t in inputs}
    met, finished, order = {}, set(), []  # order: each node after the nodes it reads
    for output in outputs:
        stack = [(output, False)]
        while stack:
            tensor, leaving = stack.pop()
            node = tensor.history[0]
            if leaving:
                if id(node) not in finished:
                    finished.add(id(node))
                    order.append(node)
                continue
            if id(node) in finished:
                continue
            met.setdefault(id(node.layer), len(met))
            stack.append((tensor, True))
            if id(tensor) not in input_ids:
                stack.extend((t, False) for t in reversed(node.inputs))
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(order):  # every node before the nodes it reads
        d = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        node_depth[id(node)] = layer_depth[id(node.layer)] = d
        layers[id(node.layer)] = node.layer
        for t in node.inputs:
            parent = t.history[0]
            node_depth[id(parent)] = max(node_depth.get(id(parent), 0), d + 1)
    return sorted(layers.values(), key=lambda layer: (-layer_depth[id(layer)], met[id(layer)]))
