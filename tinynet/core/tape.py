"""The tape: what the forward pass computed, in order, and the one backward walk over it.

Every model runs the same way. While a tape records, each layer call and each op on tensors
appends a ``Node``: what ran, its input tensors, its output tensors, and what its backward
needs (a layer's ``cache``; an op's vector-Jacobian product). A ``Sequential`` records a
chain, a functional model a graph with forks and merges, a subclassed model whatever its
``call`` did. Backprop is then one walk over the nodes in reverse (``backward``):

    for node in reversed(tape):             reverse order: a node runs after every node that used
        dout = grads[node's output]         its output, so the gradient arriving there is complete
        dx = node.backward(dout)            the layer's own backward, or the op's VJP
        grads[input] += dx                  the fork rule: a value used in several places gets the
                                            SUM of the gradients flowing back along each use

The last line is the multivariable chain rule at a fork. A layer used twice (shared weights)
is two nodes with two caches; the gradients of its weights from both uses are summed the same way.
"""
import contextvars

import numpy as np

_current = contextvars.ContextVar("tinynet_tape", default=None)
_training = contextvars.ContextVar("tinynet_training", default=None)


class Node:
    """One step of the forward pass: a layer's forward, or an op.

    ``inputs`` and ``outputs`` are tensors (``tinynet.core.tensor.Tensor``). For a layer,
    ``cache`` is what its forward stored in ``layer.cache`` (restored before its backward,
    so a layer called twice backpropagates each call with its own cache). For an op, ``vjp``
    maps the output gradient(s) to one gradient per input (None where none flows).
    """

    __slots__ = ("layer", "op", "inputs", "outputs", "cache", "vjp", "structure", "__weakref__")

    def __init__(self, inputs, outputs, layer=None, cache=None, vjp=None, op=None, structure=None):
        self.layer, self.op, self.inputs, self.outputs = layer, op, inputs, outputs
        self.cache, self.vjp, self.structure = cache, vjp, structure

    @property
    def name(self):
        return self.layer.name if self.layer is not None else self.op

    def backward(self, douts, written):
        """The gradients of this node's inputs (one per input, None where none flows) from its outputs'.

        A layer's backward writes its weights' ``grad``; when this walk already gave them one (the layer's
        other use), the earlier gradient is kept and added: a shared weight's gradient is the sum over its uses.
        """
        needs_dx = False
        for t in self.inputs:
            if t.requires_grad:
                needs_dx = True
                break
        layer = self.layer
        if layer is None:  # an op: its VJP, each gradient in its input's dtype
            return [_like(dx, t) for dx, t in zip(self.vjp(douts[0] if len(douts) == 1 else douts), self.inputs)]
        parameters = layer._parameters
        earlier = [(p, p.grad.copy()) for p in parameters if id(p) in written] if written else ()
        layer.cache = self.cache
        layer.needs_input_gradient = needs_dx
        dx = layer.backward(douts[0] if len(douts) == 1 else douts)
        for p, grad in earlier:
            p.grad = p.grad + grad
        for p in parameters:
            written.add(id(p))
        return dx if self.structure == "list" else (dx,)

    def __repr__(self):
        return f"<Node {self.name}: {len(self.inputs)} in, {len(self.outputs)} out>"


class Tape:
    """The nodes recorded while the tape is active (``with Tape() as tape: ...``), in the order they ran.

    ``state_updates`` collects the non-trainable values the recorded layers want committed with the
    step (BatchNormalization's moving statistics), in order.
    """

    def __init__(self, record_nodes=True):
        self.record_nodes = record_nodes  # False in inference: the losses layers add are still collected
        self.nodes = []
        self.state_updates = []
        self.losses = []          # loss terms added by layers' calls (``add_loss``), as tensors
        self._token = None

    def __enter__(self):
        self._token = _current.set(self)
        return self

    def __exit__(self, *exc):
        _current.reset(self._token)
        self._token = None      # a model keeping its recorded tape can still be deep-copied
        return False

    def record(self, node):
        self.nodes.append(node)

    def backward(self, seeds, keep=None, on_node=None):
        """Walk the nodes in reverse from ``seeds`` ({tensor: dL/dtensor}); return ``(grads, written)``.

        ``grads`` maps ``id(tensor)`` to the summed gradient of every tensor reached that was not
        consumed on the way (the inputs of the graph, asked-for leaves); layers write their weights'
        ``Parameter.grad``, op leaves that are parameters add theirs. ``written`` is the set of
        ``id(parameter)`` given a gradient by this walk: summed over every use, never stale.
        ``keep``, a dict, receives ``id(tensor) -> gradient`` of every tensor on the way (the trace);
        ``on_node(node, douts, dxs)`` is called after each node's backward (the learner's tools watch the walk).
        """
        grads = {id(t): g for t, g in seeds.items()}
        written = set()
        for node in reversed(self.nodes):
            outputs = node.outputs
            if len(outputs) == 1:
                dout = grads.pop(id(outputs[0]), None)
                if dout is None:
                    continue  # nothing flows back through this node: it does not lead to the loss
                douts = (dout,)
            else:
                douts = [grads.pop(id(t), None) for t in outputs]
                if all(d is None for d in douts):
                    continue
                douts = [np.zeros_like(t.value) if d is None else d for t, d in zip(outputs, douts)]
            if keep is not None:
                for t, d in zip(outputs, douts):
                    keep[id(t)] = d
            dxs = node.backward(douts, written)
            if on_node is not None:
                on_node(node, douts, dxs)
            for t, dx in zip(node.inputs, dxs):
                if dx is None or not t.requires_grad:
                    continue
                if t.parameter is not None:      # a weight used in an op: its gradient goes to the weight
                    _add_to_parameter(t.parameter, dx, written)
                    continue
                key = id(t)
                grads[key] = dx if key not in grads else grads[key] + dx      # the fork rule
        return grads, written


def _like(dx, t):
    """An op's input gradient in the input's dtype: a float64 scalar on the way (a loss's mean) must not turn a
    float32 model's backward pass into float64."""
    value = t.value
    if dx is not None and isinstance(value, np.ndarray) and np.asarray(dx).dtype != value.dtype and \
            value.dtype.kind == "f":
        return np.asarray(dx, dtype=value.dtype)
    return dx


def _add_to_parameter(parameter, g, written):
    """A gradient reaching a parameter used in an op (``x @ self.w`` in a ``call``): the first one is
    written, later ones added."""
    g = np.asarray(g, dtype=parameter.data.dtype).reshape(parameter.shape)
    if id(parameter) in written:
        parameter.grad = parameter.grad + g
    else:
        parameter.grad = g.copy()
        written.add(id(parameter))


def current():
    """The tape recording now, or None."""
    return _current.get()


def learning_phase():
    """``training`` for a layer called without it: what the enclosing model call said (None: inference)."""
    return _training.get()


class training_mode:
    """``with training_mode(True):`` layers called inside without ``training=`` run in training mode."""

    def __init__(self, training):
        self.training = training

    def __enter__(self):
        self._token = _training.set(self.training)

    def __exit__(self, *exc):
        _training.reset(self._token)
        return False
