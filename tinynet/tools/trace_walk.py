"""What one training step actually computed, read off the tape: the trace's record, with no maths of its own.

The step runs through the model's public step (``forward(..., on_node=)``, ``compute_loss``,
``backward(..., on_node=)``). Every node of the tape is one call of a layer (or one op on
tensors): its input and output tensors, and the ``cache`` its own forward stored. The backward
walk reports, after each node, the gradient that reached its output and the gradient(s) its own
backward returned. And every op a layer looks up in the op registry is watched
(``ops.watching``): what it returned (batch norm's mean and var) and whether the fast twin ran.

A layer and the activation it made (``Dense(..., activation='relu')``) are one *step*, as the user
wrote them; a layer called twice (shared weights) is two steps, each with its own cache.
"""
from dataclasses import dataclass, field

import numpy as np

from ..core import ops
from ..core.tape import current


@dataclass
class OpCall:
    """One op a layer looked up and called: its registry name, the function that ran and what it returned."""

    name: str
    function: object
    result: object

    @property
    def fast(self):
        return ops.is_fast_twin(self.name, self.function)

    @property
    def where(self):
        return self.function.__module__.replace(".", "/") + ".py"


@dataclass
class Step:
    """One step of the walk: a layer's node (and its activation's node), or an op on tensors."""

    layer: object                    # the layer (None for an op on tensors)
    nodes: list                      # [its node] or [its node, its activation's node]
    name: str
    call: int = 0                    # which call of a shared layer (0, 1, ...)
    paired: bool = False             # the loss took this step's pre-activation (the logits)
    forward_ops: list = field(default_factory=list)     # OpCall, per node
    backward_ops: list = field(default_factory=list)
    douts: dict = field(default_factory=dict)           # id(node) -> the gradient that reached its output
    dxs: dict = field(default_factory=dict)             # id(node) -> what its backward returned, per input
    grads: dict = field(default_factory=dict)           # parameter name -> what THIS call's backward wrote

    @property
    def first(self):
        return self.nodes[0]

    @property
    def output(self):
        """The tensor this step hands on (the logits, for a paired step)."""
        return self.first.outputs[0] if self.paired else self.nodes[-1].outputs[0]


def _steps(nodes, target_value):
    """The nodes grouped into steps, in forward order (mirrors ``step_api``'s grouping of a layer with its
    activation); the softmax (sigmoid) node whose input the loss took is left out."""
    steps, i = [], 0
    while i < len(nodes):
        node = nodes[i]
        nxt = nodes[i + 1] if i + 1 < len(nodes) else None
        if node.layer is not None and node.layer.pairs_with and node.inputs[0].value is target_value:
            i += 1
            continue                               # the loss took this activation's input
        if node.layer is not None and nxt is not None and nxt.layer is not None and \
                nxt.layer.owner is node.layer and nxt.inputs[0] is node.outputs[0]:
            paired = node.outputs[0].value is target_value
            steps.append(Step(node.layer, [node, nxt], node.layer.name, paired=paired))
            i += 2
            continue
        layer = node.layer.owner or node.layer if node.layer is not None else None
        steps.append(Step(layer, [node], layer.name if layer is not None else node.op))
        i += 1
    seen = {}
    for step in steps:
        step.call = seen.get(step.name, 0)
        seen[step.name] = step.call + 1
    return steps


class Walk:
    """Runs one step of ``model`` on ``(x, y)`` and keeps what each node computed."""

    def __init__(self, model, x, y, training, loss_gradient):
        self.nodes, self.pending = [], []
        self.forward_calls = []                   # (index of the node the call belongs to, OpCall)
        self.written = {}                         # parameter id -> its grad after the walk's last write
        with ops.watching(self.watch):
            self.out = model.forward(x, training=training, logits=True, on_node=self.nodes.append)
            self.loss = model.compute_loss(y, self.out)
            self.dloss = np.asarray(loss_gradient(model))
            self.steps = _steps(self.nodes, self.out)
            self.by_node = {id(node): step for step in self.steps for node in step.nodes}
            for index, call in self.forward_calls:
                if index < len(self.nodes) and id(self.nodes[index]) in self.by_node:
                    self.by_node[id(self.nodes[index])].forward_ops.append(call)
            self.dx = model.backward(self.dloss, input_gradient=True, on_node=self.after_backward)
        self.consumers = self._consumers()

    def watch(self, name, impl, op):
        def watched(*args, **kwargs):
            result = op(*args, **kwargs)
            call = OpCall(name, op, result)
            tape = current()
            if tape is not None:                  # forward: the call belongs to the next node recorded
                self.forward_calls.append((len(tape.nodes), call))
            else:                                 # backward: to the node whose backward is running
                self.pending.append(call)
            return result
        return watched

    def after_backward(self, node, douts, dxs):
        step = self.by_node.get(id(node))
        calls, self.pending = self.pending, []
        if step is None:
            return
        step.backward_ops += calls
        step.douts[id(node)] = douts[0] if len(douts) == 1 else list(douts)
        step.dxs[id(node)] = list(dxs)
        if node.layer is not None:
            for p in node.layer.trainable_weights:
                # the walk adds a shared weight's uses: this call's own gradient is the increase
                before = self.written.get(id(p))
                step.grads[p.name] = p.grad.copy() if before is None else p.grad - before
                self.written[id(p)] = p.grad.copy()

    def _consumers(self):
        """``id(tensor) -> [(step, input index, gradient it sent back)]`` for every tensor a step read."""
        found = {}
        for step in self.steps:
            first = step.first
            dxs = step.dxs.get(id(first))
            for index, tensor in enumerate(first.inputs):
                dx = dxs[index] if dxs is not None and index < len(dxs) else None
                found.setdefault(id(tensor), []).append((step, index, dx))
        return found

    def producer(self, tensor):
        """The step whose output ``tensor`` is, or None (the model's input)."""
        return next((s for s in self.steps if s.output is tensor), None)
